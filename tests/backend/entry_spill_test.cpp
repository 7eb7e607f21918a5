// Directory listings moved out of memory: EntrySpill (the SQLite spill),
// DirEntries (memory or spill), and a SnapshotWriter with a tiny budget
// writing exactly the snapshot it writes in memory.
#include <map>
#include <set>

#include "backend/dir_entries.h"
#include "backend/entry_spill.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::vector<std::pair<std::string, Bytes>> All(DirEntries& d) {
  std::vector<std::pair<std::string, Bytes>> out;
  REQUIRE(d.ForEach([&](std::string_view name, ByteView body) {
             out.emplace_back(std::string(name), Bytes(body.begin(), body.end()));
             return Status::OK();
           }).ok());
  return out;
}

}  // namespace

TEST_CASE("the spill keeps entries per directory in std::string order", "[backend][spill]") {
  auto spill = EntrySpill::Open();
  REQUIRE(spill.ok());
  EntrySpill& s = **spill;
  const int64_t a = s.NewDir(), b = s.NewDir();
  REQUIRE(a != b);
  // Bytes above 0x7f and an embedded prefix: memcmp order, as std::string.
  std::set<std::string> names = {"b", "a", "ab", "\xc3\xa9t\xc3\xa9", "Z", "a b", "\x7f", "zz"};
  for (const auto& n : names) REQUIRE(s.Put(a, n, B("body of " + n)).ok());
  REQUIRE(s.Put(b, "a", B("other dir")).ok());
  REQUIRE(s.Put(a, "ab", B("replaced")).ok());
  CHECK(*s.Count(a) == names.size());
  CHECK(*s.Count(b) == 1);
  std::vector<std::string> order;
  REQUIRE(s.ForEach(a, [&](std::string_view n, ByteView) {
             order.emplace_back(n);
             return Status::OK();
           }).ok());
  CHECK(order == std::vector<std::string>(names.begin(), names.end()));
  CHECK(**s.Get(a, "ab") == B("replaced"));
  CHECK(**s.Get(b, "a") == B("other dir"));
  CHECK(!s.Get(a, "nope")->has_value());
  CHECK(*s.Erase(a, "a"));
  CHECK(!*s.Erase(a, "a"));
  CHECK(*s.Count(a) == names.size() - 1);
  // A failing callback stops the walk with its status.
  int seen = 0;
  Status stopped = s.ForEach(a, [&](std::string_view, ByteView) {
    return ++seen == 2 ? Status::Cancelled("enough") : Status::OK();
  });
  CHECK(stopped.code() == Status::Code::kCancelled);
  CHECK(seen == 2);
  REQUIRE(s.Drop(a).ok());
  CHECK(*s.Count(a) == 0);
  CHECK(*s.Count(b) == 1);
}

TEST_CASE("a listing moved to the spill answers as it did in memory and frees its memory", "[backend][spill]") {
  auto spill = EntrySpill::Open();
  REQUIRE(spill.ok());
  size_t held = 0;
  DirEntries d(&held);
  for (int i = 0; i < 500; ++i) REQUIRE(d.Put("f" + std::to_string(i), RandomBytes(40 + i % 7, i)).ok());
  REQUIRE(d.Put("f7", B("new body")).ok());
  CHECK(*d.Erase("f9"));
  CHECK(held == d.memory());
  CHECK(held > 499 * 40);
  const auto before = All(d);
  REQUIRE(d.Spill(**spill).ok());
  CHECK(d.spilled());
  CHECK(d.memory() == 0);
  CHECK(held == 0);
  CHECK(All(d) == before);
  CHECK(**d.Get("f7") == B("new body"));
  CHECK(!*d.Contains("f9"));
  REQUIRE(d.Put("f9", B("back")).ok());
  CHECK(*d.Contains("f9"));
  CHECK(held == 0);  // spilled entries cost no memory
  std::vector<std::string> drained;
  REQUIRE(d.Drain([&](std::string_view n, ByteView) {
             drained.emplace_back(n);
             return Status::OK();
           }).ok());
  CHECK(drained.size() == 500);
  CHECK(All(d).empty());

  // In memory, Drain frees as it goes and the writer's total follows.
  DirEntries m(&held);
  REQUIRE(m.Put("x", B("1")).ok());
  REQUIRE(m.Put("y", B("2")).ok());
  REQUIRE(m.Drain([&](std::string_view, ByteView) { return Status::OK(); }).ok());
  CHECK(held == 0);
}

