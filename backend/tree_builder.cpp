// backend/tree_builder.cpp
#include "backend/tree_builder.h"

#include <algorithm>

namespace m365vault {
namespace {

// Kept free before a part's entries for its header (u8 version, varint
// count), written there once the count is known: the blob is handed to
// `save` in place, never copied.
constexpr size_t kHeaderRoom = 1 + 10;

}  // namespace

uint64_t PartBoundaryHash(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64: offset basis, then xor and multiply per byte
  for (char c : name) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  // fmix64: FNV-1a's low k bits depend only on the low k bits of each byte.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

TreeBuilder::TreeBuilder(SaveFn save) : save_(std::move(save)), part_(kHeaderRoom) {}

Status TreeBuilder::Add(std::string_view name, ByteView body) {
  if (!error_.ok()) return error_;
  if (finished_) return Status::InvalidArgument("TreeBuilder::Add after Finish");
  if (!IsValidEntryName(name)) return Status::InvalidArgument("invalid entry name \"" + std::string(name) + "\"");
  if (!(parts_.empty() && count_ == 0) && !(last_ < name)) {
    return Status::InvalidArgument("tree entries out of order: \"" + std::string(name) + "\" after \"" + last_ + "\"");
  }
  last_.assign(name);
  if (count_ == 0) first_.assign(name);
  AppendEncodedEntry(&part_, name, body);
  ++count_;
  if ((count_ >= kMinPartEntries && PartBoundaryHash(name) % kPartAverageEntries == 0) ||
      part_.size() - kHeaderRoom >= kMaxPartBytes) {
    return SavePart();
  }
  return Status::OK();
}

Status TreeBuilder::SavePart() {
  const Bytes header = EncodedTreeHeader(count_);
  const size_t start = kHeaderRoom - header.size();
  std::copy(header.begin(), header.end(), part_.begin() + start);
  Result<BlobId> id = save_(ByteView(part_).subspan(start));
  if (!id.ok()) {
    error_ = id.status();
    return error_;
  }
  parts_.push_back(TreePart{std::move(first_), *id, count_});
  first_.clear();
  count_ = 0;
  part_.resize(kHeaderRoom);  // keeps the capacity for the next part
  return Status::OK();
}

Result<BlobId> TreeBuilder::Finish() {
  if (!error_.ok()) return error_;
  if (finished_) return Status::InvalidArgument("TreeBuilder::Finish called twice");
  finished_ = true;
  // The last part; or, for an empty directory, its (empty) version-1 blob.
  if (count_ > 0 || parts_.empty()) M365_RETURN_IF_ERROR(SavePart());
  part_ = Bytes();
  if (parts_.size() == 1) return parts_.front().id;
  const Bytes index = EncodeTreeIndex(parts_);
  return save_(index);
}

Result<BlobId> WriteTree(const Tree& tree, const TreeBuilder::SaveFn& save) {
  TreeBuilder builder(save);
  for (const TreeEntry& e : tree.entries) M365_RETURN_IF_ERROR(builder.Add(e.name, EncodeEntryBody(e)));
  return builder.Finish();
}

}  // namespace m365vault
