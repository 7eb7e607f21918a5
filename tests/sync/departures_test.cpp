// tests/sync/departures_test.cpp: users leaving the snapshot (sync/engine/departures.h).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "backend/meta_blob.h"
#include "backend/snapshot_reader.h"
#include "sync/engine/departures.h"
#include "sync/schedule/warnings.h"
#include "tests/backend/test_util.h"

namespace m365vault::sync {
namespace {

UserInfo User(const std::string& id, const std::string& upn) { return {id, upn, upn, upn}; }

// Snapshots of a fake object type whose users each own <upn>/data.txt and
// a state object with one container.
struct Runs {
  m365vault::testing::TestRepo store;
  std::optional<SnapshotInfo> last;
  std::unique_ptr<SnapshotWriter> writer;
  std::unique_ptr<SyncStateStore> state;

  void Begin() {
    auto w = SnapshotWriter::Start(*store.repo, last ? &*last : nullptr);
    REQUIRE(w.ok());
    writer = std::move(w).value();
    state = std::make_unique<SyncStateStore>(*store.repo);
    if (last) REQUIRE(state->Load(last->sync_state).ok());
  }
  void Backup(const UserInfo& u, const std::string& link = "L1") {
    REQUIRE(writer->PutFile(UserDirName(u) + "/data.txt", AsBytes("data of " + u.id), {}).ok());
    auto obj = state->GetObject("user:" + u.id);
    REQUIRE(obj.ok());
    state->GetContainer(**obj, "c").delta_link = link;
  }
  void Commit() {
    auto saved = state->Save();
    REQUIRE(saved.ok());
    REQUIRE(writer->SetSyncState(*saved).ok());
    SnapshotInfo fields;
    fields.object_type = "test";
    fields.time_ns = last ? last->time_ns + 1000000000 : 1700000000000000000;
    auto info = writer->Commit(fields);
    REQUIRE(info.ok());
    last = *info;
  }
  std::set<std::string> TopNames() {
    SnapshotReader reader(*store.repo, *last);
    auto dir = reader.ListDirectory("");
    REQUIRE(dir.ok());
    std::set<std::string> out;
    for (const auto& e : (*dir)->entries) out.insert(e.name);
    return out;
  }
  std::set<std::string> StateKeys() {
    SyncStateStore s(*store.repo);
    REQUIRE(s.Load(last->sync_state).ok());
    auto keys = s.ObjectKeys();
    return {keys.begin(), keys.end()};
  }
};

TEST_CASE("departures: deleted, excluded and renamed users", "[sync][departures]") {
  const UserInfo ann = User("A", "ann@x"), bob = User("B", "bob@x"), cy = User("C", "cy@x"), dee = User("D", "dee@x");
  Runs r;
  r.Begin();
  for (const auto& u : {ann, bob, cy, dee}) r.Backup(u);
  REQUIRE(RecordUserDirs(*r.writer, *r.state, {ann, bob, cy, dee}).ok());
  r.Commit();
  const SnapshotInfo first = *r.last;
  CHECK(r.TopNames() == std::set<std::string>{"ann@x", "bob@x", "cy@x", "dee@x"});

  // Bob is deleted, Cy renamed, Dee excluded by the profile, and a new user
  // took Bob's UPN.
  const UserInfo cy2 = User("C", "cy.new@x"), bob2 = User("B2", "bob@x");
  r.Begin();
  auto gone = RemoveDepartedUsers(*r.writer, *r.state, {ann, cy2, dee, bob2}, {"A", "C", "B2"}, {"A", "C", "B2"});
  REQUIRE(gone.ok());
  REQUIRE(gone->size() == 2);
  std::map<Departure::Reason, Departure> by;
  for (const auto& d : *gone) by[d.reason] = d;
  CHECK(by[Departure::Reason::kNotInTenant].key == "user:B");
  CHECK(by[Departure::Reason::kNotInTenant].dir == "bob@x");
  CHECK(by[Departure::Reason::kExcludedByProfile].key == "user:D");
  CHECK(by[Departure::Reason::kExcludedByProfile].dir == "dee@x");
  CHECK(by[Departure::Reason::kExcludedByProfile].upn == "dee@x");
  // The renamed user's data moved (no re-download: its state is kept).
  CHECK(r.state->ObjectDir("user:C") == "cy.new@x");
  auto moved = r.writer->Lookup("cy.new@x/data.txt");
  REQUIRE(moved.ok());
  CHECK(moved->has_value());
  auto c = r.state->GetObject("user:C");
  REQUIRE(c.ok());
  CHECK(r.state->GetContainer(**c, "c").delta_link == "L1");
  r.Backup(bob2, "L2");
  REQUIRE(RecordUserDirs(*r.writer, *r.state, {ann, cy2, bob2}).ok());
  r.Commit();
  CHECK(r.TopNames() == std::set<std::string>{"ann@x", "bob@x", "cy.new@x"});
  CHECK(r.StateKeys() == std::set<std::string>{"user:A", "user:B2", "user:C"});
  {
    // The new bob@x holds only the new user's data.
    SnapshotReader reader(*r.store.repo, *r.last);
    auto e = reader.Lookup("bob@x/data.txt");
    REQUIRE(e.ok());
    auto data = reader.ReadAll(*e);
    REQUIRE(data.ok());
    CHECK(AsString(*data) == "data of B2");
  }
  // The first snapshot is untouched.
  SnapshotReader old(*r.store.repo, first);
  for (const char* p : {"bob@x/data.txt", "dee@x/data.txt", "cy@x/data.txt"}) {
    INFO(p);
    auto e = old.Lookup(p);
    REQUIRE(e.ok());
  }

  // A run of another scope (container schedules): Ann and Cy belong to other
  // scopes and stay as they were; only the departed go.
  r.Begin();
  auto scoped = RemoveDepartedUsers(*r.writer, *r.state, {ann, cy2}, {}, {"A", "C"});
  REQUIRE(scoped.ok());
  REQUIRE(scoped->size() == 1);
  CHECK(scoped->front().key == "user:B2");
  CHECK(scoped->front().reason == Departure::Reason::kNotInTenant);
  auto kept = r.writer->Lookup("ann@x/data.txt");
  REQUIRE(kept.ok());
  CHECK(kept->has_value());
  CHECK(r.state->ObjectDir("user:A") == "ann@x");

  // Nothing changes when everyone is still listed and selected.
  r.Begin();
  auto none = RemoveDepartedUsers(*r.writer, *r.state, {ann, cy2, bob2}, {"A", "C", "B2"}, {"A", "C", "B2"});
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("departures: users no longer applicable", "[sync][departures]") {
  const UserInfo ann = User("A", "ann@x"), bob = User("B", "bob@x");
  Runs r;
  r.Begin();
  r.Backup(ann);
  REQUIRE(RecordUserDirs(*r.writer, *r.state, {ann, bob}).ok());
  r.Commit();
  r.Begin();
  auto d = RemoveNotApplicable(*r.writer, *r.state, ann);
  REQUIRE(d.ok());
  REQUIRE(d->size() == 1);
  CHECK(d->front().reason == Departure::Reason::kNotApplicable);
  CHECK(d->front().dir == "ann@x");
  auto never = RemoveNotApplicable(*r.writer, *r.state, bob);  // never had data: not a departure
  REQUIRE(never.ok());
  CHECK(never->empty());
  r.Commit();
  CHECK(r.TopNames().empty());
  CHECK(r.StateKeys().empty());
}

TEST_CASE("departures: states written before directories were recorded", "[sync][departures]") {
  const UserInfo ann = User("A", "ann@x"), bob = User("B", "bob@x"), cy = User("C", "cy@x");
  Runs r;
  r.Begin();
  for (const auto& u : {ann, bob, cy}) r.Backup(u);
  r.Commit();  // no RecordUserDirs: then rewrite the root as an old state
  {
    SyncStateStore s(*r.store.repo);
    REQUIRE(s.Load(r.last->sync_state).ok());
    auto saved = s.Save();
    REQUIRE(saved.ok());
    auto root = DecodeMetaBlob(*saved);
    REQUIRE(root.ok());
    auto j = nlohmann::json::parse(AsString(root->payload));
    j.erase("dirs");  // and written without the envelope, as such states were
    r.Begin();
    REQUIRE(r.writer->SetSyncState(AsBytes(j.dump())).ok());
    SnapshotInfo fields;
    fields.object_type = "test";
    fields.time_ns = r.last->time_ns + 1;
    auto info = r.writer->Commit(fields);
    REQUIRE(info.ok());
    r.last = *info;
  }
  r.Begin();
  CHECK_FALSE(r.state->HasDirs());
  // Bob left, Cy was renamed since the last run.
  const UserInfo cy2 = User("C", "cy.new@x");
  auto gone = RemoveDepartedUsers(*r.writer, *r.state, {ann, cy2}, {"A", "C"}, {"A", "C"});
  REQUIRE(gone.ok());
  std::set<std::string> dirs;
  for (const auto& d : *gone) {
    CHECK(d.reason == Departure::Reason::kNotInTenant);
    dirs.insert(d.dir);
  }
  CHECK(dirs == std::set<std::string>{"bob@x", "cy@x"});
  r.Commit();
  CHECK(r.TopNames() == std::set<std::string>{"ann@x"});
  // Cy's state is dropped too: the next run fetches everything into cy.new@x.
  CHECK(r.StateKeys() == std::set<std::string>{"user:A"});
}

TEST_CASE("departures: job events are info, not failures", "[sync][departures]") {
  Departure d{Departure::Reason::kNotInTenant, "user:B", "bob@x", ""};
  JobEvent e = DepartureEvent(d, "exchange", "2026-11-24T180000Z");
  CHECK(e.IsInfo());
  CHECK(e.level == kLevelInfo);
  CHECK(e.code == "info.user_removed");
  CHECK(e.object == "bob@x");
  CHECK(e.reason == "user bob@x no longer in the tenant; removed from this snapshot, kept in snapshots up to "
                    "2026-11-24T180000Z");
  Departure x{Departure::Reason::kExcludedByProfile, "user:D", "dee@x", "dee@x"};
  JobEvent ex = DepartureEvent(x, "exchange", "2026-11-24T180000Z");
  CHECK(ex.code == "info.user_excluded");
  CHECK(ex.reason.find("excluded by the scan profile") != std::string::npos);
  JobEvent na = DepartureEvent({Departure::Reason::kNotApplicable, "user:E", "eve@x", "eve@x"}, "onedrive", "T");
  CHECK(na.reason.find("no longer has a OneDrive") != std::string::npos);

  JobRecord job;
  job.counts.objects_total = 4;
  JobEvent failure{0, 0, "cy@x", "ErrorMailboxMoveInProgress", "mailbox moving", "", kLevelTop};
  JobLevels levels = ClassifyJob(job, {e, ex, na, failure});
  CHECK(levels.top.failed == 1);  // only the real failure
}

}  // namespace
}  // namespace m365vault::sync
