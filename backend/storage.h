// backend/storage.h
//
// Storage: where a repository's files live. A flat namespace of immutable
// objects named by relative paths ("data/3f/3f2a...", "snapshots/9c..."),
// written atomically (whole, or streamed in pieces through an ObjectWriter),
// read whole or by range, listed by prefix. Implementations: LocalStorage (a
// directory), MemStorage and FaultInjectionStorage (tests), and later Azure
// Blob Storage behind the same interface.
//
// Contract: Write and ObjectWriter::Commit make the object visible under its
// name only when it is complete and durable; a crash before then leaves no
// object (at most a temporary file the implementation ignores, and removes in
// RemoveUnfinished). Objects are never modified in place.
//
// Thread safety: implementations are safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/bytes.h"
#include "backend/status.h"

namespace m365vault {

struct ObjectInfo {
  std::string name;  // relative path, '/'-separated
  uint64_t size = 0;
};

// A new object written in pieces (a pack as it fills), so the writer need not
// hold it whole. Nothing is visible under its name until Commit, which has
// Write's guarantees; an object destroyed without a successful Commit is
// discarded. Not safe for concurrent use.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Append(ByteView data) = 0;
  virtual Status Commit() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Atomically creates or replaces `name` with `data`, durably.
  virtual Status Write(std::string_view name, ByteView data) = 0;
  // Starts writing `name` in pieces. The default gathers the pieces in memory
  // and calls Write at Commit; LocalStorage streams them to disk.
  virtual Result<std::unique_ptr<ObjectWriter>> Create(std::string_view name);
  // Reads the whole object. NotFound if absent.
  virtual Result<Bytes> Read(std::string_view name) = 0;
  // Reads `length` bytes at `offset`. Corruption if the object is shorter.
  virtual Result<Bytes> ReadRange(std::string_view name, uint64_t offset, uint64_t length) = 0;
  // Size of an object; NotFound if absent.
  virtual Result<uint64_t> Size(std::string_view name) = 0;
  // Every object whose name starts with `prefix` (e.g. "snapshots/"), in no
  // particular order. Temporary files are never listed.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // Removes an object; OK if it was already absent.
  virtual Status Remove(std::string_view name) = 0;
  // Removes what writes that never completed left behind (the temp file of a
  // pack whose process was killed) and returns the bytes freed. Only while no
  // one writes: prune calls it under its exclusive lock. The default has
  // nothing to remove.
  virtual Result<uint64_t> RemoveUnfinished() { return uint64_t{0}; }
  // A human-readable location, for messages ("/srv/backup/contoso").
  virtual std::string Describe() const = 0;
};

}  // namespace m365vault
