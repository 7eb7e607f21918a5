// sync/engine/backup_run.cpp
#include "sync/engine/backup_run.h"

#include "backend/vault_profiles.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "backend/snapshot_writer.h"
#include "sync/engine/collectors.h"
#include "sync/engine/departures.h"
#include "sync/graph/jwt_assertion.h"
#include "sync/engine/sync_state.h"

namespace m365vault::sync {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<GraphStack>> ConnectTenant(Vault& vault, const std::string& tenant,
                                                  GraphClientOptions options) {
  static CurlGlobal curl_global;  // curl_global_init is thread-safe in libcurl >= 7.84
  if (!curl_global.ok()) return Status::Unavailable("libcurl cannot initialise", false);
  M365_ASSIGN_OR_RETURN(TenantRecord record, vault.GetTenant(tenant));
  // The scan profile chooses the app registration (the tenant's own by default).
  M365_ASSIGN_OR_RETURN(std::unique_ptr<ProfileStore> profiles, ProfileStore::Open(vault, Clock::Real()));
  M365_ASSIGN_OR_RETURN(ScanProfile profile, profiles->GetProfile(tenant, SupportedTypes()));
  M365_ASSIGN_OR_RETURN(AppSignIn sign_in, vault.GetSignIn(tenant, profile.credential));
  TenantCredential& credential = sign_in.credential;
  auto stack = std::make_unique<GraphStack>();
  CurlHttpClient::Options http_options;
  http_options.ca_file = record.ca_file;
  M365_ASSIGN_OR_RETURN(stack->http, CurlHttpClient::Create(http_options));
  ClientCredentialsOptions token_options;
  token_options.login_url = record.login_url.empty() ? kDefaultLoginUrl : record.login_url;
  token_options.tenant_id = record.tenant_id;
  token_options.client_id = sign_in.client_id;
  if (credential.kind == CredentialKind::kCertificate) {
    M365_ASSIGN_OR_RETURN(auto cert, CertificateCredential::FromPem(credential.secret));
    token_options.certificate = std::shared_ptr<const CertificateCredential>(std::move(cert));
  } else {
    token_options.client_secret = credential.secret;
  }
  M365_ASSIGN_OR_RETURN(stack->tokens,
                        ClientCredentialsTokenProvider::Create(std::move(token_options), *stack->http, Clock::Real()));
  options.graph_url = record.graph_url.empty() ? kDefaultGraphUrl : record.graph_url;
  stack->client = std::make_unique<GraphClient>(std::move(options), *stack->http, *stack->tokens, Clock::Real());
  return stack;
}

std::vector<std::string> SupportedTypes() {
  std::vector<std::string> types;
  for (const Collector* c : Collectors()) types.push_back(c->type());
  return types;
}

Result<RunResult> RunBackup(Vault& vault, const std::string& tenant, const std::string& type,
                            const RunOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const Collector* collector = FindCollector(type);
  if (!collector) return Status::InvalidArgument("unknown object type '" + type + "'");
  M365_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, vault.OpenRepository(tenant));
  M365_ASSIGN_OR_RETURN(auto lock, repo->Lock(LockMode::kShared, "backup " + type));

