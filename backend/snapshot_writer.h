// backend/snapshot_writer.h
//
// SnapshotWriter: builds a new snapshot from a parent (or from nothing) by
// rewriting only the paths that change. Untouched directories keep their tree
// blob ids, so a run's cost grows with the change, not with the tenant.
//
// Files are chunked (content-defined), hashed, deduplicated, compressed and
// sealed as they stream in, on a pool of worker threads; content is never held
// whole in memory. Commit() writes the changed trees bottom-up, flushes the
// packs and index, and writes the manifest last (the commit point). A writer
// destroyed without Commit() leaves the repository as it was (plus unreferenced
// packs that prune removes).
//
// Thread safety: one thread at a time per writer; different files may be
// streamed from different threads only through separate FileSinks opened and
// finished in that thread (the tree itself is updated under a mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backend/repository.h"

namespace m365vault {

struct EntryAttributes {
  uint32_t mode = 0;     // 0 = default (0644 files, 0755 directories)
  int64_t mtime_ns = 0;  // last modified
  std::map<std::string, std::string> metadata;
};

// Receives one file's bytes in order; Finish() adds the file to the tree.
class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual Status Append(ByteView data) = 0;
  // Completes the file; no Append after this. Returns its size. The last
  // chunks may still be stored in the background: the file joins the tree
  // when they are, and a failure to store them (a storage error) is returned
  // by the next Lookup, Remove, Rename, MakeDirectory, ListNames or Commit.
  virtual Result<uint64_t> Finish() = 0;
  // Discards everything appended (e.g. a download that failed); the tree is
  // not changed. Also what destruction without Finish() does.
  virtual void Abandon() = 0;
};

struct SnapshotWriterOptions {
  // Bytes of directory listings held in memory before the largest are moved
  // to a temporary spill database (backend/entry_spill.h): the writer's
  // memory for listings stays under this whatever a directory's size.
  size_t entry_budget = 16 << 20;
};

class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;

  // `parent` (may be null) is the snapshot the new one starts from.
  static Result<std::unique_ptr<SnapshotWriter>> Start(Repository& repo, const SnapshotInfo* parent,
                                                       SnapshotWriterOptions options = {});

  // Creates or replaces the file at `path` (parents are created as needed,
  // with default attributes).
  virtual Result<std::unique_ptr<FileSink>> BeginFile(std::string_view path, const EntryAttributes& attrs) = 0;
  Status PutFile(std::string_view path, ByteView content, const EntryAttributes& attrs);

  // Creates the directory (and parents) or updates its attributes; existing
  // children are kept.
  virtual Status MakeDirectory(std::string_view path, const EntryAttributes& attrs) = 0;
  // Removes a file or a whole subtree. NotFound if absent.
  virtual Status Remove(std::string_view path) = 0;
  // Moves a file or subtree (no content is rewritten). NotFound if `from` is
  // absent; AlreadyExists if `to` exists.
  virtual Status Rename(std::string_view from, std::string_view to) = 0;
  // The entry at `path` in the snapshot being built, or nullopt.
  virtual Result<std::optional<TreeEntry>> Lookup(std::string_view path) = 0;
  // Names in the directory at `path` (empty if absent).
  virtual Result<std::vector<std::string>> ListNames(std::string_view path) = 0;

  // Writes the trees of the subtree at `path` now and forgets them (files
  // still being stored under it are waited for), so the writer holds only
  // the directories still changing, not every directory the run touched:
  // a run calls it when it is done with a user. Later changes under `path`
  // load those trees back. Nothing to do if `path` was not changed.
  virtual Status Persist(std::string_view path) = 0;

  // Stores `state` as a kMeta blob and records it in the manifest.
  virtual Status SetSyncState(ByteView state) = 0;

  // Writes trees, packs, index and the manifest. `fields` supplies tenant,
  // object type, time, job id, partial flag, failed items and tags; root,
  // parent, id and stats are filled in. No further calls after Commit.
  virtual Result<SnapshotInfo> Commit(SnapshotInfo fields) = 0;
};

// Splits "a/b/c" into components; InvalidArgument for empty or invalid ones.
Result<std::vector<std::string>> SplitPath(std::string_view path);

}  // namespace m365vault
