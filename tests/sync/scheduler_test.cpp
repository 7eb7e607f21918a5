// tests/sync/scheduler_test.cpp: the pure scheduler, the warning thresholds
// and the daemon's scheduling passes, all on a ManualClock (nothing sleeps).
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <set>

#include "backend/vault_profiles.h"
#include "tests/profile_test_util.h"
#include "sync/schedule/daemon.h"
#include "sync/schedule/scheduler.h"
#include "sync/schedule/warnings.h"
#include "sync/graph/fake_http_client.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// 2027-01-15T00:00:00Z (a day boundary: 1800000000 s is not one).
const TimePoint kMidnight = TimePoint(std::chrono::seconds(1800000000 / 86400 * 86400 + 86400));

TEST_CASE("scheduler: four runs a day at the right times", "[sync][scheduler]") {
  ManualClock clock(kMidnight - minutes(1));
  const std::vector<int> four = {0, 360, 720, 1080};
  std::optional<TimePoint> last = kMidnight - hours(6);  // yesterday's 18:00 run
  std::vector<TimePoint> runs;
  // Step minute by minute over two days; run whenever due.
  for (int i = 0; i < 2 * 24 * 60; ++i) {
    if (IsDue(four, last, clock.Now())) {
      last = clock.Now();
      runs.push_back(clock.Now());
    }
    clock.Advance(minutes(1));
  }
  REQUIRE(runs.size() == 8);
  for (size_t i = 0; i < runs.size(); ++i) CHECK(runs[i] == kMidnight + hours(6) * static_cast<int>(i));
  CHECK(*NextSlot(four, kMidnight + minutes(1)) == kMidnight + hours(6));
  CHECK(*NextSlot(four, kMidnight + hours(19)) == kMidnight + hours(24));
  CHECK(*LatestSlot(four, kMidnight + hours(5)) == kMidnight);
  CHECK(*LatestSlot({720}, kMidnight + hours(5)) == kMidnight - hours(12));  // yesterday's noon
  CHECK_FALSE(LatestSlot({}, kMidnight).has_value());
}

TEST_CASE("scheduler: a missed run is caught up once, never a backlog", "[sync][scheduler]") {
  const std::vector<int> four = {0, 360, 720, 1080};
  // Last run at 06:00; the daemon was down until 20:30 (missed 12:00 and 18:00).
  std::optional<TimePoint> last = kMidnight + hours(6);
  TimePoint now = kMidnight + hours(20) + minutes(30);
  CHECK(IsDue(four, last, now));
  last = now;  // the catch-up run
  for (TimePoint t = now; t < kMidnight + hours(24); t += minutes(1)) CHECK_FALSE(IsDue(four, last, t));
  CHECK(IsDue(four, last, kMidnight + hours(24)));
  // Never run: due at once (first protection), then not again until the next slot.
  CHECK(IsDue(four, std::nullopt, now));
  // A manual run after the slot satisfies it.
  CHECK_FALSE(IsDue(four, kMidnight + hours(18) + minutes(5), now));
  // A run that started just before the slot does not.
  CHECK(IsDue(four, kMidnight + hours(18) - minutes(1), now));
}

TEST_CASE("scheduler: entries already running are not due", "[sync][scheduler]") {
  std::vector<ScheduleEntry> e = {{"a", "exchange", {0}, std::nullopt, false, ""},
                                  {"a", "onedrive", {0}, std::nullopt, true, ""},
                                  {"b", "exchange", {0}, kMidnight + minutes(1), false, ""}};
  auto due = DueEntries(e, kMidnight + hours(1));
  REQUIRE(due.size() == 1);
  CHECK(due[0]->type == "exchange");
  CHECK(due[0]->tenant == "a");
}

JobRecord Job(JobStatus status, uint64_t objects, uint64_t objects_failed, uint64_t items) {
  JobRecord j;
  j.id = 7;
  j.tenant = "contoso";
  j.object_type = "exchange";
  j.status = status;
  j.counts.objects_total = objects;
  j.counts.objects_failed = objects_failed;
  j.counts.items = items;
  return j;
}

