// tests/sync/delta_engine_test.cpp: the generic delta engine on a scripted
// Graph (FakeHttpClient) and an in-memory repository: paging, last-wins
// replays, 410 resync whose deletions wait for a complete full round,
// per-item failures retried by the next run, renames of folders by id,
// unique names, and the sync state store.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "backend/clock.h"
#include "sync/engine/delta_engine.h"
#include "sync/graph/fake_http_client.h"
#include "sync/engine/safe_name.h"
#include "sync/engine/sync_state.h"
#include "tests/backend/test_util.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {
namespace {

using json = nlohmann::json;

// Test items: {"id","parent","name","v"} (+"folder":true, "removed":true).
class TestTraits final : public ItemTraits {
 public:
  ItemChange Parse(const json& it) const override {
    ItemChange c;
    c.id = it.value("id", "");
    if (it.value("removed", false)) {
      c.kind = ItemChange::Kind::kRemove;
      return c;
    }
    if (it.value("root", false)) {
      c.kind = ItemChange::Kind::kRoot;
      return c;
    }
    c.kind = ItemChange::Kind::kUpsert;
    c.parent = it.value("parent", "");
    c.folder = it.value("folder", false);
    std::tie(c.stem, c.ext) = SplitExtension(it.value("name", ""));
    c.etag = std::to_string(it.value("v", 1));
    if (!c.folder) c.content_url = "https://graph.test/content/" + c.id + "/" + c.etag;
    c.attrs.metadata["m365.id"] = c.id;
    return c;
  }
};

std::string Content(const std::string& id, const std::string& v) { return "content of " + id + " v" + v; }

// A scripted delta endpoint: pages by URL, content by URL; counts downloads.
struct FakeGraph {
  FakeHttpClient http;
  sync::testing::CountingTokenProvider tokens;
  ManualClock clock;
  std::unique_ptr<GraphClient> client;
  std::map<std::string, std::vector<FakeResponse>> pages;  // URL -> responses (served in order, last repeats)
  std::map<std::string, int> page_hits;
  std::set<std::string> failing_content;  // ids whose download fails (404)
  int downloads = 0;

  FakeGraph() {
    GraphClientOptions o;
    o.graph_url = "https://graph.test";
    o.random = [] { return 0.0; };
    client = std::make_unique<GraphClient>(o, http, tokens, clock);
    http.SetHandler([this](const HttpRequest& req) -> std::optional<FakeResponse> {
      const std::string& url = req.url;
      if (url.find("/content/") != std::string::npos) {
        const std::string rest = url.substr(url.find("/content/") + 9);
        const std::string id = rest.substr(0, rest.find('/'));
        const std::string v = rest.substr(rest.find('/') + 1);
        if (failing_content.count(id)) {
          return FakeResponse::Json(404, R"({"error":{"code":"itemNotFound","message":"gone"}})");
        }
        ++downloads;
        FakeResponse r;
        r.status = 200;
        r.body = Content(id, v);
        return r;
      }
      auto it = pages.find(url);
      if (it == pages.end()) return FakeResponse::Json(400, R"({"error":{"code":"BadRequest","message":")" + url + "\"}}");
      int& hit = page_hits[url];
      const FakeResponse& r = it->second[std::min<size_t>(hit, it->second.size() - 1)];
      ++hit;
      return r;
    });
  }
  void Page(const std::string& url, json items, const std::string& next, const std::string& delta) {
    json page = {{"value", items}};
    if (!next.empty()) page["@odata.nextLink"] = next;
    if (!delta.empty()) page["@odata.deltaLink"] = delta;
    pages[url] = {FakeResponse::Json(200, page.dump())};
  }
  void Fail(const std::string& url, int status, const std::string& code) {
    pages[url] = {FakeResponse::Json(status, json({{"error", {{"code", code}, {"message", "x"}}}}).dump())};
  }
};

constexpr char kStart[] = "https://graph.test/v1.0/delta";

json File(const std::string& id, const std::string& name, int v = 1, const std::string& parent = "") {
  return {{"id", id}, {"name", name}, {"v", v}, {"parent", parent}};
}
json Folder(const std::string& id, const std::string& name, const std::string& parent = "") {
  return {{"id", id}, {"name", name}, {"folder", true}, {"parent", parent}};
}
json Removed(const std::string& id) { return {{"id", id}, {"removed", true}}; }

struct Harness {
  m365vault::testing::TestRepo store;
  FakeGraph graph;
  ContainerState state;
  std::optional<SnapshotInfo> last;
  SyncCounters counters;
  ContainerSpec spec{"c", "alice", "/delta", {}, "alice"};

