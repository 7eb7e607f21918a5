// sync/schedule/status.cpp
#include "sync/schedule/status.h"

#include <filesystem>
#include <functional>
#include <set>
#include <system_error>

#include "sync/engine/backup_run.h"
#include "sync/schedule/scheduler.h"

namespace m365vault::sync {
namespace {

int64_t ToNs(TimePoint t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(); }

}  // namespace

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
    ts.license_expiry_ns = rec.license_expiry_ns;
    ts.warnings = EvaluateLicense(rec.name, rec.license_expiry_ns, ToNs(clock.Now()));
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
      // The last job of each scope: the type's runs, and each container on
      // its own schedule (a run of everything counts for all of them).
      std::vector<const JobRecord*> last_of_scope;
      auto newest_in = [&](const std::function<bool(const std::string&)>& in_scope) -> const JobRecord* {
        for (const auto& j : jobs) {
          if (j.kind == "backup" && j.object_type == type && (j.scope.empty() || in_scope(j.scope))) return &j;
        }
        return nullptr;
      };
      last_of_scope.push_back(newest_in([](const std::string& scope) { return scope == kScopeTypeSchedule; }));
      auto next_after = [&](const std::vector<int>& minutes) -> int64_t {
        auto next = NextSlot(minutes, clock.Now());
        return next ? ToNs(*next) : 0;
      };
      if (s.in_profile) s.next_run_ns = next_after(sc.minutes);
      M365_ASSIGN_OR_RETURN(auto own, store.ListContainerSchedules(rec.name, type));
      const std::vector<std::string> named = ProfileContainers(profile, type);
      for (const auto& c : own) {
        if (!s.in_profile || std::find(named.begin(), named.end(), c.container) == named.end()) continue;
        ContainerStatus cs;
        cs.name = c.container;
        cs.schedule = c.minutes;
        const std::string scope = ContainerScope(c.container);
        const JobRecord* last = newest_in([&](const std::string& j) { return j == scope; });
        if (last) cs.last_job = *last;
        last_of_scope.push_back(last);
        cs.next_run_ns = next_after(c.minutes);
        if (cs.next_run_ns && (!s.next_run_ns || cs.next_run_ns < s.next_run_ns)) s.next_run_ns = cs.next_run_ns;
        s.containers.push_back(std::move(cs));
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
      std::set<int64_t> evaluated;
      for (const JobRecord* job : last_of_scope) {
        if (!job || !evaluated.insert(job->id).second) continue;
        auto events = vault.ListJobEvents(job->id);
        if (!events.ok()) {
          ts.errors.push_back("job events: " + events.status().ToString());
          continue;
        }
        for (auto& w : EvaluateWarnings(*job, ClassifyJob(*job, *events))) s.warnings.push_back(std::move(w));
      }
      ts.types.push_back(std::move(s));
    }
    out.push_back(std::move(ts));
  }
  return out;
}

}  // namespace m365vault::sync