std::set<WarningKind> Kinds(const std::vector<Warning>& w) {
  std::set<WarningKind> k;
  for (const auto& x : w) k.insert(x.kind);
  return k;
}

TEST_CASE("warnings fire exactly at the thresholds", "[sync][warnings]") {
  const JobRecord ok = Job(JobStatus::kSucceeded, 100, 0, 1000);
  CHECK(EvaluateWarnings(ok, {{100, 0}, {100, 0}, {1000, 0}}).empty());
  // Content: 10% is not more than 10%; 10.1% is.
  CHECK(EvaluateWarnings(ok, {{100, 0}, {100, 0}, {1000, 100}}).empty());
  CHECK(Kinds(EvaluateWarnings(ok, {{100, 0}, {100, 0}, {1000, 101}})) == std::set{WarningKind::kContentFailures});
  // Containers: 5% is not more than 5%; 6/100 is.
  CHECK(EvaluateWarnings(ok, {{100, 0}, {100, 5}, {1000, 0}}).empty());
  CHECK(Kinds(EvaluateWarnings(ok, {{100, 0}, {100, 6}, {1000, 0}})) == std::set{WarningKind::kContainerFailures});
  CHECK(Kinds(EvaluateWarnings(ok, {{1000, 0}, {1000, 51}, {1000, 0}})) ==
        std::set{WarningKind::kContainerFailures});
  // Top level: any failure.
  CHECK(Kinds(EvaluateWarnings(ok, {{100, 1}, {100, 0}, {1000, 0}})) == std::set{WarningKind::kTopFailures});
  // The job itself.
  auto failed = EvaluateWarnings(Job(JobStatus::kFailed, 0, 0, 0), {});
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].kind == WarningKind::kLastBackupFailed);
  CHECK(Kinds(EvaluateWarnings(Job(JobStatus::kInterrupted, 0, 0, 0), {})) ==
        std::set{WarningKind::kLastBackupFailed});
  CHECK(EvaluateWarnings(Job(JobStatus::kPartial, 0, 0, 0), {}).empty());
  CHECK(std::string(WarningKindName(WarningKind::kContentFailures)) == "content_failures");
}

TEST_CASE("job events are classified by the depth of their object path", "[sync][warnings]") {
  JobRecord j = Job(JobStatus::kPartial, 10, 1, 90);
  std::vector<JobEvent> events = {{7, 0, "alice@x", "", "r", "", ""},
                                  {7, 0, "bob@x/Mail", "", "r", "", ""},
                                  {7, 0, "carol@x/Mail/Inbox/m1", "", "r", "", ""},
                                  {7, 0, "carol@x/Mail/Inbox/m2", "", "r", "", ""},
                                  {7, 0, "carol@x/Mail/Inbox/m2", "", "again", "", ""}};
  JobLevels l = ClassifyJob(j, events);
  CHECK(l.top.total == 10);
  CHECK(l.top.failed == 1);
  CHECK(l.container.failed == 1);
  CHECK(l.container.total == 10);
  CHECK(l.content.failed == 2);
  CHECK(l.content.total == 92);
  CHECK(Kinds(EvaluateWarnings(j, l)) == std::set{WarningKind::kTopFailures, WarningKind::kContainerFailures});
}

