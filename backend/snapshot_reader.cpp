// backend/snapshot_reader.cpp
#include "backend/snapshot_reader.h"

#include <algorithm>
#include <cstring>

#include "backend/snapshot_writer.h"

namespace m365vault {
namespace {
// Chunks loaded ahead of a reader, in the background.
constexpr size_t kReadAheadChunks = 8;
}  // namespace

Result<TreeEntry> SnapshotReader::Lookup(std::string_view path) {
  TreeEntry root;
  root.kind = EntryKind::kDirectory;
  root.mode = 0755;
  root.mtime_ns = info_.time_ns;
  root.subtree = info_.root;
  if (path.empty() || path == "/") return root;
  M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
  TreeEntry current = std::move(root);
  for (const std::string& part : parts) {
    if (current.kind != EntryKind::kDirectory) {
      return Status::InvalidArgument("not a directory on the way to " + std::string(path));
    }
    M365_ASSIGN_OR_RETURN(std::shared_ptr<const Tree> tree, repo_.LoadTree(current.subtree));
    const TreeEntry* e = tree->Find(part);
    if (!e) return Status::NotFound("no " + std::string(path) + " in snapshot " + info_.id);
    current = *e;
  }
  return current;
}

Result<std::shared_ptr<const Tree>> SnapshotReader::ListDirectory(std::string_view path) {
  M365_ASSIGN_OR_RETURN(TreeEntry e, Lookup(path));
  if (e.kind != EntryKind::kDirectory) return Status::InvalidArgument(std::string(path) + " is not a directory");
  return repo_.LoadTree(e.subtree);
}

Result<size_t> SnapshotReader::Read(const TreeEntry& file, uint64_t offset, std::span<uint8_t> out) {
  if (file.kind != EntryKind::kFile) return Status::InvalidArgument(file.name + " is not a file");
  if (file.offsets.size() != file.chunks.size()) return Status::Corruption(file.name + ": chunk offsets missing");
  size_t done = 0;
  std::optional<size_t> idx = file.FindChunk(offset);
  size_t last = 0;
  while (idx && *idx < file.chunks.size() && done < out.size()) {
    const ChunkRef& c = file.chunks[*idx];
    M365_ASSIGN_OR_RETURN(std::shared_ptr<const Bytes> data, repo_.LoadChunk(c.id));
    if (data->size() != c.length) return Status::Corruption("chunk " + c.id.Short() + " has the wrong length");
    uint64_t within = offset + done - file.offsets[*idx];
    size_t n = std::min<uint64_t>(c.length - within, out.size() - done);
    std::memcpy(out.data() + done, data->data() + within, n);
    done += n;
    last = *idx;
    idx = *idx + 1;
  }
  for (size_t i = last + 1; i < file.chunks.size() && i <= last + kReadAheadChunks && done > 0; ++i) {
    repo_.Prefetch(file.chunks[i].id);
  }
  return done;
}

Result<Bytes> SnapshotReader::ReadAll(const TreeEntry& file) {
  Bytes out(file.size);
  M365_ASSIGN_OR_RETURN(size_t n, Read(file, 0, out));
  if (n != file.size) return Status::Corruption(file.name + " is shorter than its size");
  return out;
}

}  // namespace m365vault
