// tests/sync/graph_download_test.cpp: 302 without auth, Range resume,
// expired pre-authenticated URLs.
#include <catch2/catch.hpp>

#include "backend/clock.h"
#include "sync/graph/fake_http_client.h"
#include "sync/graph/graph_client.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {
namespace {

using std::chrono::milliseconds;

struct Fixture {
  FakeHttpClient http;
  testing::CountingTokenProvider tokens;
  ManualClock clock;
  GraphClient client{Options(), http, tokens, clock};
  std::string received;
  BodySink sink = [this](std::string_view chunk) {
    received.append(chunk);
    return Status::OK();
  };

  static GraphClientOptions Options() {
    GraphClientOptions o;
    o.graph_url = "https://graph.example";
    o.backoff.initial_delay = milliseconds(10);
    o.backoff.max_attempts = 4;
    o.random = [] { return 0.5; };
    return o;
  }
};

std::string Content(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return s;
}

FakeResponse Redirect(const std::string& to) {
  FakeResponse r;
  r.status = 302;
  r.headers = {{"Location", to}};
  return r;
}

FakeResponse Body(int status, std::string body, HttpHeaders headers = {}) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

const std::string kBlob = "https://blob.example/dl/abc?sig=XYZ";
const std::string kBlob2 = "https://blob.example/dl/abc?sig=NEW";

}  // namespace

TEST_CASE("Download follows 302 without the Authorization header", "[sync]") {
  Fixture f;
  const std::string data = Content(5000);
  f.http.Enqueue("/content", Redirect(kBlob));
  f.http.Enqueue("blob.example", Body(200, data));
  auto r = f.client.Download("/drives/d/items/i/content", f.sink);
  REQUIRE(r.ok());
  CHECK(r->bytes == data.size());
  CHECK(f.received == data);
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].url == "https://graph.example/v1.0/drives/d/items/i/content");
  CHECK(reqs[0].Header("Authorization").has_value());
  CHECK(reqs[1].url == kBlob);
  CHECK_FALSE(reqs[1].Header("Authorization").has_value());
  CHECK_FALSE(reqs[1].range_start.has_value());
}

TEST_CASE("A broken transfer resumes with Range from the bytes delivered", "[sync]") {
  Fixture f;
  const std::string data = Content(10000);
  f.http.Enqueue("/content", Redirect(kBlob));
  FakeResponse broken = Body(200, data);
  broken.break_after = 3000;
  f.http.Enqueue("blob.example", broken);
  FakeResponse broken2 = Body(206, data.substr(3000), {{"Content-Range", "bytes 3000-9999/10000"}});
  broken2.break_after = 4000;
  f.http.Enqueue("blob.example", broken2);
  f.http.Enqueue("blob.example", Body(206, data.substr(7000), {{"Content-Range", "bytes 7000-9999/10000"}}));
  auto r = f.client.Download("/drives/d/items/i/content", f.sink);
  REQUIRE(r.ok());
  CHECK(f.received == data);
  CHECK(r->bytes == 10000);
  CHECK(r->resumes == 2);
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[2].range_start == std::optional<uint64_t>(3000));
  CHECK(reqs[3].range_start == std::optional<uint64_t>(7000));
  CHECK_FALSE(reqs[3].Header("Authorization").has_value());
}

TEST_CASE("A 206 starting at the wrong offset is rejected", "[sync]") {
  Fixture f;
  const std::string data = Content(2000);
  FakeResponse broken = Body(200, data);
  broken.break_after = 1000;
  f.http.Enqueue("/content", Redirect(kBlob));
  f.http.Enqueue("blob.example", broken);
  f.http.Enqueue("blob.example", Body(206, data.substr(500), {{"Content-Range", "bytes 500-1999/2000"}}));
  auto r = f.client.Download("/drives/d/items/i/content", f.sink);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsCorruption());
  CHECK(f.received == data.substr(0, 1000));  // nothing wrong reached the sink
}

TEST_CASE("A server that ignores Range has the delivered prefix dropped", "[sync]") {
  Fixture f;
  const std::string data = Content(3500);
  FakeResponse broken = Body(200, data);
  broken.break_after = 2500;
  f.http.Enqueue("/content", Redirect(kBlob));
  f.http.Enqueue("blob.example", broken);
  f.http.Enqueue("blob.example", Body(200, data));
  auto r = f.client.Download("/drives/d/items/i/content", f.sink);
  REQUIRE(r.ok());
  CHECK(f.received == data);
}

