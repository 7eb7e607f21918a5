// tests/sync/delta_engine_test.cpp: the generic delta engine on a scripted
// Graph (FakeHttpClient) and an in-memory repository: paging, last-wins
// replays, 410 resync whose deletions wait for a complete full round,
// per-item failures retried by the next run, renames of folders by id,
// unique names, and the sync state store.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>

#include "backend/clock.h"
#include "backend/maintenance.h"
#include "backend/meta_blob.h"
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
  std::atomic<int> downloads{0};
  std::function<void(const std::string& url)> before_page;  // called before a page is served

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
      if (before_page) before_page(url);
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
  // Called before each page is served, with the writer of the run.
  std::function<void(SnapshotWriter&, const std::string& url)> on_page;

  ContainerResult Run() {
    auto writer = SnapshotWriter::Start(*store.repo, last ? &*last : nullptr);
    REQUIRE(writer.ok());
    graph.before_page = [&](const std::string& url) {
      if (on_page) on_page(**writer, url);
    };
    TestTraits traits;
    ContainerResult r = SyncContainer(*graph.client, **writer, spec, traits, state, counters);
    SnapshotInfo fields;
    fields.object_type = "test";
    auto info = (*writer)->Commit(fields);
    REQUIRE(info.ok());
    last = *info;
    graph.before_page = nullptr;
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

namespace {

// Files "<prefix><i>.txt" (ids "<prefix><i>") for i in [from, to).
json Files(const std::string& prefix, size_t from, size_t to, const std::string& parent = "") {
  json items = json::array();
  for (size_t i = from; i < to; ++i) {
    items.push_back(File(prefix + std::to_string(i), prefix + std::to_string(i) + ".txt", 1, parent));
  }
  return items;
}

// Serves `items` from `first` in pages of `per_page`, chained by nextLinks
// "<first>/p<k>"; the last page carries `delta`.
void Pages(FakeGraph& g, const std::string& first, const json& items, size_t per_page, const std::string& delta) {
  const size_t n = (items.size() + per_page - 1) / per_page;
  for (size_t p = 0; p < n; ++p) {
    const std::string url = p == 0 ? first : first + "/p" + std::to_string(p);
    json page = json::array();
    for (size_t i = p * per_page; i < std::min(items.size(), (p + 1) * per_page); ++i) page.push_back(items[i]);
    g.Page(url, page, p + 1 < n ? first + "/p" + std::to_string(p + 1) : "", p + 1 < n ? "" : delta);
  }
}

}  // namespace

TEST_CASE("engine: a round is written to the snapshot while it streams, a batch at a time", "[sync][engine]") {
  // Five pages of half a batch each. When the last page is requested, the
  // first four (two batches) must already be downloaded and in the tree: an
  // engine that holds the whole round until it ends fails here.
  Harness h;
  const size_t half = kApplyBatchItems / 2;
  Pages(h.graph, kStart, Files("m", 0, 5 * half), half, "https://graph.test/d1");
  const std::string last_page = std::string(kStart) + "/p4";
  int downloads_before_last = -1;
  bool first_in_tree = false, fourth_page_in_tree = false;
  h.on_page = [&](SnapshotWriter& w, const std::string& url) {
    if (url != last_page) return;
    downloads_before_last = h.graph.downloads;
    auto first = w.Lookup("alice/m0.txt");
    first_in_tree = first.ok() && first->has_value();
    auto fourth = w.Lookup("alice/m" + std::to_string(4 * half - 1) + ".txt");
    fourth_page_in_tree = fourth.ok() && fourth->has_value();
  };
  auto r = h.Run();
  REQUIRE(r.status.ok());
  CHECK(downloads_before_last == static_cast<int>(4 * half));
  CHECK(first_in_tree);
  CHECK(fourth_page_in_tree);
  CHECK(h.graph.downloads == static_cast<int>(5 * half));
  CHECK(h.Files().size() == 5 * half);
  CHECK(h.state.nodes.size() == 5 * half);
  CHECK(h.state.delta_link == "https://graph.test/d1");
}

TEST_CASE("engine: a round that breaks midway keeps its applied batches and its old link", "[sync][engine]") {
  Harness h;
  h.graph.Page(kStart, {File("a", "a.txt")}, "", "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  // The next round: a full batch, then a page that fails.
  h.graph.Page("https://graph.test/d1", Files("m", 0, kApplyBatchItems), "https://graph.test/d1/p1", "");
  h.graph.Fail("https://graph.test/d1/p1", 400, "BadRequest");
  auto r = h.Run();
  CHECK_FALSE(r.status.ok());
  CHECK_FALSE(r.store_failure);
  CHECK(h.state.delta_link == "https://graph.test/d1");  // the round will be replayed
  CHECK(h.state.nodes.size() == 1 + kApplyBatchItems);   // the tree and the state agree
  CHECK(h.Files().size() == 1 + kApplyBatchItems);
  const int downloads = h.graph.downloads;
  // The replay completes: the applied batch is not fetched again.
  h.graph.Page("https://graph.test/d1/p1", {File("z", "z.txt"), Removed("a")}, "", "https://graph.test/d2");
  r = h.Run();
  REQUIRE(r.status.ok());
  CHECK(h.graph.downloads == downloads + 1);
  auto files = h.Files();
  CHECK(files.size() == kApplyBatchItems + 1);
  CHECK(files.count("alice/a.txt") == 0);
  CHECK(files["alice/z.txt"] == Content("z", "1"));
  CHECK(h.state.delta_link == "https://graph.test/d2");
}

TEST_CASE("engine: an item whose folder comes in a later batch waits for it", "[sync][engine]") {
  Harness h;
  // x (in folder f) fills the first batch with others; f comes a batch later;
  // y's folder never comes (an orphan: dropped).
  json first = Files("m", 0, kApplyBatchItems - 1);
  first.insert(first.begin(), File("x", "x.txt", 1, "f"));
  first.push_back(File("y", "y.txt", 1, "nowhere"));
  h.graph.Page(kStart, first, "https://graph.test/p1", "");
  h.graph.Page("https://graph.test/p1", {Folder("f", "F")}, "", "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  auto files = h.Files();
  CHECK(files["alice/F/x.txt"] == Content("x", "1"));
  CHECK(files.count("alice/y.txt") == 0);
  CHECK(h.state.nodes.count("y") == 0);
  CHECK(files.size() == kApplyBatchItems + 1);  // m0.., F/, F/x.txt
}

TEST_CASE("engine: a streamed 410 resync deletes only once its last batch is in", "[sync][engine]") {
  Harness h;
  const size_t n = kApplyBatchItems + kApplyBatchItems / 2;
  Pages(h.graph, kStart, Files("m", 0, n), kApplyBatchItems / 2, "https://graph.test/d1");
  REQUIRE(h.Run().status.ok());
  REQUIRE(h.Files().size() == n);
  // Refused link; the full round returns one batch, then breaks.
  h.graph.Fail("https://graph.test/d1", 410, "SyncStateNotFound");
  h.graph.pages.clear();
  h.graph.Fail("https://graph.test/d1", 410, "SyncStateNotFound");
  h.graph.Page(kStart, Files("m", 0, kApplyBatchItems), "https://graph.test/full/p1", "");
  h.graph.Fail("https://graph.test/full/p1", 400, "BadRequest");
  auto r = h.Run();
  CHECK_FALSE(r.status.ok());
  CHECK(h.Files().size() == n);  // nothing deleted by an incomplete round
  CHECK(h.state.delta_link == "https://graph.test/d1");
  // Now it completes with one more item: the rest of the old ones go.
  h.graph.Page("https://graph.test/full/p1", Files("m", kApplyBatchItems, kApplyBatchItems + 1), "",
               "https://graph.test/d2");
  const int downloads = h.graph.downloads;
  r = h.Run();
  REQUIRE(r.status.ok());
  CHECK(r.resynced);
  CHECK(h.Files().size() == kApplyBatchItems + 1);
  CHECK(h.state.nodes.size() == kApplyBatchItems + 1);
  CHECK(h.graph.downloads == downloads);  // all of them were there already
  CHECK(h.state.delta_link == "https://graph.test/d2");
}

TEST_CASE("node maps are stored as the same JSON, written and read without a document", "[sync][engine]") {
  ContainerState st;
  st.root_id = "root\"1";
  st.nodes["a"] = NodeState{"", "a.txt", "a.txt", "W/\"1\"", false};
  st.nodes["f/\u00e9"] = NodeState{"", "Caf\u00e9\\x", "Caf\u00e9_x", "-", true};
  st.nodes["b\n"] = NodeState{"f/\u00e9", "ctl\x01.txt", "ctl_.txt", "", false};
  // The bytes the document-based encoder wrote (unchanged blobs keep their ids).
  json items = json::object();
  for (const auto& [id, n] : st.nodes) items[id] = json::array({n.parent, n.raw, n.name, n.etag, n.folder ? 1 : 0});
  const std::string text = EncodeNodes(st);
  CHECK(text == json({{"root_id", st.root_id}, {"items", items}}).dump());

  ContainerState back;
  back.nodes["stale"] = NodeState{};
  REQUIRE(DecodeNodes(text, &back));
  CHECK(back.root_id == st.root_id);
  REQUIRE(back.nodes.size() == 3);
  for (const auto& [id, n] : st.nodes) {
    const NodeState& m = back.nodes.at(id);
    CHECK(m.parent == n.parent);
    CHECK(m.raw == n.raw);
    CHECK(m.name == n.name);
    CHECK(m.etag == n.etag);
    CHECK(m.folder == n.folder);
  }
  // Unknown keys are skipped; malformed maps are refused.
  CHECK(DecodeNodes(R"({"x":{"y":[1,{"z":null}]},"items":{},"root_id":"r"})", &back));
  CHECK(back.nodes.empty());
  CHECK(back.root_id == "r");
  for (const char* bad : {"", "[]", "\"s\"", R"({"root_id":"r"})", R"({"items":[]})", R"({"items":{"a":{}}})",
                          R"({"items":{"a":["p","r","n","e"]}})", R"({"items":{"a":["p","r","n","e",0,1]}})",
                          R"({"items":{"a":["p","r","n",1,0]}})", R"({"items":{"a":["p","r","n","e","0"]}})",
                          R"({"items":{"a":["p","r","n","e",0]})", R"({"items":{"a":"x"}})"}) {
    INFO(bad);
    CHECK_FALSE(DecodeNodes(bad, &back));
  }
}

// A store with no previous state, and the new container `key` of object "user:1" in it.
ContainerState& NewContainer(SyncStateStore& s, const std::string& key) {
  REQUIRE(s.Load(BlobId{}).ok());
  auto obj = s.GetObject("user:1");
  REQUIRE(obj.ok());
  return s.GetContainer(**obj, key);
}

TEST_CASE("sync state store: unchanged containers are not read or rewritten", "[sync][engine]") {
  m365vault::testing::TestRepo store;
  SyncStateStore s1(*store.repo);
  ContainerState& c = NewContainer(s1, "drive:x");
  c.delta_link = "L1";
  c.nodes["a"] = NodeState{"", "a.txt", "a.txt", "1", false};
  auto root = s1.Save();
  REQUIRE(root.ok());
  const BlobId id = store.repo->HashBlob(*root);
  REQUIRE(store.repo->SaveBlob(BlobType::kMeta, id, *root).ok());
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

TEST_CASE("sync state store: a released object's items leave memory and come back unchanged", "[sync][engine]") {
  m365vault::testing::TestRepo store;
  SyncStateStore s(*store.repo);
  ContainerState& c = NewContainer(s, "drive:x");
  REQUIRE(s.Release("user:absent").ok());  // never loaded: nothing to do
  c.delta_link = "L1";
  c.root_id = "ROOT";
  for (int i = 0; i < 50; ++i) {
    c.nodes["id" + std::to_string(i)] = NodeState{"", "n" + std::to_string(i), "n" + std::to_string(i) + ".txt",
                                                  std::to_string(i), i % 7 == 0};
  }
  const auto before = c.nodes;
  // The root blob a store writes without releasing: the reference.
  SyncStateStore reference(*store.repo);
  NewContainer(reference, "drive:x") = c;
  auto expected = reference.Save();
  REQUIRE(expected.ok());

  REQUIRE(s.Release("user:1").ok());
  CHECK(c.nodes.empty());
  CHECK(c.root_id.empty());
  CHECK(c.delta_link == "L1");  // links stay: they are small
  REQUIRE(c.load_nodes);
  auto saved = s.Save();  // released, never reloaded: the stored items are used
  REQUIRE(saved.ok());
  CHECK(*saved == *expected);

  REQUIRE(EnsureNodes(c).ok());
  CHECK(c.root_id == "ROOT");
  REQUIRE(c.nodes.size() == before.size());
  for (const auto& [id, n] : before) {
    const NodeState& got = c.nodes.at(id);
    CHECK(got.raw == n.raw);
    CHECK(got.name == n.name);
    CHECK(got.etag == n.etag);
    CHECK(got.folder == n.folder);
  }
  // Changed after the reload: the change is what the next Save stores.
  c.nodes.erase("id3");
  auto changed = s.Save();
  REQUIRE(changed.ok());
  CHECK(*changed != *expected);
}

namespace {

// The parts of the one container of object "user:1" in the root blob `root`.
std::vector<std::string> StoredParts(Repository& repo, const Bytes& root) {
  auto envelope = DecodeMetaBlob(root);
  REQUIRE(envelope.ok());
  auto r = nlohmann::json::parse(AsString(envelope->payload));
  BlobId object;
  REQUIRE(BlobId::FromHex(r["objects"]["user:1"].get<std::string>(), &object));
  auto data = LoadMetaBlob(repo, object);
  REQUIRE(data.ok());
  auto o = nlohmann::json::parse(AsString(data->payload));
  return o["containers"]["drive:x"]["parts"].get<std::vector<std::string>>();
}

// Saves `root` and returns its id (what SetSyncState does).
BlobId SaveRoot(Repository& repo, ByteView root) {
  const BlobId id = repo.HashBlob(root);
  REQUIRE(repo.SaveBlob(BlobType::kMeta, id, root).ok());
  return id;
}

}  // namespace

TEST_CASE("sync state store: a large container is stored in parts and a change rewrites few", "[sync][engine]") {
  m365vault::testing::TestRepo store;
  SyncStateStore s1(*store.repo);
  ContainerState& c = NewContainer(s1, "drive:x");
  c.root_id = "ROOT";
  for (int i = 0; i < 20000; ++i) {
    const std::string n = std::to_string(i);
    c.nodes["AAMkAG" + std::string(60, 'x') + n] =
        NodeState{"parent-folder-id", "subject \"" + n + "\"", "2024-01-01 0000 s" + n + ".eml", "etag" + n, false};
  }
  auto root1 = s1.Save();
  REQUIRE(root1.ok());
  const std::vector<std::string> parts1 = StoredParts(*store.repo, *root1);
  CHECK(parts1.size() > 10);  // ~2.5 MB of text in ~64 KiB parts

  // Read back in a fresh store, part by part.
  SyncStateStore s2(*store.repo);
  REQUIRE(s2.Load(SaveRoot(*store.repo, *root1)).ok());
  auto obj2 = s2.GetObject("user:1");
  REQUIRE(obj2.ok());
  ContainerState& c2 = s2.GetContainer(**obj2, "drive:x");
  REQUIRE(EnsureNodes(c2).ok());
  CHECK(c2.root_id == "ROOT");
  REQUIRE(c2.nodes.size() == c.nodes.size());
  CHECK(c2.nodes.begin()->second.raw == c.nodes.begin()->second.raw);
  CHECK(c2.nodes.rbegin()->second.name == c.nodes.rbegin()->second.name);

  // One item changes in the middle: the other parts keep their ids.
  c2.nodes.at("AAMkAG" + std::string(60, 'x') + "10000").etag = "changed";
  auto root2 = s2.Save();
  REQUIRE(root2.ok());
  const std::vector<std::string> parts2 = StoredParts(*store.repo, *root2);
  size_t differ = 0;
  std::set<std::string> old(parts1.begin(), parts1.end());
  for (const auto& p : parts2) differ += old.count(p) ? 0 : 1;
  CHECK(differ >= 1);
  CHECK(differ <= 2);
}

TEST_CASE("sync state store: a state of one items blob (before parts) still loads", "[sync][engine]") {
  m365vault::testing::TestRepo store;
  ContainerState c;
  c.root_id = "R";
  c.nodes["a"] = NodeState{"", "a.txt", "a.txt", "1", false};
  const std::string text = EncodeNodes(c);
  const BlobId items = store.repo->HashBlob(AsBytes(text));
  REQUIRE(store.repo->SaveBlob(BlobType::kMeta, items, AsBytes(text)).ok());
  const std::string object = nlohmann::json(
      {{"containers", {{"drive:x", {{"link", "L"}, {"items", items.Hex()}}}}}}).dump();
  const BlobId object_id = SaveRoot(*store.repo, AsBytes(object));
  const std::string root = nlohmann::json({{"v", 1}, {"objects", {{"user:1", object_id.Hex()}}}}).dump();
  SyncStateStore s(*store.repo);
  REQUIRE(s.Load(SaveRoot(*store.repo, AsBytes(root))).ok());
  auto obj = s.GetObject("user:1");
  REQUIRE(obj.ok());
  ContainerState& got = s.GetContainer(**obj, "drive:x");
  CHECK(got.delta_link == "L");
  REQUIRE(EnsureNodes(got).ok());
  CHECK(got.root_id == "R");
  CHECK(got.nodes.at("a").name == "a.txt");
}

TEST_CASE("container state read from parts: a failed load is reported, a bad text is corruption", "[sync][engine]") {
  ContainerState c;
  c.nodes["x"] = NodeState{"", "x", "x.eml", "1", false};
  const std::string text = EncodeNodes(c);
  // Cut anywhere, the parts decode to the same state.
  for (size_t cut : {size_t(1), size_t(7), text.size() / 2, text.size() - 1}) {
    std::vector<std::string> parts = {text.substr(0, cut), "", text.substr(cut)};
    ContainerState out;
    REQUIRE(DecodeNodesFrom(parts.size(), [&](size_t i) -> Result<Bytes> {
      return Bytes(parts[i].begin(), parts[i].end());
    }, &out).ok());
    CHECK(out.nodes.at("x").name == "x.eml");
  }
  ContainerState out;
  Status failed = DecodeNodesFrom(2, [&](size_t i) -> Result<Bytes> {
    if (i == 1) return Status::IOError("disk on fire");
    return Bytes(text.begin(), text.begin() + 5);
  }, &out);
  CHECK(failed.code() == Status::Code::kIOError);
  CHECK(out.nodes.empty());
  Status bad = DecodeNodesFrom(1, [&](size_t) -> Result<Bytes> {
    const std::string t = text.substr(0, text.size() - 2);
    return Bytes(t.begin(), t.end());
  }, &out);
  CHECK(bad.code() == Status::Code::kCorruption);
}

TEST_CASE("prune keeps every blob of the kept snapshots' sync state", "[sync][engine][prune]") {
  m365vault::testing::TestRepo store;
  // Two runs; the second changes one container and leaves one unchanged
  // (its parts are only named by the first run's blobs and the second's root).
  auto run = [&](const SnapshotInfo* parent, const std::string& etag) {
    SyncStateStore state(*store.repo);
    REQUIRE(state.Load(parent ? parent->sync_state : BlobId{}).ok());
    auto obj = state.GetObject("user:1");
    REQUIRE(obj.ok());
    ContainerState& changed = state.GetContainer(**obj, "drive:x");
    REQUIRE(EnsureNodes(changed).ok());
    for (int i = 0; i < 3000; ++i) {
      changed.nodes["item" + std::to_string(i)] = NodeState{"", "n" + std::to_string(i), "f" + std::to_string(i), etag, false};
    }
    if (!parent) {
      ContainerState& same = state.GetContainer(**obj, "drive:y");
      for (int i = 0; i < 3000; ++i) same.nodes["y" + std::to_string(i)] = NodeState{"", "y", "y" + std::to_string(i), "1", false};
    }
    REQUIRE(state.Release("user:1").ok());
    auto root = state.Save();
    REQUIRE(root.ok());
    auto w = SnapshotWriter::Start(*store.repo, parent);
    REQUIRE(w.ok());
    REQUIRE((*w)->PutFile("u/f.txt", AsBytes(etag), EntryAttributes{}).ok());
    REQUIRE((*w)->SetSyncState(*root).ok());
    auto snap = (*w)->Commit(SnapshotInfo{});
    REQUIRE(snap.ok());
    return *snap;
  };
  const SnapshotInfo s1 = run(nullptr, "v1");
  const SnapshotInfo s2 = run(&s1, "v2");
  PruneOptions opts;
  opts.forget = {s1.id};
  opts.repack_threshold = 1.0;  // every pack with a dead blob is rewritten: nothing dead survives by luck
  auto pruned = Prune(*store.repo, opts);
  REQUIRE(pruned.ok());
  CHECK(pruned->blobs_removed > 0);  // the first run's changed parts went

  auto reopened = store.Reopen();
  SyncStateStore state(*reopened);
  REQUIRE(state.Load(s2.sync_state).ok());
  auto obj = state.GetObject("user:1");
  REQUIRE(obj.ok());
  for (const char* key : {"drive:x", "drive:y"}) {
    ContainerState& c = state.GetContainer(**obj, key);
    Status loaded = EnsureNodes(c);
    INFO(key << ": " << loaded.ToString());
    REQUIRE(loaded.ok());
    CHECK(c.nodes.size() == 3000);
  }
  CHECK(state.GetContainer(**obj, "drive:x").nodes.at("item7").etag == "v2");
}

TEST_CASE("sync state store: a lost object or container state starts afresh and says so", "[sync][engine]") {
  m365vault::testing::TestRepo store;
  BlobId gone;
  gone.bytes.fill(0x5a);  // in no pack
  // user:1's object blob is gone; user:2's object names a container part that is gone.
  const std::string object2 = nlohmann::json(
      {{"containers", {{"drive:x", {{"link", "OLD-LINK"}, {"parts", {gone.Hex()}}}}}}}).dump();
  const BlobId object2_id = SaveRoot(*store.repo, AsBytes(object2));
  const std::string root =
      nlohmann::json({{"v", 1}, {"objects", {{"user:1", gone.Hex()}, {"user:2", object2_id.Hex()}}}}).dump();
  SyncStateStore s(*store.repo);
  REQUIRE(s.Load(SaveRoot(*store.repo, AsBytes(root))).ok());
  CHECK(s.TakeProblems().empty());

  auto lost = s.GetObject("user:1");
  REQUIRE(lost.ok());
  CHECK((*lost)->containers.empty());
  auto obj2 = s.GetObject("user:2");
  REQUIRE(obj2.ok());
  ContainerState& c = s.GetContainer(**obj2, "drive:x");
  CHECK(c.delta_link == "OLD-LINK");
  REQUIRE(EnsureNodes(c).ok());
  CHECK(c.delta_link.empty());  // the next round is a full one
  CHECK(c.nodes.empty());

  auto problems = s.TakeProblems();
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].key == "user:1");
  CHECK(problems[0].what.find("cannot be read") != std::string::npos);
  CHECK(problems[1].key == "user:2");
  CHECK(s.TakeProblems().empty());
  // Saved again, both are whole states now.
  auto saved = s.Save();
  REQUIRE(saved.ok());
  CHECK(s.TakeProblems().empty());
}

}  // namespace m365vault::sync