  ContainerResult Run() {
    auto writer = SnapshotWriter::Start(*store.repo, last ? &*last : nullptr);
    REQUIRE(writer.ok());
    TestTraits traits;
    ContainerResult r = SyncContainer(*graph.client, **writer, spec, traits, state, counters);
    SnapshotInfo fields;
    fields.object_type = "test";
    auto info = (*writer)->Commit(fields);
    REQUIRE(info.ok());
    last = *info;
    return r;
  }
  // path -> content for every file under alice/.
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> out;
    SnapshotReader reader(*store.repo, *last);
    std::function<void(const std::string&)> walk = [&](const std::string& dir) {
      auto listing = reader.ListDirectory(dir);
      if (!listing.ok()) return;
      for (const auto& e : (*listing)->entries) {
        const std::string p = dir + "/" + e.name;
        if (e.kind == EntryKind::kDirectory) {
          out[p + "/"] = "";
          walk(p);
        } else {
          auto data = reader.ReadAll(e);
          REQUIRE(data.ok());
          out[p] = std::string(AsString(*data));
        }
      }
    };
    walk("alice");
    return out;
  }
};

}  // namespace

TEST_CASE("engine pages a round and stores the delta link", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart, {File("a", "a.txt"), Folder("f", "F")}, "https://graph.test/p2", "");
  h.graph.Page("https://graph.test/p2", json::array(), "https://graph.test/p3", "");  // empty page with nextLink
  h.graph.Page("https://graph.test/p3", {File("b", "b.txt", 1, "f")}, "", "https://graph.test/d1");
  auto r = h.Run();
  REQUIRE(r.status.ok());
  CHECK(h.state.delta_link == "https://graph.test/d1");
  auto files = h.Files();
  CHECK(files["alice/a.txt"] == Content("a", "1"));
  CHECK(files["alice/F/b.txt"] == Content("b", "1"));
  CHECK(h.counters.items == 2);
}

TEST_CASE("engine: the same id repeated in a round and replayed across rounds", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart, {File("a", "a.txt", 1), File("b", "b.txt", 1), File("a", "a.txt", 2), Removed("b")}, "",
               "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  auto files = h.Files();
  CHECK(files.size() == 1);
  CHECK(files["alice/a.txt"] == Content("a", "2"));  // last occurrence wins, fetched once
  CHECK(h.graph.downloads == 1);
  // Next round replays a (unchanged) and removes an unknown id: nothing to do.
  h.graph.Page("https://graph.test/d1", {File("a", "a.txt", 2), Removed("zzz")}, "", "https://graph.test/d2");
  REQUIRE(h.Run().status.ok());
  CHECK(h.graph.downloads == 1);
  CHECK(h.Files() == files);
  CHECK(h.state.delta_link == "https://graph.test/d2");
}

TEST_CASE("engine: 410 resync deletes only after the full round completed", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart, {File("a", "a.txt"), File("b", "b.txt"), File("c", "c.txt")}, "", "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  REQUIRE(h.Files().size() == 3);

  // The link is refused; the full round breaks after its first page.
  h.graph.Fail("https://graph.test/d1", 410, "SyncStateNotFound");
  h.graph.Page(kStart, {File("a", "a.txt")}, "https://graph.test/full2", "");
  h.graph.Fail("https://graph.test/full2", 400, "BadRequest");
  auto r = h.Run();
  CHECK_FALSE(r.status.ok());
  CHECK(h.Files().size() == 3);  // nothing deleted by an incomplete round
  CHECK(h.state.delta_link == "https://graph.test/d1");

  // Now the full round completes: c was not returned -> deleted; b updated.
  h.graph.Page("https://graph.test/full2", {File("b", "b.txt", 2)}, "", "https://graph.test/d2");
  r = h.Run();
  REQUIRE(r.status.ok());
  CHECK(r.resynced);
  auto files = h.Files();
  CHECK(files.size() == 2);
  CHECK(files.count("alice/c.txt") == 0);
  CHECK(files["alice/b.txt"] == Content("b", "2"));
  CHECK(files["alice/a.txt"] == Content("a", "1"));
  CHECK(h.graph.downloads == 4);  // a not fetched again
  CHECK(h.state.delta_link == "https://graph.test/d2");
}

TEST_CASE("engine: a failed item is recorded and fetched by the next run", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart, {File("a", "a.txt"), File("b", "b.txt")}, "", "https://graph.test/d1");
  h.graph.failing_content.insert("b");
  auto r = h.Run();
  REQUIRE(r.status.ok());
  REQUIRE(r.outcome.failures.size() == 1);
  CHECK(r.outcome.failures[0].object == "alice/b.txt");
  CHECK(r.outcome.failures[0].code == "itemNotFound");
  CHECK_FALSE(r.outcome.failures[0].hint.empty());
  CHECK(h.state.delta_link.empty());  // the round will be replayed
  CHECK(h.Files().size() == 1);

  h.graph.failing_content.clear();
  r = h.Run();  // full round again (no link yet): b is fetched, a is not
  REQUIRE(r.status.ok());
  CHECK(r.outcome.failures.empty());
  CHECK(h.Files()["alice/b.txt"] == Content("b", "1"));
  CHECK(h.graph.downloads == 2);
  CHECK(h.state.delta_link == "https://graph.test/d1");

  // An existing item whose new version fails keeps its old content.
  h.graph.Page("https://graph.test/d1", {File("a", "a.txt", 2)}, "", "https://graph.test/d2");
  h.graph.failing_content.insert("a");
  r = h.Run();
  CHECK(r.outcome.failures.size() == 1);
  CHECK(h.Files()["alice/a.txt"] == Content("a", "1"));
  CHECK(h.state.delta_link == "https://graph.test/d1");
  h.graph.failing_content.clear();
  r = h.Run();
  CHECK(r.outcome.failures.empty());
  CHECK(h.Files()["alice/a.txt"] == Content("a", "2"));
}