  // The parent: the latest snapshot of this type, and its sync state.
  M365_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snapshots, repo->ListSnapshots());
  const SnapshotInfo* parent = nullptr;
  for (const auto& s : snapshots) {
    if (s.object_type == type && (!parent || s.time_ns > parent->time_ns)) parent = &s;
  }
  SyncStateStore state(*repo);
  if (parent) M365_RETURN_IF_ERROR(state.Load(parent->sync_state).WithContext("reading the sync state"));

  std::unique_ptr<GraphStack> stack;
  GraphClient* client = options.client;
  M365_ASSIGN_OR_RETURN(int64_t job_id, vault.StartJob(tenant, "backup", type, options.scope));
  RunResult result;
  result.job_id = job_id;
  result.type = type;
  result.parent_id = parent ? parent->id : "";
  auto fail = [&](const Status& st) -> Result<RunResult> {
    result.status = JobStatus::kFailed;
    result.error = st.ToString();
    (void)vault.FinishJob(job_id, JobStatus::kFailed, result.counts, "", result.error);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  };
  if (!client) {
    GraphClientOptions client_options;
    client_options.max_in_flight = options.max_requests_in_flight;
    auto connected = ConnectTenant(vault, tenant, std::move(client_options));
    if (!connected.ok()) return fail(connected.status());
    stack = std::move(connected).value();
    client = stack->client.get();
  }
  // A failed listing fails the run: nothing is committed, nobody removed.
  auto users = ListUsers(*client);
  if (!users.ok()) return fail(users.status().WithContext("listing users"));
  const std::vector<UserInfo> listed = *users;
  std::set<std::string> protected_ids;  // not excluded by the profile (departures.h)
  for (const auto& u : listed) protected_ids.insert(u.id);
  if (options.select_objects) {
    auto selected = options.select_objects(*client, std::move(*users));
    if (!selected.ok()) return fail(selected.status().WithContext("applying the scan profile"));
    *users = std::move(*selected);
    if (options.scope.empty() || options.select_protected) {
      protected_ids.clear();
      if (options.scope.empty()) {
        for (const auto& u : *users) protected_ids.insert(u.id);
      } else {
        auto all = options.select_protected(*client, listed);
        if (!all.ok()) return fail(all.status().WithContext("applying the scan profile"));
        for (const auto& u : *all) protected_ids.insert(u.id);
        for (const auto& u : *users) protected_ids.insert(u.id);
      }
    }
  }

  const int64_t run_time = NowNs();
  auto writer = SnapshotWriter::Start(*repo, parent, options.writer);
  if (!writer.ok()) return fail(writer.status());

  // Users who left (docs/sync.md, "Users who leave"). An empty listing is
  // not believed: it keeps everyone and makes the run partial; nor is one
  // that lacks many of the previous snapshot's users, unless allowed.
  std::vector<Departure> departures;
  const auto [missing, previous] = MissingUsers(state.ObjectKeys(), listed);
  if (listed.empty() && parent) {
    result.failures.push_back({"", "EmptyUserListing",
                               "the user listing returned no users; the previous snapshot's users are kept",
                               "check the application's User.Read.All permission and the tenant", kLevelTop});
  } else if (!options.allow_mass_departure && missing >= kMassDepartureMin &&
             missing * 100 > previous * kMassDeparturePercent) {
    result.failures.push_back(
        {"", "MassDeparture",
         std::to_string(missing) + " of the " + std::to_string(previous) +
             " users in the previous snapshot are not in the user listing; nobody was removed from this snapshot",
         "if they really left the tenant, run 'm365vault backup " + tenant + " --type " + type +
             " --allow-mass-removal' once; otherwise check the application's permissions and the directory",
         kLevelTop});
  } else {
    std::set<std::string> selected;
    for (const auto& u : *users) selected.insert(u.id);
    auto removed = RemoveDepartedUsers(**writer, state, listed, selected, protected_ids);
    if (!removed.ok()) return fail(removed.status());
    departures = std::move(removed).value();
  }

  std::mutex mu;  // guards result, progress
  SyncCounters counters;
  RunProgress progress;
  progress.type = type;
  progress.objects_total = users->size();
  result.counts.objects_total = users->size();
  auto report_progress = [&] {
    if (!options.progress) return;
    std::lock_guard<std::mutex> l(mu);
    progress.items = counters.items;
    progress.bytes = counters.bytes;
    progress.failed = counters.items_failed;
    options.progress(progress);
  };
  counters.on_progress = report_progress;
  CollectorContext ctx{*client, **writer, state, counters, [&](const FailedItem& f) {
                         std::lock_guard<std::mutex> l(mu);
                         result.failures.push_back(f);
                       }};

  std::atomic<size_t> next{0};
  Status fatal;
  auto worker = [&] {
    for (size_t i = next++; i < users->size(); i = next++) {
      const UserInfo& user = (*users)[i];
      auto outcome = collector->BackupUser(ctx, user);
      if (outcome.ok()) {
        // Done with this user: their trees and items leave memory, so a run
        // holds the users in progress, not the tenant (docs/sync.md, "Memory").
        Status st = ctx.writer.Persist(UserDirName(user));
        if (st.ok()) st = state.Release("user:" + user.id);
        if (!st.ok()) outcome = st;
      }
      {
        std::lock_guard<std::mutex> l(mu);
        if (!outcome.ok()) {
          if (fatal.ok()) fatal = outcome.status().WithContext(user.upn);
          next = users->size();
          return;
        }
        ++progress.objects_done;
        ++result.counts.objects_done;
        if (*outcome == ObjectOutcome::kFailed) ++result.counts.objects_failed;
        if (*outcome == ObjectOutcome::kNotApplicable) result.not_applicable.push_back(user.upn);
      }
      report_progress();
    }
  };
  const int threads = std::max(1, std::min<int>(options.parallel_objects, static_cast<int>(users->size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  result.counts.items = counters.items;
  result.counts.bytes = counters.bytes;
  result.counts.containers_total = counters.containers;
  if (!fatal.ok()) return fail(fatal);

  // Users found without this type of data: if they had some, they leave too.
  for (const auto& upn : result.not_applicable) {
    auto user = std::find_if(users->begin(), users->end(), [&](const UserInfo& u) { return u.upn == upn; });
    if (user == users->end()) continue;
    auto removed = RemoveNotApplicable(**writer, state, *user);
    if (!removed.ok()) return fail(removed.status());
    departures.insert(departures.end(), removed->begin(), removed->end());
  }
  if (Status st = RecordUserDirs(**writer, state, *users); !st.ok()) return fail(st);

  for (const auto& f : result.failures) {
    (void)vault.AddJobEvent({job_id, NowNs(), f.object, f.code, f.reason, f.hint, f.level});
  }
  const std::string kept_until = parent ? SnapshotTimeName(parent->time_ns) : "";
  for (const auto& d : departures) {
    JobEvent e = DepartureEvent(d, type, kept_until);
    e.job_id = job_id;
    e.time_ns = NowNs();
    result.removed.push_back(e.reason);
    (void)vault.AddJobEvent(e);
  }
  const uint64_t applicable = result.counts.objects_total - result.not_applicable.size();
  if (applicable > 0 && result.counts.objects_failed == applicable) {
    return fail(Status::Unavailable("every " + type + " object failed; see the job events"));
  }
  auto saved = state.Save();
  if (!saved.ok()) return fail(saved.status());
  for (const auto& p : state.TakeProblems()) {
    std::string who = p.key;
    for (const auto& u : listed) {
      if (p.key == "user:" + u.id) who = u.upn;
    }
    (void)vault.AddJobEvent({job_id, NowNs(), who, "info.state_reset",
                             who + ": " + p.what + "; its data was enumerated in full again",
                             "nothing was lost; items deleted from Microsoft 365 before this run may stay in this "
                             "and later snapshots",
                             kLevelInfo});
  }
  Status st = (*writer)->SetSyncState(*saved);
  if (!st.ok()) return fail(st);
  SnapshotInfo fields;
  fields.tenant = tenant;
  fields.object_type = type;
  fields.time_ns = run_time;
  fields.job_id = std::to_string(job_id);
  fields.partial = !result.failures.empty();
  fields.failed = result.failures;
  auto committed = (*writer)->Commit(std::move(fields));
  if (!committed.ok()) return fail(committed.status());
  result.snapshot_id = committed->id;
  result.status = result.failures.empty() ? JobStatus::kSucceeded : JobStatus::kPartial;
  (void)vault.FinishJob(job_id, result.status, result.counts, result.snapshot_id, "");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

Result<Discovery> Discover(Vault& vault, const std::string& tenant, GraphClient* client, const ScanProfile* profile) {
  std::unique_ptr<GraphStack> stack;
  if (!client) {
    M365_ASSIGN_OR_RETURN(stack, ConnectTenant(vault, tenant));
    client = stack->client.get();
  }
  M365_ASSIGN_OR_RETURN(std::vector<UserInfo> users, ListUsers(*client));
  GroupMemberships memberships;
  if (profile) {
    const auto patterns = GroupRulePatterns(*profile);
    if (!patterns.empty()) {
      auto resolved = ResolveGroupMemberships(*client, patterns);
      if (!resolved.ok()) return resolved.status().WithContext("resolving the groups of the scan profile");
      memberships = std::move(resolved).value();
    }
  }
  Discovery discovery;
  discovery.groups = memberships.groups;
  std::vector<DiscoveredUser>& out = discovery.users;
  out.resize(users.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < users.size(); i = next++) {
      DiscoveredUser& d = out[i];
      d.id = users[i].id;
      d.upn = users[i].upn;
      d.display_name = users[i].display_name;
      if (auto it = memberships.names_by_user.find(users[i].id); it != memberships.names_by_user.end()) {
        d.groups = it->second;
      }
      for (const Collector* c : Collectors()) {
        GraphError err;
        std::string url;
        Status st = c->Probe(*client, users[i], &err, &url);
        if (st.ok() && !url.empty()) d.drive_url = url;
        d.types.emplace_back(c->type(), st.ok() ? "yes"
                                         : st.code() == Status::Code::kNotSupported ? "not applicable"
                                                                                    : "error: " + st.message());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < 4; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return discovery;
}

}  // namespace m365vault::sync

namespace m365vault::sync {

std::pair<size_t, size_t> MissingUsers(const std::vector<std::string>& previous_keys,
                                       const std::vector<UserInfo>& listed) {
  std::set<std::string> ids;
  for (const auto& u : listed) ids.insert("user:" + u.id);
  size_t previous = 0, missing = 0;
  for (const auto& key : previous_keys) {
    if (key.rfind("user:", 0) != 0) continue;
    ++previous;
    if (!ids.count(key)) ++missing;
  }
  return {missing, previous};
}

namespace {

// A tenant's scan profile for one type, and which rule decisions a run of
// `scope` takes.
struct ScopedProfile {
  ScanProfile profile;
  std::function<bool(const RuleDecision&)> in_scope;
};

Result<ScopedProfile> LoadScopedProfile(Vault& vault, const std::string& tenant, const std::string& type,
                                        const std::string& scope) {
  M365_ASSIGN_OR_RETURN(std::unique_ptr<ProfileStore> store, ProfileStore::Open(vault, Clock::Real()));
  M365_ASSIGN_OR_RETURN(ScanProfile profile, store->GetProfile(tenant, SupportedTypes()));
  const std::vector<std::string> containers = ProfileContainers(profile, type);
  auto named = [&](const std::string& c) { return std::find(containers.begin(), containers.end(), c) != containers.end(); };
  std::set<std::string> own_schedule;  // kScopeTypeSchedule: these containers run on their own
  std::string only;                    // a container scope: just this one
  const std::string prefix = ContainerScope("");
  if (scope == kScopeTypeSchedule) {
    M365_ASSIGN_OR_RETURN(auto schedules, store->ListContainerSchedules(tenant, type));
    for (const auto& sc : schedules) {
      if (named(sc.container)) own_schedule.insert(sc.container);
    }
  } else if (scope.rfind(prefix, 0) == 0) {
    only = scope.substr(prefix.size());
    if (!named(only)) {
      return Status::InvalidArgument("the scan profile of " + tenant + " has no " + type + " container '" + only +
                                     "' (see 'm365vault profile show " + tenant + "')");
    }
  } else if (!scope.empty()) {
    return Status::InvalidArgument("unknown run scope '" + scope + "'");
  }
  ScopedProfile p{std::move(profile), nullptr};
  if (!scope.empty()) {
    p.in_scope = [own_schedule, only](const RuleDecision& d) {
      if (!only.empty()) return d.container == only;
      return own_schedule.count(d.container) == 0;
    };
  }
  return p;
}

}  // namespace

Result<ObjectSelector> ProfileFilter(Vault& vault, const std::string& tenant, const std::string& type,
                                     const std::string& scope) {
  M365_ASSIGN_OR_RETURN(ScopedProfile p, LoadScopedProfile(vault, tenant, type, scope));
  return ObjectSelector([p, type](GraphClient& client, std::vector<UserInfo> users) {
    return SelectProtected(client, p.profile, type, std::move(users), 4, p.in_scope);
  });
}

Status ApplyProfile(Vault& vault, const std::string& tenant, const std::string& type, RunOptions* options) {
  M365_ASSIGN_OR_RETURN(ScopedProfile p, LoadScopedProfile(vault, tenant, type, options->scope));
  if (options->scope.empty()) {
    options->select_objects = [p, type](GraphClient& client, std::vector<UserInfo> users) {
      return SelectProtected(client, p.profile, type, std::move(users), 4);
    };
    options->select_protected = nullptr;
    return Status::OK();
  }
  // One evaluation of the rules (and one round of group and drive lookups)
  // serves both: select_objects keeps every scope's choice for
  // select_protected, which RunBackup calls after it with the same users.
  auto everyone = std::make_shared<std::optional<std::vector<UserInfo>>>();
  options->select_objects = [p, type, everyone](GraphClient& client,
                                                std::vector<UserInfo> users) -> Result<std::vector<UserInfo>> {
    std::vector<UserInfo> all;
    M365_ASSIGN_OR_RETURN(std::vector<UserInfo> kept,
                          SelectProtected(client, p.profile, type, std::move(users), 4, p.in_scope, &all));
    *everyone = std::move(all);
    return kept;
  };
  options->select_protected = [p, type, everyone](GraphClient& client,
                                                  std::vector<UserInfo> users) -> Result<std::vector<UserInfo>> {
    if (everyone->has_value()) return **everyone;
    return SelectProtected(client, p.profile, type, std::move(users), 4);
  };
  return Status::OK();
}

}  // namespace m365vault::sync
