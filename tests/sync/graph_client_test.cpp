// tests/sync/graph_client_test.cpp: retries, token refresh, paging, headers.
#include <catch2/catch.hpp>

#include <ctime>

#include "backend/clock.h"
#include "sync/graph/fake_http_client.h"
#include "sync/graph/graph_client.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr const char* kGraph = "https://graph.example";

struct Fixture {
  FakeHttpClient http;
  testing::CountingTokenProvider tokens;
  ManualClock clock;
  double jitter = 0.5;
  GraphClient client{Options(), http, tokens, clock};

  GraphClientOptions Options() {
    GraphClientOptions o;
    o.graph_url = kGraph;
    o.backoff.initial_delay = milliseconds(100);
    o.backoff.max_delay = seconds(1);
    o.backoff.max_attempts = 5;
    o.random = [this] { return jitter; };
    return o;
  }
};

FakeResponse Ok(const std::string& json) { return FakeResponse::Json(200, json); }

FakeResponse Err(int status, const std::string& code, HttpHeaders headers = {}) {
  return FakeResponse::Json(status, R"({"error":{"code":")" + code + R"(","message":"m"}})", std::move(headers));
}

}  // namespace

TEST_CASE("Paths get the version prefix; absolute URLs are verbatim", "[sync]") {
  Fixture f;
  CHECK(f.client.ResolveUrl("/users") == "https://graph.example/v1.0/users");
  CHECK(f.client.ResolveUrl("users/x/mailFolders") == "https://graph.example/v1.0/users/x/mailFolders");
  CHECK(f.client.ResolveUrl("/v1.0/users") == "https://graph.example/v1.0/users");
  const char* next = "https://graph.example/v1.0/users?$skiptoken=A%2FB%3D&$top=5";
  CHECK(f.client.ResolveUrl(next) == next);
}

TEST_CASE("Request carries auth, client-request-id, user agent and one combined Prefer", "[sync]") {
  Fixture f;
  f.http.Enqueue("/v1.0/users/u1/messages", Ok(R"({"value":[]})"));
  RequestOptions ro;
  ro.prefer = {R"(IdType="ImmutableId")"};
  ro.headers = {{"prefer", "odata.maxpagesize=100"}, {"ConsistencyLevel", "eventual"}};
  auto r = f.client.GetJson("/users/u1/messages", ro);
  REQUIRE(r.ok());
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].Header("Authorization") == std::optional<std::string_view>("Bearer tok-1"));
  CHECK(reqs[0].Header("Prefer") == std::optional<std::string_view>(R"(IdType="ImmutableId", odata.maxpagesize=100)"));
  CHECK(reqs[0].Header("ConsistencyLevel") == std::optional<std::string_view>("eventual"));
  CHECK(reqs[0].Header("User-Agent") == std::optional<std::string_view>("ISV|m365vault|m365vault/0.1"));
  CHECK(reqs[0].Header("client-request-id").value_or("").size() == 36);
  int prefer_count = 0;
  for (const auto& [k, v] : reqs[0].headers) prefer_count += EqualsIgnoreCase(k, "Prefer") ? 1 : 0;
  CHECK(prefer_count == 1);
}

