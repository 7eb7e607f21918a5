// backend/maintenance.h
//
// Check and prune: the repository's maintenance operations.
//
// Check verifies structure (every index entry points into an existing pack
// whose trailer agrees; every snapshot's trees decode, a split tree's parts
// agree with its index, and every blob they reference is indexed) and, with
// read_data, that every blob in every pack authenticates, decompresses and
// hashes to its id.
//
// Prune removes what no kept snapshot references, under an exclusive lock:
// mark every blob reachable from the remaining manifests (trees, a split
// tree's index and parts, chunks, sync states); delete packs with no live
// blob; repack packs whose live share is below `repack_threshold` (live
// blobs written into new packs); write one new index for everything that
// remains; only then delete the old index files and finally the old packs.
// A crash at any point leaves every remaining snapshot readable: until the
// new index is written the old one still describes the old packs; after, the
// new one describes the new packs and unremoved old ones are merely garbage.
//
// Thread safety: both take what locks they need; callers need none.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backend/repository.h"

namespace m365vault {

struct CheckOptions {
  bool read_data = false;
  // Called with a short line now and then on long work ("packs 12/340").
  std::function<void(const std::string&)> progress;
};

struct CheckReport {
  // trees: distinct tree blobs (a split tree counts its index and each part).
  uint64_t snapshots = 0, trees = 0, data_blobs = 0, packs = 0, bytes_read = 0;
  std::vector<std::string> errors;  // one line per problem found
  bool ok() const { return errors.empty(); }
};

// Returns a report; a non-OK Status only when the check itself could not run
// (storage unreachable, lock held by prune).
Result<CheckReport> Check(Repository& repo, const CheckOptions& options);

struct PruneOptions {
  // Snapshots to delete before pruning (their manifests go first).
  std::vector<std::string> forget;
  // Repack packs whose live bytes are below this share of their size.
  double repack_threshold = 0.5;
  bool dry_run = false;
  std::function<void(const std::string&)> progress;
};

struct PruneReport {
  uint64_t snapshots_forgotten = 0;
  uint64_t packs_deleted = 0, packs_repacked = 0, packs_kept = 0;
  uint64_t blobs_live = 0, blobs_removed = 0;
  uint64_t bytes_before = 0, bytes_after = 0;
  uint64_t unfinished_bytes_removed = 0;  // temp files of killed writers
};

Result<PruneReport> Prune(Repository& repo, const PruneOptions& options);

}  // namespace m365vault