TEST_CASE("An expired pre-authenticated URL is re-requested from Graph", "[sync]") {
  Fixture f;
  const std::string data = Content(1500);
  f.http.Enqueue("/content", Redirect(kBlob));
  f.http.Enqueue("sig=XYZ", Body(403, "expired"));
  f.http.Enqueue("/content", Redirect(kBlob2));
  f.http.Enqueue("sig=NEW", Body(200, data));
  auto r = f.client.Download("/drives/d/items/i/content", f.sink);
  REQUIRE(r.ok());
  CHECK(r->url_refreshes == 1);
  CHECK(f.received == data);
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[2].Header("Authorization").has_value());
  CHECK_FALSE(reqs[3].Header("Authorization").has_value());
}

namespace {

const std::string kContentUrl = "https://graph.example/v1.0/drives/d/items/i/content";

// A request as a test expects it: where it went, and whether it carried the token.
struct Expected {
  std::string url;
  bool authorized;
};

// Downloads the item starting at `listing_url` (responses already scripted);
// checks that the sink got `data` after `refreshes` URL refreshes, through
// exactly the `expected` requests.
void CheckListingDownload(Fixture& f, const std::string& listing_url, const std::string& data, int refreshes,
                          const std::vector<Expected>& expected) {
  auto r = f.client.Download("/drives/d/items/i/content", f.sink, {}, nullptr, listing_url);
  REQUIRE(r.ok());
  CHECK(r->url_refreshes == refreshes);
  CHECK(f.received == data);
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == expected.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    INFO("request " << i);
    CHECK(reqs[i].url == expected[i].url);
    CHECK(reqs[i].Header("Authorization").has_value() == expected[i].authorized);
  }
}

}  // namespace

TEST_CASE("A listing's download URL is fetched first, without Graph or Authorization", "[sync]") {
  Fixture f;
  const std::string data = Content(2500);
  f.http.Enqueue("sig=XYZ", Body(200, data));
  CheckListingDownload(f, kBlob, data, 0, {{kBlob, false}});
}

TEST_CASE("An expired or vanished listing URL falls back to /content", "[sync]") {
  const int status = GENERATE(401, 403, 404, 410);
  Fixture f;
  const std::string data = Content(900);
  f.http.Enqueue("sig=XYZ", Body(status, "expired"));
  f.http.Enqueue("/content", Redirect(kBlob2));
  f.http.Enqueue("sig=NEW", Body(200, data));
  CheckListingDownload(f, kBlob, data, 1, {{kBlob, false}, {kContentUrl, true}, {kBlob2, false}});
}

TEST_CASE("A listing URL that is not https is not used", "[sync]") {
  Fixture f;
  const std::string data = Content(700);
  f.http.Enqueue("/content", Redirect(kBlob));
  f.http.Enqueue("sig=XYZ", Body(200, data));
  CheckListingDownload(f, "http://blob.example/dl/abc?sig=XYZ", data, 0, {{kContentUrl, true}, {kBlob, false}});
}

TEST_CASE("Direct 200 from Graph, 404 item, and sink errors", "[sync]") {
  Fixture f;
  SECTION("200 without redirect streams, /$value style") {
    f.http.Enqueue("/$value", Body(200, "From: a\r\n\r\nhi"));
    auto r = f.client.Download("/users/u/messages/" + std::string("m%2F1") + "/$value", f.sink);
    REQUIRE(r.ok());
    CHECK(f.received == "From: a\r\n\r\nhi");
  }
  SECTION("404 is a skip-item error, no retry") {
    f.http.Enqueue("/content", FakeResponse::Json(404, R"({"error":{"code":"itemNotFound"}})"));
    GraphError err;
    auto r = f.client.Download("/drives/d/items/i/content", f.sink, {}, &err);
    REQUIRE_FALSE(r.ok());
    CHECK(err.kind == GraphErrorKind::kSkipItem);
    CHECK(f.http.requests().size() == 1);
    CHECK(f.received.empty());  // error bodies never reach the sink
  }
  SECTION("a sink error aborts and is returned as is") {
    f.http.Enqueue("/content", Redirect(kBlob));
    f.http.Enqueue("blob.example", Body(200, Content(5000)));
    auto r = f.client.Download("/drives/d/items/i/content",
                               [](std::string_view) { return Status::NoSpace("disk full"); });
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kNoSpace);
    CHECK(f.http.requests().size() == 2);
  }
}

}  // namespace m365vault::sync
