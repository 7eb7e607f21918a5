// backend/dir_entries.h
//
// DirEntries: the listing of one directory a SnapshotWriter is rewriting,
// name -> encoded body (EncodeEntryBody, without the name). It lives in
// memory until the writer moves it to its EntrySpill (Spill), after which
// every operation goes to the spill database: the writer spills its largest
// listings when the entries it holds pass a budget, so its memory does not
// grow with a directory's size or the number of directories it touches.
//
// Memory is accounted per entry (name, body and a fixed overhead for the map
// node and the two allocations) into a counter shared by the writer's
// listings.
//
// Thread safety: none; the writer uses it under its tree mutex.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "backend/entry_spill.h"

namespace m365vault {

class DirEntries {
 public:
  // `held` (may be null) is the writer's total of bytes held in memory.
  explicit DirEntries(size_t* held = nullptr) : held_(held) {}
  ~DirEntries() { Clear(); }
  DirEntries(const DirEntries&) = delete;
  DirEntries& operator=(const DirEntries&) = delete;

  Result<std::optional<Bytes>> Get(const std::string& name);
  Result<bool> Contains(const std::string& name);
  // Inserts or replaces.
  Status Put(const std::string& name, Bytes body);
  // False if it was absent.
  Result<bool> Erase(const std::string& name);
  // In name order; `fn` must not change this listing.
  Status ForEach(const std::function<Status(std::string_view name, ByteView body)>& fn);
  // ForEach, then empties the listing; in memory each entry is freed as
  // soon as `fn` has it (a directory about to be written never exists twice).
  Status Drain(const std::function<Status(std::string_view name, ByteView body)>& fn);
  // Empties the listing (and its rows in the spill).
  void Clear();

  bool spilled() const { return spill_ != nullptr; }
  // Bytes this listing holds in memory (0 once spilled).
  size_t memory() const { return memory_; }
  // Moves the entries to `spill`; later entries go there too.
  Status Spill(EntrySpill& spill);

 private:
  static size_t Cost(const std::string& name, const Bytes& body);
  void Account(ptrdiff_t delta);

  std::map<std::string, Bytes> entries_;  // when not spilled
  EntrySpill* spill_ = nullptr;
  int64_t dir_ = 0;  // its rows in spill_
  size_t memory_ = 0;
  size_t* held_;
};

}  // namespace m365vault