TEST_CASE("Retry-After is honoured exactly: integer, fraction, HTTP-date", "[sync]") {
  Fixture f;
  SECTION("integer and fraction") {
    f.http.Enqueue("/users", Err(429, "TooManyRequests", {{"Retry-After", "3"}}));
    f.http.Enqueue("/users", FakeResponse::Json(503, "", {{"retry-after", "2.128"}}));
    f.http.Enqueue("/users", Ok(R"({"value":[1]})"));
    auto r = f.client.GetJson("/users");
    REQUIRE(r.ok());
    CHECK((*r)["value"][0] == 1);
    CHECK(f.clock.TotalSlept() == milliseconds(5128));
    CHECK(f.http.requests().size() == 3);
  }
  SECTION("HTTP date") {
    std::time_t t = std::chrono::system_clock::to_time_t(f.clock.Now() + seconds(42));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    f.http.Enqueue("/users", Err(509, "bandwidthLimitExceeded", {{"Retry-After", buf}}));
    f.http.Enqueue("/users", Ok(R"({"value":[]})"));
    REQUIRE(f.client.GetJson("/users").ok());
    CHECK(f.clock.TotalSlept() == seconds(42));
  }
  SECTION("a Retry-After longer than allowed gives up as Throttled") {
    f.http.Enqueue("/users", Err(429, "TooManyRequests", {{"Retry-After", "3"}}));
    f.http.Enqueue("/users", Err(429, "TooManyRequests", {{"Retry-After", "Thu, 01 Jan 2099 00:00:00 GMT"}}));
    f.http.Enqueue("/users", Ok("{}"));
    GraphError err;
    auto r = f.client.GetJson("/users", {}, &err);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kThrottled);
    CHECK(err.http_status == 429);
    CHECK(f.clock.TotalSlept() == seconds(3));
    CHECK(f.http.requests().size() == 2);
  }
}

TEST_CASE("Without Retry-After, backoff is exponential with jitter and capped", "[sync]") {
  Fixture f;
  f.jitter = 0.5;
  for (int i = 0; i < 5; ++i) f.http.Enqueue("/users", FakeResponse::Json(503, ""));
  GraphError err;
  auto r = f.client.GetJson("/users", {}, &err);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().retryable());
  CHECK(err.kind == GraphErrorKind::kRetryable);
  CHECK(f.http.requests().size() == 5);  // max_attempts
  // Ceilings 100, 200, 400, 800 ms at half jitter.
  CHECK(f.clock.TotalSlept() == milliseconds(50 + 100 + 200 + 400));
  CHECK(r.status().message().find("gave up after 5 attempts") != std::string::npos);
}

TEST_CASE("Transport errors are retried", "[sync]") {
  Fixture f;
  f.http.Enqueue("/me", FakeResponse::Transport("connection reset"));
  f.http.Enqueue("/me", FakeResponse::Transport("timeout"));
  f.http.Enqueue("/me", Ok(R"({"id":"x"})"));
  auto r = f.client.GetJson("/me");
  REQUIRE(r.ok());
  CHECK((*r)["id"] == "x");
  CHECK(f.http.requests().size() == 3);
}

TEST_CASE("No retry on 400, 403, 404, 409, 410", "[sync]") {
  for (int status : {400, 403, 404, 409, 410}) {
    Fixture f;
    f.http.Enqueue("/x", Err(status, "someCode"));
    f.http.Enqueue("/x", Ok("{}"));
    GraphError err;
    auto r = f.client.GetJson("/x", {}, &err);
    INFO(status);
    REQUIRE_FALSE(r.ok());
    CHECK(f.http.requests().size() == 1);
    CHECK(f.clock.TotalSlept() == nanoseconds(0));
    CHECK(err.http_status == status);
    CHECK(err.code == "someCode");
  }
}

TEST_CASE("410 sync state error is reported as resync with its Location", "[sync]") {
  Fixture f;
  f.http.Enqueue("/delta", Err(410, "resyncRequired", {{"Location", "https://graph.example/v1.0/restart"}}));
  GraphError err;
  auto r = f.client.GetJson("/drives/d/root/delta", {}, &err);
  REQUIRE_FALSE(r.ok());
  CHECK(err.kind == GraphErrorKind::kResync);
  CHECK(err.location == "https://graph.example/v1.0/restart");
}

