// backend/repository_snapshots.cpp
//
// Snapshot manifests: `snapshots/<32 hex>`, sealed, written last.
#include <algorithm>

#include "backend/repository_impl.h"

namespace m365vault {

namespace {
constexpr char kSnapshotPrefix[] = "snapshots/";
}

Result<std::vector<SnapshotInfo>> RepositoryImpl::ListSnapshots() {
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> files, storage_->List(kSnapshotPrefix));
  std::set<std::string> ids;
  for (const ObjectInfo& f : files) ids.insert(f.name.substr(sizeof(kSnapshotPrefix) - 1));
  std::vector<std::string> missing;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = manifests_.begin(); it != manifests_.end();) {
      it = ids.count(it->first) ? std::next(it) : manifests_.erase(it);
    }
    for (const std::string& id : ids) {
      if (!manifests_.count(id)) missing.push_back(id);
    }
  }
  // New manifests may come from another process (a backup while mounted):
  // pick up the index files it wrote before reading their trees.
  bool first_listing = !manifests_loaded_once_.exchange(true);  // Open() has just synced
  if (!missing.empty() && !first_listing) M365_RETURN_IF_ERROR(SyncIndex());
  for (const std::string& id : missing) {
    // A manifest that cannot be read is left out here; `check` reports it.
    auto info = LoadSnapshot(id);
    if (!info.ok()) continue;
    std::lock_guard<std::mutex> l(mu_);
    manifests_.emplace(id, std::move(info).value());
  }
  std::vector<SnapshotInfo> out;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, info] : manifests_) out.push_back(info);
  }
  std::sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  return out;
}

Result<SnapshotInfo> RepositoryImpl::LoadSnapshot(const std::string& id) {
  Bytes check;
  if (id.size() != 32 || !FromHex(id, &check)) return Status::InvalidArgument("bad snapshot id " + id);
  std::string name = kSnapshotPrefix + id;
  auto file = storage_->Read(name);
  if (!file.ok()) {
    if (file.status().IsNotFound()) return Status::NotFound("no snapshot " + id);
    return file.status();
  }
  M365_ASSIGN_OR_RETURN(Bytes plain, format::OpenFile(keys_, format::FileKind::kSnapshot, *file, "snapshot " + id));
  auto info = DecodeSnapshot(plain);
  if (!info.ok()) return info.status().WithContext("snapshot " + id);
  info->id = id;
  return info;
}

Status RepositoryImpl::SaveSnapshot(SnapshotInfo* info) {
  uint8_t rnd[16];
  crypto::RandomBytes(rnd, sizeof rnd);
  info->id = ToHex(ByteView(rnd, sizeof rnd));
  if (info->tenant.empty()) info->tenant = tenant_;
  Bytes file = format::SealFile(keys_, format::FileKind::kSnapshot, EncodeSnapshot(*info));
  M365_RETURN_IF_ERROR(storage_->Write(kSnapshotPrefix + info->id, file).WithContext("writing snapshot"));
  std::lock_guard<std::mutex> l(mu_);
  manifests_[info->id] = *info;
  return Status::OK();
}

Status RepositoryImpl::RemoveSnapshot(const std::string& id) {
  Bytes check;
  if (id.size() != 32 || !FromHex(id, &check)) return Status::InvalidArgument("bad snapshot id " + id);
  M365_RETURN_IF_ERROR(storage_->Remove(kSnapshotPrefix + id));
  std::lock_guard<std::mutex> l(mu_);
  manifests_.erase(id);
  return Status::OK();
}

}  // namespace m365vault
