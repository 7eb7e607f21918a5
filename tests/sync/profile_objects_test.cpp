// tests/sync/profile_objects_test.cpp: what group and site rules fetch from
// Graph (groups, transitive members, drive URLs), through a scripted client.
#include <catch2/catch.hpp>

#include "backend/clock.h"
#include "sync/engine/profile_objects.h"
#include "tests/profile_test_util.h"
#include "sync/graph/fake_http_client.h"
#include "sync/graph/graph_client.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {
namespace {

constexpr const char* kGraph = "https://graph.example";

struct Fixture {
  FakeHttpClient http;
  testing::CountingTokenProvider tokens;
  ManualClock clock;
  GraphClient client{Options(), http, tokens, clock};

  static GraphClientOptions Options() {
    GraphClientOptions o;
    o.graph_url = kGraph;
    o.backoff.max_attempts = 4;
    o.random = [] { return 0.5; };
    return o;
  }
};

FakeResponse Ok(const std::string& json) { return FakeResponse::Json(200, json); }
FakeResponse Err(int status, const std::string& code, HttpHeaders headers = {}) {
  return FakeResponse::Json(status, R"({"error":{"code":")" + code + R"(","message":"m"}})", std::move(headers));
}

ScanProfile Advanced(const std::vector<std::string>& rules) { return m365vault::testing::AdvancedProfile(rules); }

std::vector<std::string> Upns(const std::vector<UserInfo>& users) {
  std::vector<std::string> out;
  for (const auto& u : users) out.push_back(u.upn);
  return out;
}

// Two pages of groups; Sales' members over two pages (the second throttled once).
void ScriptGroups(FakeHttpClient& http) {
  http.Enqueue("/v1.0/groups?$select=id,displayName,mail&$top=999",
               Ok(R"({"value":[{"id":"g1","displayName":"Sales","mail":"sales@contoso.com"},
                               {"id":"g2","displayName":"Sales \u2013 EMEA","mail":null},
                               {"id":"g3","displayName":"Engineering","mail":"eng@contoso.com"}],
                      "@odata.nextLink":"https://graph.example/v1.0/groups?$skiptoken=page2"})"));
  http.Enqueue("/v1.0/groups?$skiptoken=page2",
               Ok(R"({"value":[{"id":"g4","displayName":"Finance","mail":"sales-finance@contoso.com"}]})"));
  http.Enqueue("/v1.0/groups/g1/transitiveMembers?$select=id,userPrincipalName&$top=999",
               Ok(R"({"value":[{"@odata.type":"#microsoft.graph.user","id":"u1","userPrincipalName":"a@contoso.com"},
                               {"@odata.type":"#microsoft.graph.group","id":"g2"},
                               {"@odata.type":"#microsoft.graph.device","id":"d1"}],
                      "@odata.nextLink":"https://graph.example/v1.0/groups/g1/transitiveMembers?$skiptoken=m2"})"));
  http.Enqueue("/v1.0/groups/g1/transitiveMembers?$skiptoken=m2", Err(429, "TooManyRequests", {{"Retry-After", "1"}}));
  http.Enqueue("/v1.0/groups/g1/transitiveMembers?$skiptoken=m2",
               Ok(R"({"value":[{"@odata.type":"#microsoft.graph.user","id":"u2","userPrincipalName":"b@contoso.com"}]})"));
  http.Enqueue("/v1.0/groups/g2/transitiveMembers?$select=id,userPrincipalName&$top=999",
               Ok(R"({"value":[{"@odata.type":"#microsoft.graph.user","id":"u2","userPrincipalName":"b@contoso.com"}]})"));
  http.Enqueue("/v1.0/groups/g4/transitiveMembers?$select=id,userPrincipalName&$top=999",
               Ok(R"({"value":[{"@odata.type":"#microsoft.graph.user","id":"u3","userPrincipalName":"c@contoso.com"}]})"));
}

TEST_CASE("group memberships: only the groups a pattern matches are expanded, every page, users only",
          "[sync][profiles]") {
  Fixture f;
  ScriptGroups(f.http);
  auto m = ResolveGroupMemberships(f.client, {"sales*"});
  REQUIRE(m.ok());
  // "Sales" and "Sales – EMEA" by displayName, "Finance" by its mail; not "Engineering".
  REQUIRE(m->groups.size() == 3);
  CHECK(m->groups[0].id == "g1");
  CHECK(m->groups[1].id == "g2");
  CHECK(m->groups[2].id == "g4");
  CHECK(f.http.RequestCount("/groups/g3/") == 0);
  CHECK(f.http.RequestCount("transitiveMembers?$skiptoken=m2") == 2);  // the throttled page was retried
  CHECK(m->names_by_user.size() == 3);  // the nested group and the device are not users
  CHECK(m->names_by_user["u1"] == std::vector<std::string>{"Sales", "sales@contoso.com"});
  CHECK(m->names_by_user["u2"] == std::vector<std::string>{"Sales", "sales@contoso.com", "Sales \u2013 EMEA"});
  CHECK(m->names_by_user["u3"] == std::vector<std::string>{"Finance", "sales-finance@contoso.com"});
  CHECK(f.http.Unserved() == 0);
}

TEST_CASE("group memberships: a failing member listing fails, naming the group", "[sync][profiles]") {
  Fixture f;
  f.http.Enqueue("/v1.0/groups?", Ok(R"({"value":[{"id":"g1","displayName":"Sales","mail":null}]})"));
  f.http.Enqueue("/v1.0/groups/g1/transitiveMembers", Err(403, "Authorization_RequestDenied"));
  auto m = ResolveGroupMemberships(f.client, {"Sales"});
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("group 'Sales'") != std::string::npos);
  // No pattern: nothing is asked.
  Fixture g;
  auto none = ResolveGroupMemberships(g.client, {});
  REQUIRE(none.ok());
  CHECK(g.http.requests().empty());
}

TEST_CASE("SelectProtected: user rules alone cost no request; group rules select transitive members",
          "[sync][profiles]") {
  const std::vector<UserInfo> users = {
      {"u1", "a@contoso.com", "A", ""}, {"u2", "b@contoso.com", "B", ""}, {"u3", "c@contoso.com", "C", ""},
      {"u4", "d@contoso.com", "D", ""}};
  {
    Fixture f;
    auto kept = SelectProtected(f.client, Advanced({"exchange:exclude:user:b@*", "exchange:include:user:*",
                                                    "onedrive:include:group:Sales"}),
                                "exchange", users);
    REQUIRE(kept.ok());
    CHECK(Upns(*kept) == std::vector<std::string>{"a@contoso.com", "c@contoso.com", "d@contoso.com"});
    CHECK(f.http.requests().empty());  // the onedrive group rule is not this type's
  }
  {
    Fixture f;
    ScriptGroups(f.http);
    auto kept = SelectProtected(f.client,
                                Advanced({"exchange:exclude:group:sales – emea", "exchange:include:group:sales*",
                                          "exchange:include:user:d@*", "onedrive:include:user:*"}),
                                "exchange", users);
    REQUIRE(kept.ok());
    // u2 is in "Sales – EMEA" (excluded first); u1 through Sales, u3 through Finance's mail, u4 by UPN.
    CHECK(Upns(*kept) == std::vector<std::string>{"a@contoso.com", "c@contoso.com", "d@contoso.com"});
    CHECK(f.http.RequestCount("/drive") == 0);  // no site rule: no drive lookups
  }
}

TEST_CASE("SelectProtected: site rules read each OneDrive's URL; no OneDrive = no site; a failed lookup never "
          "drops a user silently",
          "[sync][profiles]") {
  Fixture f;
  f.http.Enqueue("/users/u1/drive?$select=id,webUrl,driveType",
                 Ok(R"({"id":"b!1","driveType":"business",
                        "webUrl":"https://contoso-my.sharepoint.com/personal/a_contoso_com/Documents"})"));
  f.http.Enqueue("/users/u2/drive?$select=id,webUrl,driveType",
                 Ok(R"({"id":"b!2","driveType":"business",
                        "webUrl":"https://contoso-my.sharepoint.com/personal/b_contoso_com/Documents"})"));
  f.http.Enqueue("/users/u3/drive", Err(404, "ResourceNotFound"));
  f.http.Enqueue("/users/u4/drive", Err(403, "accessDenied"));
  f.http.Enqueue("/users/u5/drive", Err(403, "accessDenied"));
  const std::vector<UserInfo> users = {{"u1", "a@contoso.com", "A", ""}, {"u2", "b@contoso.com", "B", ""},
                                       {"u3", "c@contoso.com", "C", ""}, {"u4", "d@contoso.com", "D", ""},
                                       {"u5", "e@contoso.com", "E", ""}};
  ScanProfile p = Advanced({"exchange:include:user:*", "onedrive:exclude:user:e@*",
                            "onedrive:include:site:https://contoso-my.sharepoint.com/personal/a_contoso_com",
                            "onedrive:exclude:site:*/personal/b_*"});
  auto kept = SelectProtected(f.client, p, "onedrive", users, 2);
  REQUIRE(kept.ok());
  // a: its personal site; b: excluded by site; c: no OneDrive, no rule matches;
  // d: lookup failed after a site rule could have decided -> kept (the run reports it);
  // e: decided by the user rule before any site rule, lookup failure or not.
  CHECK(Upns(*kept) == std::vector<std::string>{"a@contoso.com", "d@contoso.com"});
  CHECK(f.http.Unserved() == 0);
}

}  // namespace
}  // namespace m365vault::sync
