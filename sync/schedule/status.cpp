// sync/schedule/status.cpp
#include "sync/schedule/status.h"

#include <filesystem>
#include <system_error>

#include "sync/engine/backup_run.h"
#include "sync/schedule/scheduler.h"

namespace m365vault::sync {

uint64_t DirectoryBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) {
      auto size = it->file_size(e2);
      if (!e2) total += size;
    }
  }
  return total;
}

std::optional<JobRecord> NewestJob(const std::vector<JobRecord>& jobs, const std::string& kind, const std::string& type,
                                   bool successful_only) {
  for (const auto& j : jobs) {
    if (j.kind != kind || (!type.empty() && j.object_type != type)) continue;
    if (successful_only && j.status != JobStatus::kSucceeded && j.status != JobStatus::kPartial) continue;
    return j;
  }
  return std::nullopt;
}

Result<std::vector<TenantStatus>> BuildStatus(Vault& vault, ProfileStore& store, const std::string& tenant,
                                              Clock& clock) {
  std::vector<TenantRecord> tenants;
  if (tenant.empty()) {
    M365_ASSIGN_OR_RETURN(tenants, vault.ListTenants());
  } else {
    M365_ASSIGN_OR_RETURN(auto t, vault.GetTenant(tenant));
    tenants.push_back(std::move(t));
  }
  const std::vector<std::string> supported = SupportedTypes();
  std::vector<TenantStatus> out;
  for (const auto& rec : tenants) {
    TenantStatus ts;
    ts.tenant = rec.name;
    ts.storage_bytes = DirectoryBytes(rec.storage);
    M365_ASSIGN_OR_RETURN(ScanProfile profile, store.GetProfile(rec.name, supported));
    ts.mode = ProfileModeName(profile.mode);
    M365_ASSIGN_OR_RETURN(auto jobs, vault.ListJobs({rec.name, 500}));
    std::vector<SnapshotInfo> snapshots;
    {
      auto repo = vault.OpenRepository(rec.name);
      if (repo.ok()) {
        auto list = (*repo)->ListSnapshots();
        if (list.ok()) {
          snapshots = std::move(list).value();
        } else {
          ts.errors.push_back("snapshots: " + list.status().ToString());
        }
      } else {
        ts.errors.push_back("repository: " + repo.status().ToString());
      }
    }
    for (const auto& type : supported) {
      TypeStatus s;
      s.type = type;
      s.in_profile = std::find(profile.types.begin(), profile.types.end(), type) != profile.types.end();
      M365_ASSIGN_OR_RETURN(Schedule sc, store.GetSchedule(rec.name, type));
      s.schedule = sc.minutes;
      s.last_job = NewestJob(jobs, "backup", type);
      s.last_success = NewestJob(jobs, "backup", type, /*successful_only=*/true);
      if (s.in_profile) {
        auto next = NextSlot(sc.minutes, clock.Now());
        if (next) s.next_run_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next->time_since_epoch()).count();
      }
      M365_ASSIGN_OR_RETURN(s.discovery, store.GetDiscovery(rec.name, type));
      const SnapshotInfo* latest = nullptr;
      for (const auto& snap : snapshots) {
        if (snap.object_type == type && (!latest || snap.time_ns > latest->time_ns)) latest = &snap;
      }
      if (latest) {
        auto f = latest->stats.find("total_files");
        auto b = latest->stats.find("total_bytes");
        if (f != latest->stats.end()) s.items = f->second;
        if (b != latest->stats.end()) s.bytes = b->second;
      }
      if (s.last_job) {
        auto events = vault.ListJobEvents(s.last_job->id);
        if (events.ok()) {
          s.warnings = EvaluateWarnings(*s.last_job, ClassifyJob(*s.last_job, *events));
        } else {
          ts.errors.push_back("job events: " + events.status().ToString());
        }
      }
      ts.types.push_back(std::move(s));
    }
    out.push_back(std::move(ts));
  }
  return out;
}

}  // namespace m365vault::sync
