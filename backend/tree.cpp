// backend/tree.cpp
#include "backend/tree.h"

#include <algorithm>

namespace m365vault {
namespace {

constexpr uint8_t kTreeVersion = 1;

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { n = 1; cp = c; }
    else if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

bool IsValidEntryName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return IsValidUtf8(name);
}

bool TreeEntry::ComputeOffsets() {
  offsets.resize(chunks.size());
  uint64_t pos = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    offsets[i] = pos;
    pos += chunks[i].length;
  }
  return pos == size;
}

std::optional<size_t> TreeEntry::FindChunk(uint64_t pos) const {
  if (pos >= size || offsets.empty()) return std::nullopt;
  auto it = std::upper_bound(offsets.begin(), offsets.end(), pos);
  return static_cast<size_t>(it - offsets.begin()) - 1;
}

const TreeEntry* Tree::Find(std::string_view name) const {
  auto it = std::lower_bound(entries.begin(), entries.end(), name,
                             [](const TreeEntry& e, std::string_view n) { return e.name < n; });
  if (it == entries.end() || it->name != name) return nullptr;
  return &*it;
}

Status Tree::Normalize() {
  std::sort(entries.begin(), entries.end(), [](const TreeEntry& a, const TreeEntry& b) { return a.name < b.name; });
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!IsValidEntryName(entries[i].name)) return Status::InvalidArgument("invalid entry name");
    if (i > 0 && entries[i].name == entries[i - 1].name) {
      return Status::InvalidArgument("duplicate entry name " + entries[i].name);
    }
  }
  return Status::OK();
}

Bytes EncodeTree(const Tree& tree) {
  Bytes out;
  PutU8(&out, kTreeVersion);
  PutVarint(&out, tree.entries.size());
  for (const TreeEntry& e : tree.entries) {
    PutLengthPrefixed(&out, AsBytes(e.name));
    PutU8(&out, static_cast<uint8_t>(e.kind));
    PutVarint(&out, e.mode);
    PutVarint(&out, e.size);
    PutVarint(&out, static_cast<uint64_t>(e.mtime_ns));
    PutVarint(&out, e.metadata.size());
    for (const auto& [k, v] : e.metadata) {  // std::map: sorted by key
      PutLengthPrefixed(&out, AsBytes(k));
      PutLengthPrefixed(&out, AsBytes(v));
    }
    switch (e.kind) {
      case EntryKind::kDirectory:
        PutBytes(&out, ByteView(e.subtree.bytes.data(), 32));
        break;
      case EntryKind::kFile:
        PutVarint(&out, e.chunks.size());
        for (const ChunkRef& c : e.chunks) {
          PutBytes(&out, ByteView(c.id.bytes.data(), 32));
          PutVarint(&out, c.length);
        }
        break;
      case EntryKind::kSymlink:
        PutLengthPrefixed(&out, AsBytes(e.link_target));
        break;
    }
  }
  return out;
}

Result<Tree> DecodeTree(ByteView data) {
  auto bad = [](const char* what) { return Status::Corruption(std::string("malformed tree blob: ") + what); };
  ByteReader r(data);
  uint8_t version;
  if (!r.GetU8(&version) || version != kTreeVersion) return bad("unknown version");
  uint64_t count;
  if (!r.GetVarint(&count) || count > r.remaining()) return bad("entry count");
  Tree tree;
  tree.entries.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    TreeEntry& e = tree.entries[i];
    ByteView name;
    uint8_t kind;
    uint64_t mode, size, mtime, nmeta;
    if (!r.GetLengthPrefixed(&name) || !r.GetU8(&kind) || !r.GetVarint(&mode) || !r.GetVarint(&size) ||
        !r.GetVarint(&mtime) || !r.GetVarint(&nmeta) || nmeta > r.remaining()) {
      return bad("entry header");
    }
    e.name = std::string(AsString(name));
    if (!IsValidEntryName(e.name)) return bad("entry name");
    if (i > 0 && !(tree.entries[i - 1].name < e.name)) return bad("entries not sorted");
    e.mode = static_cast<uint32_t>(mode);
    e.size = size;
    e.mtime_ns = static_cast<int64_t>(mtime);
    for (uint64_t m = 0; m < nmeta; ++m) {
      ByteView k, v;
      if (!r.GetLengthPrefixed(&k) || !r.GetLengthPrefixed(&v)) return bad("metadata");
      e.metadata.emplace(std::string(AsString(k)), std::string(AsString(v)));
    }
    ByteView id;
    switch (static_cast<EntryKind>(kind)) {
      case EntryKind::kDirectory:
        e.kind = EntryKind::kDirectory;
        if (!r.GetBytes(32, &id)) return bad("subtree id");
        e.subtree = BlobId::FromView(id);
        break;
      case EntryKind::kFile: {
        e.kind = EntryKind::kFile;
        uint64_t nchunks;
        if (!r.GetVarint(&nchunks) || nchunks > r.remaining() / 33) return bad("chunk count");
        e.chunks.resize(nchunks);
        for (ChunkRef& c : e.chunks) {
          uint64_t len;
          if (!r.GetBytes(32, &id) || !r.GetVarint(&len) || len > UINT32_MAX) return bad("chunk");
          c.id = BlobId::FromView(id);
          c.length = static_cast<uint32_t>(len);
        }
        if (!e.ComputeOffsets()) return bad("chunk lengths do not add up to the file size");
        break;
      }
      case EntryKind::kSymlink: {
        e.kind = EntryKind::kSymlink;
        ByteView target;
        if (!r.GetLengthPrefixed(&target)) return bad("link target");
        e.link_target = std::string(AsString(target));
        break;
      }
      default:
        return bad("entry kind");
    }
  }
  if (!r.done()) return bad("trailing bytes");
  return tree;
}

}  // namespace m365vault
