// backend/tree_builder.h
//
// TreeBuilder: writes one directory's listing while its entries stream in,
// in name order, holding only the part being filled. The cut rule below
// (docs/format.md, "Split trees") ends a part after an entry whose name
// hashes to a boundary, so parts are content-defined: an entry inserted or
// removed changes the part it falls in (and rarely a neighbour), and every
// other part is the same blob as before and dedups. Each part is saved as
// soon as it ends, as a version-1 tree blob; a directory of two or more parts
// is then saved as an index blob naming them (version 2). A directory the rule
// leaves in one part is that part alone: a plain version-1 blob, byte for byte
// what EncodeTree writes, so a small directory keeps the id it always had.
//
// Memory: the current part (about kMaxPartBytes at most, plus one entry) and
// the list of finished parts (a name and an id each).
//
// Thread safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/tree.h"

namespace m365vault {

// The cut rule. Part of the format in effect: changing any of these (or
// PartBoundaryHash) would not make old trees unreadable, but would cut every
// large directory elsewhere, so none of its parts would dedup against the
// previous snapshot's. They must never change.
//
// A part ends after entry e when it holds at least kMinPartEntries entries
// and PartBoundaryHash(e.name) % kPartAverageEntries == 0, or when its
// entries' encoded bytes (lp(name) || body each, the header not counted)
// reach kMaxPartBytes, or when the entries end.
inline constexpr uint64_t kMinPartEntries = 256;
inline constexpr uint64_t kPartAverageEntries = 2048;
inline constexpr size_t kMaxPartBytes = size_t{4} << 20;

// FNV-1a 64 of the name's bytes, then MurmurHash3's 64-bit finalizer (fmix64)
// so that the low bits the rule tests depend on every bit of the name.
uint64_t PartBoundaryHash(std::string_view name);

class TreeBuilder {
 public:
  // Stores one tree blob (a part, a plain tree or an index) and returns its
  // id; in the snapshot writer: hash it and SaveBlob(BlobType::kTree).
  using SaveFn = std::function<Result<BlobId>(ByteView blob)>;

  explicit TreeBuilder(SaveFn save);
  TreeBuilder(const TreeBuilder&) = delete;
  TreeBuilder& operator=(const TreeBuilder&) = delete;

  // Adds an entry: `body` is its EncodeEntryBody bytes (not checked).
  // InvalidArgument for an invalid name or one not after the previous
  // entry's; otherwise the error of a failed save. After an error every call
  // returns it.
  Status Add(std::string_view name, ByteView body);
  // Saves what remains and returns the directory's id: its version-1 blob,
  // or its index. No call after this.
  Result<BlobId> Finish();

 private:
  Status SavePart();

  SaveFn save_;
  Bytes part_;          // room for the header, then the current part's entries
  uint64_t count_ = 0;  // entries in part_
  std::string first_;   // the current part's first name
  std::string last_;    // the last name added (to check the order)
  std::vector<TreePart> parts_;
  Status error_;
  bool finished_ = false;
};

// The blob(s) of `tree` (REQUIRES: normalized: sorted, names unique and
// valid), saved through `save`, cut as TreeBuilder cuts them.
Result<BlobId> WriteTree(const Tree& tree, const TreeBuilder::SaveFn& save);

}  // namespace m365vault
