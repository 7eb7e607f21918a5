// fs/snapshot_catalog.h
//
// SnapshotCatalog: the changing part of the mount — which object types and
// snapshots each tenant has, and what `latest` points to. Everything below a
// snapshot directory is immutable and lives in the repository's caches.
//
// A tenant's view is rebuilt from Repository::ListSnapshots() (cheap: the
// repository caches manifests and only lists the snapshots folder) when it is
// older than `refresh_interval`, by one thread while the others keep using the
// previous view (single-flight). Views are immutable and swapped whole
// (shared_ptr), so a request sees one consistent listing. Snapshot objects
// are reused across refreshes, so a snapshot keeps its MountedSnapshot (and
// its directory name, see snapshot_names.h) for the life of the mount.
// A failed refresh is logged and the previous view is kept; with no previous
// view the error is returned.
//
// Thread safety: all methods are thread-safe. Lock order: refresh_mu_ before
// mu_; neither is held while replying to the kernel.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/repository.h"
#include "fs/logger.h"
#include "fs/node.h"

namespace m365vault::fs {

// One tenant served by the mount. `repo` is borrowed and must outlive it.
struct MountedTenant {
  std::string name;
  Repository* repo = nullptr;
};

// The snapshots of one object type (a type exists only with a snapshot).
struct TypeView {
  std::string type;
  std::vector<std::shared_ptr<const MountedSnapshot>> snapshots;  // sorted by dir_name
  std::shared_ptr<const MountedSnapshot> latest;  // newest by (time_ns, id); never null
  // Binary search by directory name; nullptr when absent.
  std::shared_ptr<const MountedSnapshot> Find(std::string_view dir_name) const;
};

struct TenantView {
  std::vector<TypeView> types;  // sorted by type name
  int64_t newest_ns = 0;        // time of the newest snapshot, 0 if none

  const TypeView* Find(std::string_view type) const;
};

class SnapshotCatalog {
 public:
  SnapshotCatalog(std::vector<MountedTenant> tenants, std::chrono::milliseconds refresh_interval, Logger& log);
  SnapshotCatalog(const SnapshotCatalog&) = delete;
  SnapshotCatalog& operator=(const SnapshotCatalog&) = delete;

  const std::vector<MountedTenant>& tenants() const { return tenants_; }
  // Index of the tenant named `name`, or -1.
  int FindTenant(std::string_view name) const;
  // The tenant's current view (refreshed first if stale).
  // REQUIRES: tenant < tenants().size().
  Result<std::shared_ptr<const TenantView>> View(uint32_t tenant);

 private:
  struct TenantState {
    std::mutex refresh_mu;  // held by the one thread rebuilding the view
    std::mutex mu;          // guards view and loaded_at
    std::shared_ptr<const TenantView> view;
    std::chrono::steady_clock::time_point loaded_at;
  };
  Result<std::shared_ptr<const TenantView>> Rebuild(uint32_t tenant, const TenantView* previous);
  bool Fresh(const TenantState& state, std::chrono::steady_clock::time_point now) const;

  std::vector<MountedTenant> tenants_;
  std::chrono::milliseconds refresh_interval_;
  Logger& log_;
  std::vector<std::unique_ptr<TenantState>> states_;
};

}  // namespace m365vault::fs
