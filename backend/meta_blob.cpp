// backend/meta_blob.cpp
#include "backend/meta_blob.h"

namespace m365vault {
namespace {

constexpr uint8_t kMetaVersion = 1;

void PutIds(Bytes* out, const std::vector<BlobId>& ids) {
  PutVarint(out, ids.size());
  for (const BlobId& id : ids) PutBytes(out, ByteView(id.bytes.data(), 32));
}

bool GetIds(ByteReader& r, std::vector<BlobId>* ids) {
  uint64_t n;
  if (!r.GetVarint(&n) || n > r.remaining() / 32) return false;
  ids->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    ByteView id;
    if (!r.GetBytes(32, &id)) return false;
    ids->push_back(BlobId::FromView(id));
  }
  return true;
}

}  // namespace

Bytes EncodeMetaBlob(ByteView payload, const std::vector<BlobId>& children, const std::vector<BlobId>& leaves) {
  Bytes out;
  out.reserve(1 + 10 + 32 * (children.size() + leaves.size()) + payload.size());
  PutU8(&out, kMetaVersion);
  PutIds(&out, children);
  PutIds(&out, leaves);
  PutBytes(&out, payload);
  return out;
}

Result<MetaBlob> DecodeMetaBlob(Bytes data) {
  MetaBlob m;
  if (data.empty() || data[0] != kMetaVersion) {  // no envelope (a state from before it: JSON): names nothing
    m.legacy = true;
    m.payload = std::move(data);
    return m;
  }
  ByteReader r(data);
  uint8_t version;
  r.GetU8(&version);
  if (!GetIds(r, &m.children) || !GetIds(r, &m.leaves)) return Status::Corruption("meta blob: bad references");
  const size_t start = data.size() - r.remaining();
  m.payload.assign(data.begin() + static_cast<std::ptrdiff_t>(start), data.end());
  return m;
}

Result<BlobId> SaveMetaBlob(Repository& repo, ByteView payload, const std::vector<BlobId>& children,
                            const std::vector<BlobId>& leaves) {
  const Bytes blob = EncodeMetaBlob(payload, children, leaves);
  const BlobId id = repo.HashBlob(blob);
  M365_RETURN_IF_ERROR(repo.SaveBlob(BlobType::kMeta, id, blob).status());
  return id;
}

Result<MetaBlob> LoadMetaBlob(Repository& repo, const BlobId& id) {
  M365_ASSIGN_OR_RETURN(Bytes data, repo.LoadBlob(BlobType::kMeta, id));
  auto m = DecodeMetaBlob(std::move(data));
  if (!m.ok()) return m.status().WithContext("blob " + id.Short());
  return m;
}

void ForEachMetaReference(Repository& repo, const BlobId& root,
                          const std::function<bool(const BlobId& id, bool is_leaf)>& visit,
                          const std::function<void(const BlobId& id, const Status& error)>& on_error) {
  if (!visit(root, false)) return;
  auto m = LoadMetaBlob(repo, root);
  if (!m.ok()) return on_error(root, m.status());
  for (const BlobId& leaf : m->leaves) visit(leaf, true);
  for (const BlobId& child : m->children) ForEachMetaReference(repo, child, visit, on_error);
}

}  // namespace m365vault
