// fs/snapshot_catalog.cpp
#include "fs/snapshot_catalog.h"

#include <algorithm>
#include <set>

#include "backend/repository_internals.h"
#include "fs/snapshot_names.h"

namespace m365vault::fs {

std::shared_ptr<const MountedSnapshot> TypeView::Find(std::string_view dir_name) const {
  auto it = std::lower_bound(snapshots.begin(), snapshots.end(), dir_name,
                             [](const auto& s, std::string_view n) { return s->dir_name < n; });
  if (it == snapshots.end() || (*it)->dir_name != dir_name) return nullptr;
  return *it;
}

const TypeView* TenantView::Find(std::string_view type) const {
  auto it = std::lower_bound(types.begin(), types.end(), type,
                             [](const TypeView& t, std::string_view n) { return t.type < n; });
  if (it == types.end() || it->type != type) return nullptr;
  return &*it;
}

SnapshotCatalog::SnapshotCatalog(std::vector<MountedTenant> tenants, std::chrono::milliseconds refresh_interval,
                                 Logger& log)
    : tenants_(std::move(tenants)), refresh_interval_(refresh_interval), log_(log) {
  for (size_t i = 0; i < tenants_.size(); ++i) states_.push_back(std::make_unique<TenantState>());
}

int SnapshotCatalog::FindTenant(std::string_view name) const {
  for (size_t i = 0; i < tenants_.size(); ++i) {
    if (tenants_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool SnapshotCatalog::Fresh(const TenantState& state, std::chrono::steady_clock::time_point now) const {
  return state.view && now - state.loaded_at < refresh_interval_;
}

Result<std::shared_ptr<const TenantView>> SnapshotCatalog::View(uint32_t tenant) {
  TenantState& state = *states_.at(tenant);
  {
    std::lock_guard<std::mutex> l(state.mu);
    if (Fresh(state, std::chrono::steady_clock::now())) return state.view;
  }
  // Single flight: whoever gets refresh_mu rebuilds; the others wait for it
  // and then find a fresh view.
  std::lock_guard<std::mutex> refresh(state.refresh_mu);
  std::shared_ptr<const TenantView> previous;
  {
    std::lock_guard<std::mutex> l(state.mu);
    if (Fresh(state, std::chrono::steady_clock::now())) return state.view;
    previous = state.view;
  }
  Result<std::shared_ptr<const TenantView>> rebuilt = Rebuild(tenant, previous.get());
  std::lock_guard<std::mutex> l(state.mu);
  state.loaded_at = std::chrono::steady_clock::now();
  if (rebuilt.ok()) {
    state.view = *rebuilt;
    return state.view;
  }
  log_.Error("listing the snapshots of tenant " + tenants_[tenant].name + " failed: " + rebuilt.status().ToString());
  if (previous) return previous;  // serve the last good listing; retry after the interval
  return rebuilt.status();
}

Result<std::shared_ptr<const TenantView>> SnapshotCatalog::Rebuild(uint32_t tenant, const TenantView* previous) {
  const MountedTenant& t = tenants_[tenant];
  M365_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> infos, t.repo->ListSnapshots());
  if (previous) {
    // A snapshot committed by another process since the last view has its
    // blobs in index files this process has not read: the backend's
    // LoadTree/LoadChunk do not re-read the index on a miss, so do it here,
    // once per new snapshot. (Manifests are written after their index files,
    // so syncing after seeing the manifest is enough.)
    size_t known_count = 0;
    for (const TypeView& tv : previous->types) known_count += tv.snapshots.size();
    bool has_new = infos.size() != known_count;
    if (!has_new) {
      std::set<std::string> known_ids;
      for (const TypeView& tv : previous->types) {
        for (const auto& s : tv.snapshots) known_ids.insert(s->info.id);
      }
      for (const SnapshotInfo& info : infos) has_new = has_new || !known_ids.count(info.id);
    }
    if (has_new) M365_RETURN_IF_ERROR(t.repo->internals().SyncIndex());
  }

  // Previous snapshot objects by id, to keep them (and their names) stable.
  std::map<std::string, std::shared_ptr<const MountedSnapshot>> known;
  if (previous) {
    for (const TypeView& tv : previous->types) {
      for (const auto& s : tv.snapshots) known.emplace(s->info.id, s);
    }
  }
  std::map<std::string, std::vector<const SnapshotInfo*>> by_type;
  for (const SnapshotInfo& info : infos) by_type[TypeDirName(info)].push_back(&info);

  auto view = std::make_shared<TenantView>();
  for (auto& [type, list] : by_type) {
    if (!IsUsableName(type)) {
      log_.Error("tenant " + t.name + ": object type \"" + type + "\" is not a usable directory name; skipped");
      continue;
    }
    std::vector<std::string> names = AssignSnapshotDirNames(list);
    TypeView tv;
    tv.type = type;
    for (size_t i = 0; i < list.size(); ++i) {
      const SnapshotInfo& info = *list[i];
      auto k = known.find(info.id);
      if (k != known.end() && k->second->dir_name == names[i]) {
        tv.snapshots.push_back(k->second);
      } else {
        auto s = std::make_shared<MountedSnapshot>();
        s->tenant = tenant;
        s->tenant_name = t.name;
        s->type = type;
        s->dir_name = names[i];
        s->info = info;
        s->reader = std::make_unique<SnapshotReader>(*t.repo, info);
        s->root_entry.kind = EntryKind::kDirectory;
        s->root_entry.mode = 0555;
        s->root_entry.mtime_ns = info.time_ns;
        s->root_entry.subtree = info.root;
        tv.snapshots.push_back(std::move(s));
      }
      view->newest_ns = std::max(view->newest_ns, info.time_ns);
    }
    tv.latest = tv.snapshots.back();  // `list` is in (time_ns, id) order
    // Names sort like times ("YYYY-MM-DDTHHMMSSZ", then "-N"), except that
    // "-10" sorts before "-2"; keep the vector sorted by name for Find.
    std::sort(tv.snapshots.begin(), tv.snapshots.end(),
              [](const auto& a, const auto& b) { return a->dir_name < b->dir_name; });
    view->types.push_back(std::move(tv));
  }
  return std::shared_ptr<const TenantView>(std::move(view));
}

}  // namespace m365vault::fs
