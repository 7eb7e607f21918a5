// backend/tree.h
//
// Tree: the listing of one directory of a snapshot, stored as one blob (a
// large directory: an index blob over parts, see "Split trees" below). Its
// encoding is deterministic (entries sorted by name bytes, metadata sorted by
// key, no timestamps of its own), so an unchanged directory is the same blob,
// with the same id, in every snapshot: copy-on-write snapshots share it.
//
// A file entry carries its chunk list; `offsets` (derived, not stored) holds
// the running start offset of each chunk, so a read at any position finds its
// chunk by binary search (FindChunk).
//
// Thread safety: values; a decoded Tree is immutable once shared.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/blob_id.h"
#include "backend/bytes.h"
#include "backend/status.h"

namespace m365vault {

enum class EntryKind : uint8_t { kDirectory = 1, kFile = 2, kSymlink = 3 };

struct ChunkRef {
  BlobId id;
  uint32_t length = 0;  // plaintext bytes of this chunk
};

struct TreeEntry {
  std::string name;  // one path component: valid UTF-8, no '/', no NUL, not "." or ".."
  EntryKind kind = EntryKind::kFile;
  uint32_t mode = 0;       // permission bits (0644 / 0755)
  uint64_t size = 0;       // file: content bytes; directory: 0
  int64_t mtime_ns = 0;    // last modified, ns since the epoch (UTC)
  std::map<std::string, std::string> metadata;  // "m365.id", "m365.etag", ...
  BlobId subtree;                   // kDirectory: the child's tree blob
  std::vector<ChunkRef> chunks;     // kFile: content, in order
  std::vector<uint64_t> offsets;    // kFile: derived; offsets[i] = start of chunks[i]
  std::string link_target;          // kSymlink

  // Fills `offsets` from `chunks` and checks they add up to `size`.
  bool ComputeOffsets();
  // Index of the chunk holding byte `pos`, or nullopt when pos >= size.
  std::optional<size_t> FindChunk(uint64_t pos) const;
};

struct Tree {
  std::vector<TreeEntry> entries;  // sorted by name, unique

  // Binary search by name; nullptr when absent.
  const TreeEntry* Find(std::string_view name) const;
  // Sorts entries; InvalidArgument on duplicates or invalid names.
  Status Normalize();
};

// Deterministic encoding (docs/format.md, "Trees"): a version-1 blob.
Bytes EncodeTree(const Tree& tree);
// Corruption on malformed input; never reads out of bounds. InvalidArgument
// on a split tree's index (IsTreeIndex): its entries are in its parts, read
// through ForEachTreeEntry (backend/tree_walk.h) or Repository::LoadTree.
Result<Tree> DecodeTree(ByteView data);

// Entries kept encoded: the bytes EncodeTree writes for one entry after its
// name (its "body"). A directory being rewritten (SnapshotWriter) holds its
// entries this way, a fraction of a TreeEntry's size (no map nodes, no
// separate strings), and assembles the blob from them without decoding:
//   EncodedTreeHeader(n) + AppendEncodedEntry(name, body) for each entry in
//   name order == EncodeTree of the decoded entries.
Bytes EncodeEntryBody(const TreeEntry& entry);
// Corruption on malformed input; `name` is not checked.
Result<TreeEntry> DecodeEntryBody(std::string name, ByteView body);
// Walks a version-1 tree blob (checked as DecodeTree does: names valid,
// sorted, unique; bodies well formed; InvalidArgument on an index) without
// building a Tree: on_count(n) first (may be null), then on_entry(name, body)
// for each entry; a non-OK Status from on_entry stops the walk and is
// returned. The views point into `data`.
Status ForEachEncodedEntry(ByteView data, const std::function<void(size_t count)>& on_count,
                           const std::function<Status(std::string_view name, ByteView body)>& on_entry);
// As ForEachEncodedEntry, also handing each entry decoded (its name set;
// on_entry may move from it): each entry is parsed once, for both.
Status ForEachDecodedEntry(
    ByteView data, const std::function<void(size_t count)>& on_count,
    const std::function<Status(std::string_view name, ByteView body, TreeEntry& entry)>& on_entry);
Bytes EncodedTreeHeader(size_t count);
void AppendEncodedEntry(Bytes* tree, std::string_view name, ByteView body);

// True when `name` may be a tree entry name (see TreeEntry::name).
bool IsValidEntryName(std::string_view name);

// --- Split trees (format version 2; docs/format.md, "Split trees") ---
// A large directory is an index blob over parts, each part a version-1 tree
// blob holding a range of names, in name order. TreeBuilder
// (backend/tree_builder.h) writes them; ForEachTreeEntry and LoadSplitTree
// (backend/tree_walk.h) read them, checking each part against the index.

struct TreePart {
  std::string first;   // the name of the part's first entry
  BlobId id;           // the part: a version-1 tree blob
  uint64_t count = 0;  // the part's entries, >= 1
};

// True when `data` is a split tree's index (its version byte is 2); says
// nothing about whether it is well formed.
bool IsTreeIndex(ByteView data);
Bytes EncodeTreeIndex(const std::vector<TreePart>& parts);
// Corruption unless: version 2, at least 2 parts, first names valid and
// strictly increasing, counts >= 1 (and their sum fits in 64 bits), no
// trailing bytes. The parts' blobs are checked only when they are loaded.
Result<std::vector<TreePart>> DecodeTreeIndex(ByteView data);

}  // namespace m365vault