TEST_CASE("recorded levels and container counts decide, not the path depth", "[sync][warnings]") {
  JobRecord j = Job(JobStatus::kPartial, 10, 0, 90);
  j.counts.containers_total = 200;
  // A failed folder deep in the tree is a container; a failed mailbox whose
  // event names its Mail root is top level.
  std::vector<JobEvent> events = {{7, 0, "alice@x/Mail", "", "r", "", kLevelTop},
                                  {7, 0, "bob@x/Mail/Archive/2019/Q1", "", "r", "", kLevelContainer},
                                  {7, 0, "carol@x/Mail/Inbox/m1", "", "r", "", kLevelContent}};
  JobLevels l = ClassifyJob(j, events);
  CHECK(l.top.failed == 1);
  CHECK(l.container.failed == 1);
  CHECK(l.container.total == 200);
  CHECK(l.content.failed == 1);
  CHECK(Kinds(EvaluateWarnings(j, l)) == std::set{WarningKind::kTopFailures});
  // 10 of 200 containers is exactly 5%: no warning; 11 is above.
  for (int i = 0; i < 9; ++i) events.push_back({7, 0, "d@x/Mail/F" + std::to_string(i), "", "r", "", kLevelContainer});
  CHECK(ClassifyJob(j, events).container.failed == 10);
  CHECK_FALSE(Kinds(EvaluateWarnings(j, ClassifyJob(j, events))).count(WarningKind::kContainerFailures));
  events.push_back({7, 0, "d@x/Mail/F9", "", "r", "", kLevelContainer});
  CHECK(Kinds(EvaluateWarnings(j, ClassifyJob(j, events))).count(WarningKind::kContainerFailures));
}

TEST_CASE("licence warnings: 30 days before expiry, and after it", "[sync][warnings]") {
  const int64_t day = int64_t{86400} * 1000000000;
  const int64_t now = int64_t{1800000000} * 1000000000;
  CHECK(EvaluateLicense("t", 0, now).empty());  // not set
  CHECK(EvaluateLicense("t", now + 31 * day, now).empty());
  auto soon = EvaluateLicense("t", now + 30 * day, now);
  REQUIRE(soon.size() == 1);
  CHECK(soon[0].kind == WarningKind::kLicenseExpiring);
  CHECK(soon[0].message.find("in 30 days") != std::string::npos);
  auto last_day = EvaluateLicense("t", now + 1, now);
  REQUIRE(last_day.size() == 1);
  CHECK(last_day[0].message.find("in 1 day)") != std::string::npos);
  auto expired = EvaluateLicense("t", now, now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].kind == WarningKind::kLicenseExpired);
  CHECK(std::string(WarningKindName(WarningKind::kLicenseExpired)) == "license_expired");
}

// --- the daemon's scheduling passes, with fake runs ---

struct DaemonFixture {
  std::string dir;
  ManualClock clock{kMidnight + hours(1)};
  std::unique_ptr<Vault> vault;
  std::unique_ptr<ProfileStore> store;
  std::unique_ptr<DaemonLog> log;
  std::mutex mu;
  std::vector<std::string> ran;