TEST_CASE("a writer over its listing budget spills and writes the same snapshot", "[backend][spill][snapshot]") {
  TestRepo t;
  // The same operations with the default budget and with one so small that
  // every directory of more than a few entries goes to the spill.
  auto build = [&](const SnapshotInfo* parent, SnapshotWriterOptions options, int round) {
    auto w = SnapshotWriter::Start(*t.repo, parent, options);
    REQUIRE(w.ok());
    SnapshotWriter& wr = **w;
    for (int i = 0; i < 3000; ++i) {
      const std::string dir = "u" + std::to_string(i % 3) + "/Mail/" + (i % 5 == 0 ? "Archive" : "Inbox");
      EntryAttributes a = Attrs(1'700'000'000'000'000'000 + i, "id-" + std::to_string(i) + "-" + std::to_string(round));
      REQUIRE(wr.PutFile(dir + "/m" + std::to_string(i) + ".eml", RandomBytes(20 + i % 50, i * 7 + round), a).ok());
    }
    REQUIRE(wr.Remove("u1/Mail/Inbox/m1.eml").ok());
    REQUIRE(wr.Remove("u0/Mail/Inbox/nothing.eml").IsNotFound());
    REQUIRE(wr.Rename("u2/Mail/Inbox/m2.eml", "u2/Mail/Archive/moved " + std::to_string(round) + ".eml").ok());
    REQUIRE(wr.Rename("u0/Mail/Inbox/m3.eml", "u0/Mail/Inbox/m6.eml").code() == Status::Code::kAlreadyExists);
    REQUIRE(wr.MakeDirectory("u1/Mail/Inbox/Sub", EntryAttributes{}).ok());
    REQUIRE(wr.Persist("u0").ok());
    auto found = wr.Lookup("u1/Mail/Inbox/m4.eml");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    auto names = wr.ListNames("u2/Mail/Inbox");
    REQUIRE(names.ok());
    CHECK(std::is_sorted(names->begin(), names->end()));
    CHECK(names->size() == 799);  // 800 of u2's Inbox, one moved out
    auto snap = wr.Commit(SnapshotInfo{});
    REQUIRE(snap.ok());
    return *snap;
  };
  SnapshotWriterOptions tiny;
  tiny.entry_budget = 8 * 1024;
  const SnapshotInfo plain1 = build(nullptr, {}, 1);
  const SnapshotInfo spilled1 = build(nullptr, tiny, 1);
  CHECK(spilled1.root == plain1.root);
  CHECK(plain1.stats.at("directories_spilled") == 0);
  CHECK(spilled1.stats.at("directories_spilled") > 0);
  CHECK(spilled1.stats.at("total_files") == plain1.stats.at("total_files"));
  CHECK(spilled1.stats.at("total_bytes") == plain1.stats.at("total_bytes"));
  // A second run loads the big directories from the first (spilling as they load).
  const SnapshotInfo plain2 = build(&plain1, {}, 2);
  const SnapshotInfo spilled2 = build(&spilled1, tiny, 2);
  CHECK(spilled2.root == plain2.root);
  CHECK(spilled2.stats.at("total_files") == plain2.stats.at("total_files"));
  CHECK(spilled2.stats.at("directories_spilled") > 0);
  CHECK(ReadPath(*t.repo, spilled2, "u2/Mail/Archive/moved 2.eml") == RandomBytes(22, 2 * 7 + 2));
}
