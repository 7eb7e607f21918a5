// backend/snapshot_reader.h
//
// SnapshotReader: reads one snapshot with no FUSE in sight. `m365vault
// ls/cat/export`, the tests and the mount are front ends on this class.
// Paths are '/'-separated and relative to the snapshot root ("" is the root).
//
// Thread safety: safe for concurrent use; all state is in the Repository's
// caches.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "backend/repository.h"

namespace m365vault {

class SnapshotReader {
 public:
  // `repo` must outlive the reader.
  SnapshotReader(Repository& repo, SnapshotInfo info) : repo_(repo), info_(std::move(info)) {}

  const SnapshotInfo& info() const { return info_; }
  Repository& repository() { return repo_; }

  Result<std::shared_ptr<const Tree>> RootTree() { return repo_.LoadTree(info_.root); }
  // The entry at `path`; the root is a synthetic directory entry named "".
  // NotFound if any component is missing; InvalidArgument if a middle
  // component is not a directory.
  Result<TreeEntry> Lookup(std::string_view path);
  // The listing of the directory at `path`.
  Result<std::shared_ptr<const Tree>> ListDirectory(std::string_view path);
  // Reads up to out.size() bytes of `file` from `offset`; returns the count
  // (0 at or past the end). Starts read-ahead of the next chunks.
  Result<size_t> Read(const TreeEntry& file, uint64_t offset, std::span<uint8_t> out);
  // Whole file, for small files and tests.
  Result<Bytes> ReadAll(const TreeEntry& file);

 private:
  Repository& repo_;
  SnapshotInfo info_;
};

}  // namespace m365vault