  DaemonFixture() {
    REQUIRE(crypto::InitCrypto());
    static std::atomic<int> n{0};
    dir = (std::filesystem::temp_directory_path() /
           ("m365vault-daemon-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
              .string();
    std::filesystem::remove_all(dir);
    VaultOptions vo;
    vo.pwhash = crypto::PwhashParams::ForTests();
    vo.clock = &clock;
    auto v = Vault::Create(dir, "pw", vo);
    REQUIRE(v.ok());
    vault = std::move(v).value();
    for (const char* name : {"contoso", "fabrikam"}) {
      TenantConfig c;
      c.name = name;
      c.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
      c.client_id = "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40";
      c.credential = "secret-value";
      REQUIRE(vault->AddTenant(c).ok());
    }
    auto s = ProfileStore::Open(*vault, clock);
    REQUIRE(s.ok());
    store = std::move(s).value();
    DaemonLogOptions lo;
    lo.level = LogLevel::kError;
    lo.clock = &clock;
    auto l = DaemonLog::Open(lo);
    REQUIRE(l.ok());
    log = std::move(l).value();
  }
  ~DaemonFixture() {
    store.reset();
    vault.reset();
    std::filesystem::remove_all(dir);
  }

  // Fake runs that record a finished job, like RunBackup / RunDiscovery do.
  DaemonOptions Options(int max_parallel) {
    DaemonOptions o;
    o.max_parallel = max_parallel;
    o.clock = &clock;
    o.log = log.get();
    o.backup = [this](const std::string& tenant, const std::string& type, const std::string& scope) -> Result<RunResult> {
      M365_ASSIGN_OR_RETURN(int64_t id, vault->StartJob(tenant, "backup", type, scope));
      M365_RETURN_IF_ERROR(vault->FinishJob(id, JobStatus::kSucceeded, {}, "", ""));
      std::lock_guard<std::mutex> l(mu);
      ran.push_back(tenant + "/" + type + (scope.empty() ? "" : " " + scope));
      RunResult r;
      r.job_id = id;
      r.status = JobStatus::kSucceeded;
      return r;
    };
    o.discover = [this](const std::string& tenant) -> Status {
      M365_ASSIGN_OR_RETURN(int64_t id, vault->StartJob(tenant, "discovery", ""));
      M365_RETURN_IF_ERROR(vault->FinishJob(id, JobStatus::kSucceeded, {}, "", ""));
      std::lock_guard<std::mutex> l(mu);
      ran.push_back(tenant + "/discovery");
      return Status::OK();
    };
    return o;
  }
};

TEST_CASE("daemon: first pass protects every tenant, then only at slots; missed slots once", "[sync][daemon]") {
  DaemonFixture f;
  REQUIRE(f.store->SetSchedule({"contoso", "exchange", {360, 1080}, true, ""}).ok());
  Daemon d(*f.vault, *f.store, f.Options(/*max_parallel=*/16));
  auto started = d.Tick();
  REQUIRE(started.ok());
  d.WaitIdle();
  // 2 tenants x (discovery + exchange + onedrive).
  CHECK(started->size() == 6);
  CHECK(f.ran.size() == 6);
  started = d.Tick();
  d.WaitIdle();
  CHECK(started->empty());

  // 02:00: the daily discoveries (default discovery time) and nothing else.
  f.clock.Advance(hours(1));
  started = d.Tick();
  d.WaitIdle();
  CHECK(std::set<std::string>(started->begin(), started->end()) ==
        std::set<std::string>{"contoso/discovery", "fabrikam/discovery"});
  // 06:00: contoso's exchange (06:00,18:00) and the default schedules (00,06,12,18).
  f.clock.Advance(hours(4));
  started = d.Tick();
  d.WaitIdle();
  CHECK(std::set<std::string>(started->begin(), started->end()) ==
        std::set<std::string>{"contoso/exchange", "contoso/onedrive", "fabrikam/exchange", "fabrikam/onedrive"});
  // 12:00: the default schedules only.
  f.clock.Advance(hours(6));
  started = d.Tick();
  d.WaitIdle();
  CHECK(std::set<std::string>(started->begin(), started->end()) ==
        std::set<std::string>{"contoso/onedrive", "fabrikam/exchange", "fabrikam/onedrive"});
  // Down for two days: one catch-up run per entry, discovery included.
  f.clock.Advance(hours(48));
  started = d.Tick();
  d.WaitIdle();
  CHECK(started->size() == 6);
  started = d.Tick();
  d.WaitIdle();
  CHECK(started->empty());
}

TEST_CASE("daemon: a container with its own schedule runs at its times; the type's runs leave it out",
          "[sync][daemon]") {
  DaemonFixture f;
  ScanProfile p;
  p.tenant = "contoso";
  p.types = {"exchange"};
  p.mode = ProfileMode::kAdvanced;
  for (const char* r : {"exchange:include:user:ceo@*=>vip", "exchange:include:user:*=>staff"}) p.rules.push_back(*ParseRule(r));
  REQUIRE(f.store->SetProfile(p, {"exchange", "onedrive"}).ok());
  REQUIRE(f.store->SetSchedule({"contoso", "exchange", {360}, true, ""}).ok());
  REQUIRE(f.store->SetSchedule({"contoso", "exchange", {180, 540}, true, "vip"}).ok());
  // A schedule of a container the profile does not name is kept but unused.
  REQUIRE(f.store->SetSchedule({"contoso", "exchange", {60}, true, "gone"}).ok());
  auto own = f.store->ListContainerSchedules("contoso", "exchange");
  REQUIRE(own.ok());
  REQUIRE(own->size() == 2);
  CHECK((*own)[1].container == "vip");
  CHECK((*own)[1].minutes == std::vector<int>{180, 540});

  Daemon d(*f.vault, *f.store, f.Options(/*max_parallel=*/16));
  auto names = [&](const Result<std::vector<std::string>>& r) {
    REQUIRE(r.ok());
    return std::set<std::string>(r->begin(), r->end());
  };
  // 01:00, first pass: the type's run and the container's are both due, but
  // one run per tenant and type at a time: the container waits a pass.
  auto first = names(d.Tick());
  d.WaitIdle();
  CHECK(first.count("contoso/exchange") == 1);
  CHECK(first.count("contoso/exchange:vip") == 0);
  auto second = names(d.Tick());
  d.WaitIdle();
  CHECK(second.count("contoso/exchange:vip") == 1);
  CHECK(second.count("contoso/exchange") == 0);
  {
    std::lock_guard<std::mutex> l(f.mu);
    CHECK(std::count(f.ran.begin(), f.ran.end(), "contoso/exchange type-schedule") == 1);
    CHECK(std::count(f.ran.begin(), f.ran.end(), "contoso/exchange container:vip") == 1);
    CHECK(std::count(f.ran.begin(), f.ran.end(), "contoso/exchange container:gone") == 0);
  }
  CHECK(names(d.Tick()).empty());
  // 03:00: the container (and the daily discoveries of 02:00), not the type.
  f.clock.Advance(hours(2));
  CHECK(names(d.Tick()) ==
        std::set<std::string>{"contoso/exchange:vip", "contoso/discovery", "fabrikam/discovery"});
  d.WaitIdle();
  // 06:00: only the type's own run (and fabrikam's default schedule).
  f.clock.Advance(hours(3));
  auto at6 = names(d.Tick());
  d.WaitIdle();
  CHECK(at6.count("contoso/exchange") == 1);
  CHECK(at6.count("contoso/exchange:vip") == 0);
  // A manual run of everything after the container's 09:00 slot counts for it.
  f.clock.Advance(hours(3) + minutes(5));  // 09:05
  REQUIRE(f.vault->FinishJob(*f.vault->StartJob("contoso", "backup", "exchange"), JobStatus::kSucceeded, {}, "", "")
              .ok());
  CHECK(names(d.Tick()).count("contoso/exchange:vip") == 0);
  d.WaitIdle();
  // Removing the container's schedule: its objects follow the type's again.
  REQUIRE(f.store->RemoveContainerSchedule("contoso", "exchange", "vip").ok());
  CHECK(f.store->RemoveContainerSchedule("contoso", "exchange", "vip").code() == Status::Code::kNotFound);
  f.clock.Advance(hours(24));
  auto next_day = names(d.Tick());
  d.WaitIdle();
  CHECK(next_day.count("contoso/exchange") == 1);
  CHECK(next_day.count("contoso/exchange:vip") == 0);
}

TEST_CASE("run scopes: the type's runs leave out containers with their own schedule", "[sync][daemon]") {
  DaemonFixture f;
  ScanProfile p;
  p.tenant = "contoso";
  p.types = {"exchange"};
  p.mode = ProfileMode::kAdvanced;
  for (const char* r : {"exchange:exclude:user:temp*", "exchange:include:user:ceo@*=>vip",
                        "exchange:include:user:*=>staff"}) {
    p.rules.push_back(*ParseRule(r));
  }
  REQUIRE(f.store->SetProfile(p, {"exchange", "onedrive"}).ok());
  FakeHttpClient http;  // user rules need no Graph request: none is scripted
  testing::CountingTokenProvider tokens;
  GraphClientOptions go;
  go.graph_url = "https://graph.example";
  GraphClient client(go, http, tokens, f.clock);
  std::vector<UserInfo> users = {{"1", "ceo@x", "", ""}, {"2", "ann@x", "", ""}, {"3", "temp1@x", "", ""}};
  auto select = [&](const std::string& scope) {
    auto filter = ProfileFilter(*f.vault, "contoso", "exchange", scope);
    REQUIRE(filter.ok());
    auto kept = (*filter)(client, users);
    REQUIRE(kept.ok());
    std::set<std::string> upns;
    for (const auto& u : *kept) upns.insert(u.upn);
    return upns;
  };
  using Set = std::set<std::string>;
  // Without container schedules the type's runs take every protected object.
  CHECK(select(kScopeTypeSchedule) == Set{"ceo@x", "ann@x"});
  REQUIRE(f.store->SetSchedule({"contoso", "exchange", {180}, true, "vip"}).ok());
  CHECK(select("") == Set{"ceo@x", "ann@x"});
  CHECK(select(kScopeTypeSchedule) == Set{"ann@x"});
  CHECK(select(ContainerScope("vip")) == Set{"ceo@x"});
  CHECK(select(ContainerScope("staff")) == Set{"ann@x"});
  CHECK(ProfileFilter(*f.vault, "contoso", "exchange", ContainerScope("nope")).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK(ProfileFilter(*f.vault, "contoso", "exchange", "bogus").status().code() == Status::Code::kInvalidArgument);
  CHECK(http.requests().empty());
}

TEST_CASE("run scopes: a container's run looks up the profile's groups once", "[sync][daemon]") {
  DaemonFixture f;
  const ScanProfile p =
      m365vault::testing::AdvancedProfile({"exchange:include:group:Sales=>vip", "exchange:include:user:*@x=>staff",
                                           "onedrive:include:user:*"});
  REQUIRE(f.store->SetProfile(p, {"exchange", "onedrive"}).ok());
  FakeHttpClient http;  // each response is scripted once: a second lookup would fail
  http.Enqueue("/v1.0/groups?$select=id,displayName,mail&$top=999",
               FakeResponse::Json(200, R"({"value":[{"id":"g1","displayName":"Sales","mail":null}]})"));
  http.Enqueue("/v1.0/groups/g1/transitiveMembers?$select=id,userPrincipalName&$top=999",
               FakeResponse::Json(200, R"({"value":[{"@odata.type":"#microsoft.graph.user","id":"1"}]})"));
  testing::CountingTokenProvider tokens;
  GraphClientOptions go;
  go.graph_url = "https://graph.example";
  GraphClient client(go, http, tokens, f.clock);
  const std::vector<UserInfo> users = {{"1", "ceo@x", "", ""}, {"2", "ann@x", "", ""}, {"3", "bob@y", "", ""}};
  auto upns = [](const Result<std::vector<UserInfo>>& r) {
    REQUIRE(r.ok());
    std::set<std::string> out;
    for (const auto& u : *r) out.insert(u.upn);
    return out;
  };
  RunOptions ro;
  ro.scope = ContainerScope("staff");
  REQUIRE(ApplyProfile(*f.vault, "contoso", "exchange", &ro).ok());
  REQUIRE(ro.select_objects);
  REQUIRE(ro.select_protected);
  CHECK(upns(ro.select_objects(client, users)) == std::set<std::string>{"ann@x"});
  CHECK(upns(ro.select_protected(client, users)) == std::set<std::string>{"ceo@x", "ann@x"});
  CHECK(http.RequestCount("/groups?") == 1);
  CHECK(http.Unserved() == 0);
  // A run of everything needs no second selector.
  RunOptions all;
  REQUIRE(ApplyProfile(*f.vault, "contoso", "exchange", &all).ok());
  CHECK_FALSE(all.select_protected);
  RunOptions unknown;
  unknown.scope = ContainerScope("nope");
  CHECK(ApplyProfile(*f.vault, "contoso", "exchange", &unknown).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("daemon: the parallel limit holds and a running entry is not started twice", "[sync][daemon]") {
  DaemonFixture f;
  std::atomic<bool> release{false};
  std::atomic<int> concurrent{0}, peak{0};
  DaemonOptions o = f.Options(2);
  auto inner = o.backup;
  o.backup = [&](const std::string& tenant, const std::string& type, const std::string& scope) {
    int now = ++concurrent;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --concurrent;
    return inner(tenant, type, scope);
  };
  o.discover = [&](const std::string&) {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Status::OK();
  };
  Daemon d(*f.vault, *f.store, o);
  auto first = d.Tick();
  REQUIRE(first.ok());
  CHECK(first->size() == 2);
  CHECK(d.Running() == 2);
  // Still blocked: nothing more starts, and the running entries are not repeated.
  auto second = d.Tick();
  CHECK(second->empty());
  release = true;
  d.WaitIdle();
  CHECK(peak.load() <= 2);
  // The rest follows within the limit (blocked again, so a run that ends
  // at once cannot free its slot for a third within this pass).
  release = false;
  auto third = d.Tick();
  CHECK(third->size() == 2);
  CHECK(d.Running() == 2);
  for (const auto& k : *third) CHECK(std::find(first->begin(), first->end(), k) == first->end());
  release = true;
  d.WaitIdle();
  CHECK(peak.load() <= 2);
}

TEST_CASE("daemon: a run that cannot start is retried at the next slot, not every pass", "[sync][daemon]") {
  DaemonFixture f;
  DaemonOptions o = f.Options(16);
  std::atomic<int> attempts{0};
  o.backup = [&](const std::string&, const std::string&, const std::string&) -> Result<RunResult> {
    ++attempts;
    return Status::Busy("repository locked");
  };
  Daemon d(*f.vault, *f.store, o);
  (void)d.Tick();
  d.WaitIdle();
  CHECK(attempts == 4);
  f.clock.Advance(minutes(30));
  (void)d.Tick();
  d.WaitIdle();
  CHECK(attempts == 4);
  f.clock.Advance(hours(5));  // 06:30: past the 06:00 slot
  (void)d.Tick();
  d.WaitIdle();
  CHECK(attempts == 8);
}

TEST_CASE("daemon lock: one daemon per vault", "[sync][daemon]") {
  DaemonFixture f;
  auto first = DaemonLock::Acquire(f.dir);
  REQUIRE(first.ok());
  // flock is per open file description: a second open in this process conflicts too.
  auto second = DaemonLock::Acquire(f.dir);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message().find("another daemon (pid " + std::to_string(::getpid()) + ")") !=
        std::string::npos);
  first->reset();
  CHECK(DaemonLock::Acquire(f.dir).ok());
}

TEST_CASE("daemon log rotates by size", "[sync][daemon]") {
  DaemonFixture f;
  DaemonLogOptions lo;
  lo.file = f.dir + "/d.log";
  lo.max_bytes = 200;
  lo.keep = 2;
  lo.clock = &f.clock;
  auto log = DaemonLog::Open(lo);
  REQUIRE(log.ok());
  for (int i = 0; i < 20; ++i) (*log)->Info("line number " + std::to_string(i) + " of the test log");
  (*log)->Debug("not shown");
  CHECK(std::filesystem::file_size(lo.file) <= 200);
  CHECK(std::filesystem::exists(lo.file + ".1"));
  CHECK(std::filesystem::exists(lo.file + ".2"));
  CHECK_FALSE(std::filesystem::exists(lo.file + ".3"));
  CHECK(ParseLogLevel("warn").ok());
  CHECK_FALSE(ParseLogLevel("loud").ok());
}

}  // namespace
}  // namespace m365vault::sync