TEST_CASE("engine: folder renames and moves are tracked by id without downloads", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart,
               {json{{"id", "root"}, {"root", true}}, Folder("f", "Docs", "root"), Folder("g", "Sub", "f"),
                File("x", "x.txt", 1, "g"), File("y", "y.txt", 1, "root")},
               "", "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  CHECK(h.Files().count("alice/Docs/Sub/x.txt"));
  CHECK(h.Files().count("alice/y.txt"));
  const int before = h.graph.downloads;
  // Rename Docs -> Papers (descendants are not re-emitted), move y into Sub,
  // and swap names of two siblings in one round.
  h.graph.Page("https://graph.test/d1", {Folder("f", "Papers", "root"), File("y", "y.txt", 1, "g")}, "",
               "https://graph.test/d2");
  REQUIRE(h.Run().status.ok());
  auto files = h.Files();
  CHECK(files["alice/Papers/Sub/x.txt"] == Content("x", "1"));
  CHECK(files["alice/Papers/Sub/y.txt"] == Content("y", "1"));
  CHECK(files.count("alice/Docs/") == 0);
  CHECK(h.graph.downloads == before);
  // Delete the folder: its subtree goes.
  h.graph.Page("https://graph.test/d2", {Removed("f"), Removed("g"), Removed("x"), Removed("y")}, "",
               "https://graph.test/d3");
  REQUIRE(h.Run().status.ok());
  CHECK(h.Files().empty());
}

TEST_CASE("engine: identical and hostile names get unique, stable names", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart,
               {File("1", "report.txt"), File("2", "report.txt"), File("3", "a/b.txt"), File("4", "a_b.txt"),
                File("5", ".."), File("6", "x\xE2\x80\xAE.txt")},
               "", "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  auto files = h.Files();
  CHECK(files.size() == 6);
  CHECK(files["alice/report.txt"] == Content("1", "1"));
  CHECK(files["alice/report [" + ShortId("2") + "].txt"] == Content("2", "1"));
  CHECK(files["alice/a_b.txt"] == Content("3", "1"));
  CHECK(files["alice/a_b [" + ShortId("4") + "].txt"] == Content("4", "1"));
  CHECK(files["alice/_"] == Content("5", "1"));
  CHECK(files.count("alice/x_.txt"));
  // Names are stable: a later change to item 2 keeps its name.
  h.graph.Page("https://graph.test/d1", {File("2", "report.txt", 2)}, "", "https://graph.test/d2");
  REQUIRE(h.Run().status.ok());
  CHECK(h.Files()["alice/report [" + ShortId("2") + "].txt"] == Content("2", "2"));
}

TEST_CASE("sync state store: unchanged containers are not read or rewritten", "[sync][engine]") {
  m365vault::testing::TestRepo store;
  SyncStateStore s1(*store.repo);
  REQUIRE(s1.Load(BlobId{}).ok());
  auto obj = s1.GetObject("user:1");
  REQUIRE(obj.ok());
  ContainerState& c = s1.GetContainer(**obj, "drive:x");
  c.delta_link = "L1";
  c.nodes["a"] = NodeState{"", "a.txt", "a.txt", "1", false};
  auto root = s1.Save();
  REQUIRE(root.ok());
  const BlobId id = store.repo->HashBlob(AsBytes(*root));
  REQUIRE(store.repo->SaveBlob(BlobType::kMeta, id, AsBytes(*root)).ok());
  REQUIRE(store.repo->Flush().ok());

  SyncStateStore s2(*store.repo);
  REQUIRE(s2.Load(id).ok());
  auto obj2 = s2.GetObject("user:1");
  REQUIRE(obj2.ok());
  ContainerState& c2 = s2.GetContainer(**obj2, "drive:x");
  CHECK(c2.delta_link == "L1");
  CHECK(c2.nodes.empty());  // not read yet
  REQUIRE(c2.load_nodes);
  auto root2 = s2.Save();  // unchanged: same bytes
  REQUIRE(root2.ok());
  CHECK(*root2 == *root);
  REQUIRE(EnsureNodes(c2).ok());
  CHECK(c2.nodes.at("a").name == "a.txt");
}

}  // namespace m365vault::sync
