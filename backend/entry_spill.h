// backend/entry_spill.h
//
// EntrySpill: directory entries (name -> encoded body, as SnapshotWriter
// holds them) kept in a private temporary SQLite database instead of memory.
// A SnapshotWriter moves its largest directories here when the entries it
// holds pass a budget, so its memory does not grow with the size of a
// directory (a mail folder of a million messages) or with the number of
// directories a run touches.
//
// The database is SQLite's anonymous temporary database: its file lives in
// TMPDIR (or /var/tmp, /tmp), is unlinked as soon as it is created (nothing is
// left behind, even by a crash, and no other process can open it by name),
// and only pages beyond a small cache (kSpillCacheKiB) are written to it.
// Names are in the clear in it (they are the sort key); bodies too.
//
// Each directory is a numbered set of rows (NewDir); names sort by bytes, as
// std::string does, so ForEach yields the order tree blobs are written in.
//
// Thread safety: none; the writer calls it under its tree mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "backend/bytes.h"
#include "backend/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace m365vault {

// Page cache of the spill database: what it costs in memory at most.
inline constexpr int kSpillCacheKiB = 4096;

class EntrySpill {
 public:
  static Result<std::unique_ptr<EntrySpill>> Open();
  ~EntrySpill();
  EntrySpill(const EntrySpill&) = delete;
  EntrySpill& operator=(const EntrySpill&) = delete;

  // A new, empty directory.
  int64_t NewDir() { return ++last_dir_; }
  // Sets (inserts or replaces) the entry `name` of `dir`.
  Status Put(int64_t dir, std::string_view name, ByteView body);
  // The body of `name`, or nullopt.
  Result<std::optional<Bytes>> Get(int64_t dir, std::string_view name);
  // Removes `name`; false if it was absent.
  Result<bool> Erase(int64_t dir, std::string_view name);
  Result<uint64_t> Count(int64_t dir);
  // Every entry of `dir` in name order. `fn` must not change this spill; a
  // non-OK Status from it stops the walk and is returned.
  Status ForEach(int64_t dir, const std::function<Status(std::string_view name, ByteView body)>& fn);
  // Removes every entry of `dir`.
  Status Drop(int64_t dir);

 private:
  EntrySpill() = default;
  Status Exec(const char* sql);
  Status Prepare(const char* sql, sqlite3_stmt** stmt);
  Status Error(int rc, const char* what);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* erase_ = nullptr;
  sqlite3_stmt* count_ = nullptr;
  sqlite3_stmt* scan_ = nullptr;
  sqlite3_stmt* drop_ = nullptr;
  int64_t last_dir_ = 0;
};

}  // namespace m365vault
