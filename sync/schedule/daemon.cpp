// sync/schedule/daemon.cpp
#include "sync/schedule/daemon.h"

#include <algorithm>

namespace m365vault::sync {
namespace {

int64_t ToNs(TimePoint t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(); }
TimePoint FromNs(int64_t ns) { return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns))); }

std::string Key(const std::string& tenant, const std::string& type) { return tenant + "/" + type; }

// The name of an entry in logs and Tick's result: "tenant/type[:container]".
std::string EntryName(const ScheduleEntry& e) {
  const std::string prefix = ContainerScope("");
  std::string name = Key(e.tenant, e.type);
  if (e.scope.rfind(prefix, 0) == 0) name += ":" + e.scope.substr(prefix.size());
  return name;
}

}  // namespace

std::vector<ProfileMatch> MatchProfile(const ScanProfile& profile, const std::vector<DiscoveredUser>& users,
                                       const std::vector<GroupInfo>& groups) {
  std::vector<ProfileMatch> out;
  for (const auto& type : profile.types) {
    ProfileMatch m;
    m.type = type;
    m.rule_matches.resize(profile.rules.size());
    m.rule_groups.resize(profile.rules.size());
    for (size_t i = 0; i < profile.rules.size(); ++i) {
      const ProfileRule& r = profile.rules[i];
      if (r.type != type || r.field != RuleField::kGroup || profile.mode != ProfileMode::kAdvanced) continue;
      for (const auto& g : groups) {
        if (GroupMatches(r.pattern, g)) m.rule_groups[i].push_back(g.display_name);
      }
    }
    for (const auto& u : users) {
      bool has = false;
      for (const auto& [t, state] : u.types) has = has || (t == type && state == "yes");
      if (!has) continue;
      ++m.discovered;
      RuleDecision d = EvaluateProfile(profile, type, MakeProfileObject(type, u.upn, u.groups, u.drive_url));
      if (d.rule >= 0) m.rule_matches[static_cast<size_t>(d.rule)].push_back(u.upn);
      if (d.protect) {
        m.protected_objects.emplace_back(u.upn, d.container);
      } else {
        m.unprotected.push_back(u.upn);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<DiscoveryReport> RunDiscovery(Vault& vault, ProfileStore& store, const std::string& tenant, Clock& clock,
                                     GraphClient* client) {
  DiscoveryReport report;
  M365_ASSIGN_OR_RETURN(report.profile, store.GetProfile(tenant, SupportedTypes()));
  const ScanProfile& profile = report.profile;
  M365_ASSIGN_OR_RETURN(int64_t job, vault.StartJob(tenant, "discovery", ""));
  auto discovered = Discover(vault, tenant, client, &profile);
  if (!discovered.ok()) {
    (void)vault.FinishJob(job, JobStatus::kFailed, {}, "", discovered.status().ToString());
    return discovered.status();
  }
  report.discovery = std::move(discovered).value();
  const std::vector<DiscoveredUser>* users = &report.discovery.users;
  bool& errors = report.errors;
  for (const auto& u : *users) {
    for (const auto& [type, state] : u.types) {
      if (state.rfind("error", 0) == 0) {
        errors = true;
        (void)vault.AddJobEvent({job, 0, u.upn + "/" + type, "", state, "check the app's permissions", "top"});
      }
    }
  }
  report.matches = MatchProfile(profile, *users, report.discovery.groups);
  const int64_t now = ToNs(clock.Now());
  for (const auto& m : report.matches) {
    M365_RETURN_IF_ERROR(store.SaveDiscovery({tenant, m.type, now, m.discovered, m.protected_objects.size()}));
  }
  JobCounts counts;
  counts.objects_total = counts.objects_done = users->size();
  M365_RETURN_IF_ERROR(
      vault.FinishJob(job, errors ? JobStatus::kPartial : JobStatus::kSucceeded, counts, "", ""));
  return report;
}

Daemon::Daemon(Vault& vault, ProfileStore& store, DaemonOptions options)
    : vault_(vault), store_(store), options_(std::move(options)), clock_(options_.clock ? *options_.clock : Clock::Real()) {
  if (options_.max_parallel < 1) options_.max_parallel = 1;
  if (!options_.backup) {
    options_.backup = [this](const std::string& tenant, const std::string& type,
                             const std::string& scope) -> Result<RunResult> {
      RunOptions ro;
      ro.parallel_objects = options_.parallel_objects;
      ro.scope = scope;
      M365_RETURN_IF_ERROR(ApplyProfile(vault_, tenant, type, &ro));
      return RunBackup(vault_, tenant, type, ro);
    };
  }
  if (!options_.discover) {
    options_.discover = [this](const std::string& tenant) {
      return RunDiscovery(vault_, store_, tenant, clock_).status();
    };
  }
}

Daemon::~Daemon() { WaitIdle(); }

int Daemon::Running() {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(std::count_if(running_.begin(), running_.end(), [](const auto& kv) { return kv.second; }));
}

void Daemon::Start(const std::string& key, const std::string& entry, std::function<void()> body) {
  {
    std::lock_guard<std::mutex> l(mu_);
    running_[key] = true;
    attempted_[entry] = clock_.Now();
  }
  threads_.emplace_back([this, key, body = std::move(body)] {
    body();
    std::lock_guard<std::mutex> l(mu_);
    running_[key] = false;
    cv_.notify_all();
  });
}

Result<std::vector<std::string>> Daemon::Tick() {
  const TimePoint now = clock_.Now();
  M365_ASSIGN_OR_RETURN(auto tenants, vault_.ListTenants());
  std::vector<ScheduleEntry> entries;
  for (const auto& t : tenants) {
    auto profile = store_.GetProfile(t.name, SupportedTypes());
    if (!profile.ok()) {
      options_.log->Error(t.name + ": cannot read the scan profile: " + profile.status().ToString());
      continue;
    }
    M365_ASSIGN_OR_RETURN(auto jobs, vault_.ListJobs({t.name, 500}));
    // The newest job of `kind` (backups: of `type` whose scope covers `scope`:
    // its own, or a run of everything).
    auto newest = [&](const std::string& kind, const std::string& type,
                      const std::string& scope) -> std::optional<TimePoint> {
      for (const auto& j : jobs) {
        if (j.kind != kind) continue;
        if (kind == "backup" && (j.object_type != type || (!j.scope.empty() && j.scope != scope))) continue;
        return FromNs(j.started_ns);
      }
      return std::nullopt;
    };
    ScheduleEntry d{t.name, "discovery", {profile->discovery_minute}, newest("discovery", "", ""), false, ""};
    entries.push_back(std::move(d));
    for (const auto& type : profile->types) {
      auto sc = store_.GetSchedule(t.name, type);
      auto own = store_.ListContainerSchedules(t.name, type);
      if (!sc.ok() || !own.ok()) {
        options_.log->Error(t.name + "/" + type + ": cannot read the schedule: " +
                            (!sc.ok() ? sc.status() : own.status()).ToString());
        continue;
      }
      // Containers the profile no longer names keep their row but do not run.
      const std::vector<std::string> named = ProfileContainers(*profile, type);
      std::erase_if(*own, [&](const Schedule& c) {
        return std::find(named.begin(), named.end(), c.container) == named.end();
      });
      const std::string type_scope = own->empty() ? "" : kScopeTypeSchedule;
      entries.push_back({t.name, type, sc->minutes, newest("backup", type, type_scope), false, type_scope});
      for (const auto& c : *own) {
        const std::string scope = ContainerScope(c.container);
        entries.push_back({t.name, type, c.minutes, newest("backup", type, scope), false, scope});
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& e : entries) {
      auto r = running_.find(Key(e.tenant, e.type));
      e.running = r != running_.end() && r->second;
      auto a = attempted_.find(EntryName(e));
      if (a != attempted_.end() && (!e.last_run || a->second > *e.last_run)) e.last_run = a->second;
    }
  }
  std::vector<std::string> started;
  for (const ScheduleEntry* e : DueEntries(entries, now)) {
    const std::string key = Key(e->tenant, e->type);
    const std::string name = EntryName(*e);
    {
      // A container entry and its type's entry may both be due: one at a time.
      std::lock_guard<std::mutex> l(mu_);
      auto r = running_.find(key);
      if (r != running_.end() && r->second) continue;
    }
    if (Running() >= options_.max_parallel) {
      options_.log->Debug("parallel limit reached; " + name + " waits");
      break;
    }
    const std::string tenant = e->tenant, type = e->type, scope = e->scope;
    started.push_back(name);
    if (type == "discovery") {
      options_.log->Info(tenant + ": discovery started");
      Start(key, name, [this, tenant] {
        Status st = options_.discover(tenant);
        if (st.ok()) {
          options_.log->Info(tenant + ": discovery done");
        } else {
          options_.log->Error(tenant + ": discovery failed: " + st.ToString());
        }
      });
    } else {
      options_.log->Info(name + ": backup started");
      Start(key, name, [this, tenant, type, scope, name] {
        auto r = options_.backup(tenant, type, scope);
        if (!r.ok()) {
          options_.log->Error(name + ": backup could not start: " + r.status().ToString());
          return;
        }
        std::string msg = name + ": backup " + JobStatusName(r->status) + " (job " + std::to_string(r->job_id) +
                          ", " + std::to_string(r->counts.items) + " items, " +
                          std::to_string(r->counts.objects_failed) + " objects failed)";
        if (!r->error.empty()) msg += ": " + r->error;
        options_.log->Log(r->status == JobStatus::kSucceeded ? LogLevel::kInfo
                          : r->status == JobStatus::kPartial ? LogLevel::kWarn
                                                             : LogLevel::kError,
                          msg);
      });
    }
  }
  return started;
}

void Daemon::WaitIdle() {
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      return std::none_of(running_.begin(), running_.end(), [](const auto& kv) { return kv.second; });
    });
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

Status Daemon::Run(const std::atomic<bool>& stop) {
  options_.log->Info("daemon started (max parallel runs " + std::to_string(options_.max_parallel) + ")");
  while (!stop.load()) {
    auto started = Tick();
    if (!started.ok()) options_.log->Error("scheduling pass failed: " + started.status().ToString());
    for (auto s = std::chrono::seconds(0); s < options_.poll && !stop.load(); s += std::chrono::seconds(1)) {
      clock_.SleepFor(std::chrono::seconds(1));
    }
  }
  int running = Running();
  if (running > 0) options_.log->Info("stopping: waiting for " + std::to_string(running) + " running run(s)");
  WaitIdle();
  options_.log->Info("daemon stopped");
  return Status::OK();
}

}  // namespace m365vault::sync
