// sync/schedule/daemon.h
//
// Daemon: runs a vault's schedules. Each Tick reads the tenants, their scan
// profiles and schedules and the jobs in the vault, asks the pure scheduler
// (sync/schedule/scheduler.h) what is due, and starts those runs on worker threads:
//   - the daily discovery of each tenant (at its profile's discovery time),
//   - a backup (RunBackup) of each type in each tenant's profile, at the
//     type's schedule times, and of each container with a schedule of its
//     own at the container's times (the type's runs then leave that
//     container's objects out: each object follows one schedule);
// at most `max_parallel` runs at once (tenants run in parallel), never two
// runs of the same tenant and type at once (a container's run waits for the
// type's, and the other way round). The last run of an entry is the newest
// job of that kind and scope in the vault (a manual `backup` of everything
// counts for every entry of its type), or the
// daemon's own last attempt if later (a run that could not even start is
// retried at the next slot, not every tick).
//
// Stopping: Run returns once `stop` is set and every running run has ended;
// a run is never interrupted (RunBackup commits its snapshot or not at all).
//
// Thread safety: Tick, Run and WaitIdle from one thread; runs use their own
// threads. Vault and ProfileStore are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend/vault.h"
#include "backend/vault_profiles.h"
#include "sync/engine/backup_run.h"
#include "sync/schedule/daemon_log.h"
#include "sync/schedule/scheduler.h"

namespace m365vault::sync {

// What a discovery saw, matched against the profile: per type, per rule.
struct ProfileMatch {
  std::string type;
  uint64_t discovered = 0;
  std::vector<std::vector<std::string>> rule_matches;    // per profile rule: the UPNs it decided
  // Per profile rule: for a group rule of this type, the display names of the
  // groups its pattern matches (by displayName or mail); else empty.
  std::vector<std::vector<std::string>> rule_groups;
  std::vector<std::pair<std::string, std::string>> protected_objects;  // (UPN, container)
  std::vector<std::string> unprotected;  // discovered but not protected
};
// Pure: which discovered users each rule of `profile` protects or excludes.
// A user's groups and drive URL (DiscoveredUser) feed the group and site
// rules; `groups` (Discovery::groups) names what each group rule matched.
std::vector<ProfileMatch> MatchProfile(const ScanProfile& profile, const std::vector<DiscoveredUser>& users,
                                       const std::vector<GroupInfo>& groups = {});

struct DiscoveryReport {
  ScanProfile profile;  // the profile the discovery matched
  Discovery discovery;
  std::vector<ProfileMatch> matches;  // one per type of the profile
  bool errors = false;                // some probe failed (job events say which)
};
// Runs Discover (with the tenant's profile) as a "discovery" job, matches
// the profile and saves the per-type counts (ProfileStore::SaveDiscovery).
// `client` as in Discover.
Result<DiscoveryReport> RunDiscovery(Vault& vault, ProfileStore& store, const std::string& tenant, Clock& clock,
                                     GraphClient* client = nullptr);

struct DaemonOptions {
  int max_parallel = 2;
  std::chrono::seconds poll{30};  // time between ticks
  int parallel_objects = RunOptions().parallel_objects;  // RunOptions::parallel_objects
  Clock* clock = nullptr;         // nullptr: Clock::Real()
  DaemonLog* log = nullptr;       // required
  // Test hooks; unset: RunBackup and RunDiscovery. `scope`: RunOptions::scope.
  std::function<Result<RunResult>(const std::string& tenant, const std::string& type, const std::string& scope)>
      backup;
  std::function<Status(const std::string& tenant)> discover;
};

class Daemon {
 public:
  Daemon(Vault& vault, ProfileStore& store, DaemonOptions options);
  ~Daemon();  // waits for running runs
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // One scheduling pass; returns the runs it started ("tenant/type", type
  // "discovery" for a discovery, "tenant/type:container" for a container's).
  Result<std::vector<std::string>> Tick();
  // Ticks every `poll` until `stop`, then waits for the running runs.
  Status Run(const std::atomic<bool>& stop);
  void WaitIdle();
  int Running();

 private:
  void Start(const std::string& key, const std::string& entry, std::function<void()> body);

  Vault& vault_;
  ProfileStore& store_;
  DaemonOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, bool> running_;         // GUARDED_BY(mu_): "tenant/type" -> running
  std::map<std::string, TimePoint> attempted_;  // GUARDED_BY(mu_): entry name -> last start by this daemon
  std::vector<std::thread> threads_;            // joined in WaitIdle
};

}  // namespace m365vault::sync
