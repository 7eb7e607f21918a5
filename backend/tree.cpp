// backend/tree.cpp
#include "backend/tree.h"

#include <algorithm>
#include <functional>

namespace m365vault {
namespace {

constexpr uint8_t kTreeVersion = 1;
constexpr uint8_t kTreeIndexVersion = 2;

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

namespace {

// Everything EncodeTree writes for one entry after its name.
void PutEntryBody(Bytes* out, const TreeEntry& e) {
  PutU8(out, static_cast<uint8_t>(e.kind));
  PutVarint(out, e.mode);
  PutVarint(out, e.size);
  PutVarint(out, static_cast<uint64_t>(e.mtime_ns));
  PutVarint(out, e.metadata.size());
  for (const auto& [k, v] : e.metadata) {  // std::map: sorted by key
    PutLengthPrefixed(out, AsBytes(k));
    PutLengthPrefixed(out, AsBytes(v));
  }
  switch (e.kind) {
    case EntryKind::kDirectory:
      PutBytes(out, ByteView(e.subtree.bytes.data(), 32));
      break;
    case EntryKind::kFile:
      PutVarint(out, e.chunks.size());
      for (const ChunkRef& c : e.chunks) {
        PutBytes(out, ByteView(c.id.bytes.data(), 32));
        PutVarint(out, c.length);
      }
      break;
    case EntryKind::kSymlink:
      PutLengthPrefixed(out, AsBytes(e.link_target));
      break;
  }
}

// Reads what PutEntryBody wrote; a static message on malformed input.
const char* GetEntryBody(ByteReader& r, TreeEntry* e) {
  uint8_t kind;
  uint64_t mode, size, mtime, nmeta;
  if (!r.GetU8(&kind) || !r.GetVarint(&mode) || !r.GetVarint(&size) || !r.GetVarint(&mtime) ||
      !r.GetVarint(&nmeta) || nmeta > r.remaining()) {
    return "entry header";
  }
  e->mode = static_cast<uint32_t>(mode);
  e->size = size;
  e->mtime_ns = static_cast<int64_t>(mtime);
  for (uint64_t m = 0; m < nmeta; ++m) {
    ByteView k, v;
    if (!r.GetLengthPrefixed(&k) || !r.GetLengthPrefixed(&v)) return "metadata";
    e->metadata.emplace(std::string(AsString(k)), std::string(AsString(v)));
  }
  ByteView id;
  switch (static_cast<EntryKind>(kind)) {
    case EntryKind::kDirectory:
      e->kind = EntryKind::kDirectory;
      if (!r.GetBytes(32, &id)) return "subtree id";
      e->subtree = BlobId::FromView(id);
      break;
    case EntryKind::kFile: {
      e->kind = EntryKind::kFile;
      uint64_t nchunks;
      if (!r.GetVarint(&nchunks) || nchunks > r.remaining() / 33) return "chunk count";
      e->chunks.resize(nchunks);
      for (ChunkRef& c : e->chunks) {
        uint64_t len;
        if (!r.GetBytes(32, &id) || !r.GetVarint(&len) || len > UINT32_MAX) return "chunk";
        c.id = BlobId::FromView(id);
        c.length = static_cast<uint32_t>(len);
      }
      if (!e->ComputeOffsets()) return "chunk lengths do not add up to the file size";
      break;
    }
    case EntryKind::kSymlink: {
      e->kind = EntryKind::kSymlink;
      ByteView target;
      if (!r.GetLengthPrefixed(&target)) return "link target";
      e->link_target = std::string(AsString(target));
      break;
    }
    default:
      return "entry kind";
  }
  return nullptr;
}

Status Malformed(const char* what) { return Status::Corruption(std::string("malformed tree blob: ") + what); }

// The one parser of tree blobs: on_entry(name, body, parsed entry without its name).
Status WalkTree(ByteView data, const std::function<void(size_t count)>& on_count,
                const std::function<Status(std::string_view name, ByteView body, TreeEntry& parsed)>& on_entry) {
  ByteReader r(data);
  uint8_t version;
  if (!r.GetU8(&version)) return Malformed("empty");
  if (version == kTreeIndexVersion) {
    return Status::InvalidArgument(
        "tree blob is a split tree's index (version 2), not a listing: its entries are in its parts "
        "(read it with ForEachTreeEntry or Repository::LoadTree)");
  }
  if (version != kTreeVersion) return Malformed("unknown version");
  uint64_t count;
  if (!r.GetVarint(&count) || count > r.remaining()) return Malformed("entry count");
  if (on_count) on_count(count);
  std::string_view prev;
  for (uint64_t i = 0; i < count; ++i) {
    ByteView name;
    if (!r.GetLengthPrefixed(&name)) return Malformed("entry header");
    const std::string_view n = AsString(name);
    if (!IsValidEntryName(n)) return Malformed("entry name");
    if (i > 0 && !(prev < n)) return Malformed("entries not sorted");
    prev = n;
    const size_t start = data.size() - r.remaining();
    TreeEntry parsed;
    if (const char* bad = GetEntryBody(r, &parsed)) return Malformed(bad);
    const size_t end = data.size() - r.remaining();
    M365_RETURN_IF_ERROR(on_entry(n, data.subspan(start, end - start), parsed));
  }
  if (!r.done()) return Malformed("trailing bytes");
  return Status::OK();
}

}  // namespace

Bytes EncodeTree(const Tree& tree) {
  Bytes out;
  PutU8(&out, kTreeVersion);
  PutVarint(&out, tree.entries.size());
  for (const TreeEntry& e : tree.entries) {
    PutLengthPrefixed(&out, AsBytes(e.name));
    PutEntryBody(&out, e);
  }
  return out;
}

Result<Tree> DecodeTree(ByteView data) {
  Tree tree;
  M365_RETURN_IF_ERROR(WalkTree(
      data, [&](size_t n) { tree.entries.reserve(n); },
      [&](std::string_view name, ByteView, TreeEntry& parsed) -> Status {
        parsed.name = std::string(name);
        tree.entries.push_back(std::move(parsed));
        return Status::OK();
      }));
  return tree;
}

Bytes EncodeEntryBody(const TreeEntry& entry) {
  // Built in a reused buffer, returned at its exact size: a writer keeps
  // 100,000 of these, and a grown vector's spare capacity would be a third more.
  thread_local Bytes scratch;
  scratch.clear();
  PutEntryBody(&scratch, entry);
  return Bytes(scratch.begin(), scratch.end());
}

Result<TreeEntry> DecodeEntryBody(std::string name, ByteView body) {
  TreeEntry e;
  e.name = std::move(name);
  ByteReader r(body);
  if (const char* bad = GetEntryBody(r, &e)) return Malformed(bad);
  if (!r.done()) return Malformed("trailing bytes in an entry");
  return e;
}

Status ForEachEncodedEntry(ByteView data, const std::function<void(size_t count)>& on_count,
                           const std::function<Status(std::string_view name, ByteView body)>& on_entry) {
  return WalkTree(data, on_count,
                  [&](std::string_view name, ByteView body, TreeEntry&) { return on_entry(name, body); });
}

Status ForEachDecodedEntry(
    ByteView data, const std::function<void(size_t count)>& on_count,
    const std::function<Status(std::string_view name, ByteView body, TreeEntry& entry)>& on_entry) {
  return WalkTree(data, on_count, [&](std::string_view name, ByteView body, TreeEntry& parsed) {
    parsed.name = std::string(name);
    return on_entry(name, body, parsed);
  });
}

Bytes EncodedTreeHeader(size_t count) {
  Bytes out;
  PutU8(&out, kTreeVersion);
  PutVarint(&out, count);
  return out;
}

void AppendEncodedEntry(Bytes* tree, std::string_view name, ByteView body) {
  PutLengthPrefixed(tree, AsBytes(name));
  PutBytes(tree, body);
}

bool IsTreeIndex(ByteView data) { return !data.empty() && data[0] == kTreeIndexVersion; }

Bytes EncodeTreeIndex(const std::vector<TreePart>& parts) {
  Bytes out;
  PutU8(&out, kTreeIndexVersion);
  PutVarint(&out, parts.size());
  for (const TreePart& p : parts) {
    PutLengthPrefixed(&out, AsBytes(p.first));
    PutBytes(&out, ByteView(p.id.bytes.data(), 32));
    PutVarint(&out, p.count);
  }
  return out;
}

Result<std::vector<TreePart>> DecodeTreeIndex(ByteView data) {
  auto bad = [](const char* what) { return Status::Corruption(std::string("malformed split tree index: ") + what); };
  ByteReader r(data);
  uint8_t version;
  if (!r.GetU8(&version) || version != kTreeIndexVersion) return bad("not version 2");
  uint64_t nparts;
  // A part takes at least 35 bytes: lp(a one-byte name), its id, a count.
  if (!r.GetVarint(&nparts) || nparts > r.remaining() / 35) return bad("part count");
  if (nparts < 2) return bad("fewer than 2 parts (one part is written as a plain tree)");
  std::vector<TreePart> parts(nparts);
  uint64_t total = 0;
  for (uint64_t i = 0; i < nparts; ++i) {
    TreePart& p = parts[i];
    ByteView first, id;
    if (!r.GetLengthPrefixed(&first) || !r.GetBytes(32, &id) || !r.GetVarint(&p.count)) return bad("part");
    p.first = std::string(AsString(first));
    p.id = BlobId::FromView(id);
    if (!IsValidEntryName(p.first)) return bad("first name of a part");
    if (i > 0 && !(parts[i - 1].first < p.first)) return bad("parts not in name order");
    if (p.count == 0) return bad("empty part");
    if (p.count > UINT64_MAX - total) return bad("entry count overflows");
    total += p.count;
  }
  if (!r.done()) return bad("trailing bytes");
  return parts;
}

}  // namespace m365vault