TEST_CASE("401 refreshes the token once and replays", "[sync]") {
  Fixture f;
  f.http.Enqueue("/users", Err(401, "InvalidAuthenticationToken"));
  f.http.Enqueue("/users", Ok(R"({"value":[]})"));
  auto r = f.client.GetJson("/users");
  REQUIRE(r.ok());
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].Header("Authorization") == std::optional<std::string_view>("Bearer tok-1"));
  CHECK(reqs[1].Header("Authorization") == std::optional<std::string_view>("Bearer tok-2"));
  CHECK(f.tokens.invalidated() == std::vector<std::string>{"tok-1"});
  CHECK(f.clock.TotalSlept() == nanoseconds(0));
  // Same client-request-id on the replay.
  CHECK(reqs[0].Header("client-request-id") == reqs[1].Header("client-request-id"));
}

TEST_CASE("A second 401 is fatal", "[sync]") {
  Fixture f;
  f.http.Enqueue("/users", Err(401, "InvalidAuthenticationToken"));
  f.http.Enqueue("/users", Err(401, "InvalidAuthenticationToken"));
  f.http.Enqueue("/users", Ok("{}"));
  GraphError err;
  auto r = f.client.GetJson("/users", {}, &err);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kPermissionDenied);
  CHECK_FALSE(r.status().retryable());
  CHECK(f.http.requests().size() == 2);
  CHECK(err.kind == GraphErrorKind::kRefreshToken);
  CHECK(r.status().message().find("tok-") == std::string::npos);  // never the token
}

TEST_CASE("Malformed JSON is retried then reported, never a crash", "[sync]") {
  Fixture f;
  SECTION("recovers") {
    f.http.Enqueue("/users", Ok(R"({"value":[1,)"));
    f.http.Enqueue("/users", Ok(R"({"value":[1]})"));
    auto r = f.client.GetJson("/users");
    REQUIRE(r.ok());
    CHECK(f.http.requests().size() == 2);
  }
  SECTION("gives up") {
    for (int i = 0; i < 5; ++i) f.http.Enqueue("/users", Ok("\xff\xfe garbage {"));
    auto r = f.client.GetJson("/users");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsCorruption());
    CHECK(f.http.requests().size() == 3);  // max_malformed_json_attempts
  }
}

TEST_CASE("Unknown fields are kept and ignored", "[sync]") {
  Fixture f;
  f.http.Enqueue("/me", Ok(R"({"id":"1","brandNewProperty":{"deep":[1,2]},"@odata.etag":"W/1"})"));
  auto r = f.client.GetJson("/me");
  REQUIRE(r.ok());
  CHECK((*r)["id"] == "1");
}

TEST_CASE("The token is never sent to a foreign host", "[sync]") {
  Fixture f;
  auto r = f.client.GetJson("https://evil.example/v1.0/users?$skiptoken=x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(f.http.requests().empty());
}

TEST_CASE("ForEachPage follows nextLink verbatim, through empty pages, re-sending headers", "[sync]") {
  Fixture f;
  const std::string next1 = "https://graph.example/v1.0/users/u/mailFolders/f/messages/delta?$skiptoken=AB%2BC%3D%3D";
  const std::string next2 = "https://graph.example/v1.0/users/u/mailFolders/f/messages/delta?$skiptoken=ZZ";
  const std::string delta = "https://graph.example/v1.0/users/u/mailFolders/f/messages/delta?$deltatoken=D1";
  f.http.Enqueue("/messages/delta?$select", Ok(R"({"value":[{"id":"a"}],"@odata.nextLink":")" + next1 + "\"}"));
  f.http.Enqueue("skiptoken=AB", Ok(R"({"value":[],"@odata.nextLink":")" + next2 + "\"}"));
  f.http.Enqueue("skiptoken=ZZ", Ok(R"({"value":[{"id":"b"}],"@odata.deltaLink":")" + delta + "\"}"));
  RequestOptions ro;
  ro.prefer = {R"(IdType="ImmutableId")", "odata.maxpagesize=100"};
  std::vector<std::string> ids;
  int pages = 0;
  auto r = f.client.ForEachPage("/users/u/mailFolders/f/messages/delta?$select=id", ro, [&](const nlohmann::json& page) {
    ++pages;
    for (const auto& m : page["value"]) ids.push_back(m["id"]);
    return Status::OK();
  });
  REQUIRE(r.ok());
  CHECK(r->delta_link == delta);
  CHECK(r->pages == 3);
  CHECK(pages == 3);
  CHECK(ids == std::vector<std::string>{"a", "b"});
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].url == next1);
  CHECK(reqs[2].url == next2);
  for (const auto& req : reqs) {
    CHECK(req.Header("Prefer") == std::optional<std::string_view>(R"(IdType="ImmutableId", odata.maxpagesize=100)"));
    CHECK(req.Header("Authorization").has_value());
  }
}

TEST_CASE("ForEachPage without a deltaLink returns empty; callback errors stop it", "[sync]") {
  Fixture f;
  f.http.Enqueue("/users", Ok(R"({"value":[1],"@odata.nextLink":"https://graph.example/v1.0/users?p=2"})"));
  f.http.Enqueue("p=2", Ok(R"({"value":[2]})"));
  auto r = f.client.ForEachPage("/users", {}, [](const nlohmann::json&) { return Status::OK(); });
  REQUIRE(r.ok());
  CHECK(r->delta_link.empty());
  CHECK(r->pages == 2);

  Fixture g;
  g.http.Enqueue("/users", Ok(R"({"value":[1],"@odata.nextLink":"https://graph.example/v1.0/users?p=2"})"));
  auto stopped = g.client.ForEachPage("/users", {}, [](const nlohmann::json&) { return Status::Cancelled("stop"); });
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.status().code() == Status::Code::kCancelled);
  CHECK(g.http.requests().size() == 1);
}

TEST_CASE("A page error mid-walk is reported with its Graph error", "[sync]") {
  Fixture f;
  f.http.Enqueue("/delta", Ok(R"({"value":[],"@odata.nextLink":"https://graph.example/v1.0/x/delta?s=2"})"));
  f.http.Enqueue("s=2", Err(410, "SyncStateNotFound"));
  GraphError err;
  auto r = f.client.ForEachPage("/x/delta", {}, [](const nlohmann::json&) { return Status::OK(); }, &err);
  REQUIRE_FALSE(r.ok());
  CHECK(err.kind == GraphErrorKind::kResync);
  CHECK(err.HasCode("syncstatenotfound"));
}

}  // namespace m365vault::sync

namespace m365vault::sync {

TEST_CASE("401 with the real token provider fetches a new token and replays", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  ClientCredentialsOptions to;
  to.login_url = "https://login.example";
  to.tenant_id = "t";
  to.client_id = "c";
  to.client_secret = "s";
  auto tokens = ClientCredentialsTokenProvider::Create(to, http, clock);
  REQUIRE(tokens.ok());
  GraphClientOptions o;
  o.graph_url = "https://graph.example";
  GraphClient client(o, http, **tokens, clock);
  http.Enqueue("/oauth2/v2.0/token", FakeResponse::Json(200, R"({"access_token":"AT1","expires_in":3599})"));
  http.Enqueue("/oauth2/v2.0/token", FakeResponse::Json(200, R"({"access_token":"AT2","expires_in":3599})"));
  http.Enqueue("/v1.0/users", FakeResponse::Json(401, R"({"error":{"code":"InvalidAuthenticationToken"}})"));
  http.Enqueue("/v1.0/users", FakeResponse::Json(200, R"({"value":[]})"));
  REQUIRE(client.GetJson("/users").ok());
  auto reqs = http.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[1].Header("Authorization") == std::optional<std::string_view>("Bearer AT1"));
  CHECK(reqs[2].url.find("/oauth2/v2.0/token") != std::string::npos);
  CHECK(reqs[3].Header("Authorization") == std::optional<std::string_view>("Bearer AT2"));
  CHECK((*tokens)->fetch_count() == 2);
}

}  // namespace m365vault::sync
