// tests/backend/vault_profiles_test.cpp: scan profile rules (pure), schedule
// times, and the ProfileStore on a real vault.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>

#include "backend/vault_profiles.h"
#include "tests/profile_test_util.h"

namespace m365vault {
namespace {

const std::vector<std::string> kTypes = {"exchange", "onedrive"};

ScanProfile Advanced(const std::vector<std::string>& rules) { return m365vault::testing::AdvancedProfile(rules); }

TEST_CASE("wildcards: * any run, ? one character, case-insensitive", "[backend][profiles]") {
  CHECK(WildcardMatch("*@contoso.com", "Alice@Contoso.com"));
  CHECK(WildcardMatch("*", ""));
  CHECK(WildcardMatch("a?ice@*", "alice@x"));
  CHECK_FALSE(WildcardMatch("a?ice@*", "aice@x"));
  CHECK_FALSE(WildcardMatch("*@contoso.com", "alice@contoso.com.evil"));
  CHECK(WildcardMatch("*a*b*c", "xxaxxbxxc"));
  CHECK_FALSE(WildcardMatch("*a*b*c", "xxaxxcxxb"));
  CHECK(WildcardMatch("https://x/personal/ceo_*", "https://X/personal/ceo_contoso_com"));
}

TEST_CASE("rules parse and format round trip; bad rules are refused", "[backend][profiles]") {
  for (const char* text : {"exchange:include:user:*@contoso.com=>sales", "onedrive:exclude:site:https://x/a*",
                           "exchange:include:group:Finance", "exchange:exclude:mailbox:ceo@contoso.com"}) {
    auto r = ParseRule(text);
    REQUIRE(r.ok());
    CHECK(FormatRule(*r) == text);
  }
  auto site = ParseRule("onedrive:include:site:https://x:8443/p*=>vip");
  REQUIRE(site.ok());
  CHECK(site->pattern == "https://x:8443/p*");
  CHECK(site->container == "vip");
  for (const char* bad : {"exchange:include:user", "exchange:keep:user:x", "exchange:include:owner:x",
                          "exchange:exclude:user:x=>c", "exchange:include:user:", ":include:user:x",
                          "exchange:include:user:x=>bad/name"}) {
    CHECK_FALSE(ParseRule(bad).ok());
  }
}

TEST_CASE("advanced mode: first matching rule decides, unmatched objects are unprotected", "[backend][profiles]") {
  ScanProfile p = Advanced({"exchange:exclude:user:ceo@*", "exchange:include:user:*@contoso.com=>staff",
                            "exchange:include:group:Fin*=>finance", "onedrive:include:site:https://x/personal/*"});
  REQUIRE(ValidateProfile(p, kTypes).ok());
  auto ceo = EvaluateProfile(p, "exchange", {"ceo@contoso.com", {}, "", ""});
  CHECK_FALSE(ceo.protect);
  CHECK(ceo.rule == 0);
  auto alice = EvaluateProfile(p, "exchange", {"alice@contoso.com", {}, "", ""});
  CHECK(alice.protect);
  CHECK(alice.rule == 1);
  CHECK(alice.container == "staff");
  auto bob = EvaluateProfile(p, "exchange", {"bob@fabrikam.com", {"Finance"}, "", ""});
  CHECK(bob.protect);
  CHECK(bob.rule == 2);
  CHECK(bob.container == "finance");
  auto eve = EvaluateProfile(p, "exchange", {"eve@fabrikam.com", {}, "", ""});
  CHECK_FALSE(eve.protect);
  CHECK(eve.rule == -1);
  // Rules are per type: the user rules do not apply to onedrive.
  CHECK_FALSE(EvaluateProfile(p, "onedrive", {"alice@contoso.com", {}, "", ""}).protect);
  auto drive = EvaluateProfile(p, "onedrive", {"alice@contoso.com", {}, "https://x/personal/alice", ""});
  CHECK(drive.protect);
  CHECK(drive.container == "default");
}

TEST_CASE("group rules match any group of the user by displayName or mail", "[backend][profiles]") {
  ScanProfile p = Advanced({"exchange:exclude:group:*interns*", "exchange:include:group:sales@*=>sales",
                            "exchange:include:group:Zoë's ?Team? *=>team", "onedrive:include:group:Engineering"});
  REQUIRE(ValidateProfile(p, kTypes).ok());
  // The first matching rule decides, whichever of the user's groups matched it.
  auto intern = EvaluateProfile(p, "exchange", {"i@x", {"Sales", "sales@x.com", "Sales EMEA Interns"}, "", ""});
  CHECK_FALSE(intern.protect);
  CHECK(intern.rule == 0);
  auto seller = EvaluateProfile(p, "exchange", {"s@x", {"Sales", "SALES@x.com"}, "", ""});
  CHECK(seller.protect);
  CHECK(seller.rule == 1);
  CHECK(seller.container == "sales");
  // The display name alone does not match a mail pattern.
  CHECK(EvaluateProfile(p, "exchange", {"s@x", {"Sales"}, "", ""}).rule == -1);
  // Wildcard characters inside a group name are ordinary characters of the text.
  auto team = EvaluateProfile(p, "exchange", {"z@x", {"Zoë's *Team* [ops]?"}, "", ""});
  CHECK(team.rule == 2);
  CHECK(team.container == "team");
  // Groups are matched as a whole: "Engineering" does not match "Engineering Leads".
  CHECK_FALSE(EvaluateProfile(p, "onedrive", {"e@x", {"Engineering Leads"}, "", ""}).protect);
  CHECK(EvaluateProfile(p, "onedrive", {"e@x", {"engineering"}, "", ""}).protect);
  // No groups known: a group rule matches nothing, the user stays unprotected.
  CHECK(EvaluateProfile(p, "exchange", {"nobody@x", {}, "", ""}).rule == -1);
  // A user rule's pattern is never matched against group names, nor a group rule's against the UPN.
  ScanProfile q = Advanced({"exchange:include:user:Sales", "onedrive:include:group:e@x"});
  CHECK_FALSE(EvaluateProfile(q, "exchange", {"a@x", {"Sales"}, "", ""}).protect);
  CHECK_FALSE(EvaluateProfile(q, "onedrive", {"e@x", {}, "", ""}).protect);
}

TEST_CASE("site rules match the personal site or the drive URL; exchange has no site", "[backend][profiles]") {
  const std::string drive = "https://contoso-my.sharepoint.com/personal/alice_contoso_com/Documents";
  const std::string site = SiteUrlOfDrive(drive);
  CHECK(site == "https://contoso-my.sharepoint.com/personal/alice_contoso_com");
  CHECK(SiteUrlOfDrive(drive + "/") == site);
  CHECK(SiteUrlOfDrive("https://h/Documents") == "https://h");
  CHECK(SiteUrlOfDrive("https://h") == "https://h");
  CHECK(SiteUrlOfDrive("") == "");

  ScanProfile p = Advanced({"exchange:include:user:*",
                            "onedrive:exclude:site:https://contoso-my.sharepoint.com/personal/ceo_*",
                            "onedrive:include:site:https://contoso-my.sharepoint.com/personal/alice_contoso_com=>vip",
                            "onedrive:include:site:*/Documents"});
  REQUIRE(ValidateProfile(p, kTypes).ok());
  auto alice = EvaluateProfile(p, "onedrive", {"alice@contoso.com", {}, site, drive});
  CHECK(alice.rule == 2);  // the exact site URL, no trailing wildcard needed
  CHECK(alice.container == "vip");
  auto bob = EvaluateProfile(p, "onedrive",
                             {"bob@contoso.com", {}, "https://contoso-my.sharepoint.com/personal/bob_contoso_com",
                              "https://contoso-my.sharepoint.com/personal/bob_contoso_com/Documents"});
  CHECK(bob.rule == 3);  // matched through the drive URL
  auto ceo = EvaluateProfile(p, "onedrive",
                             {"ceo@contoso.com", {}, "https://contoso-my.sharepoint.com/personal/ceo_contoso_com",
                              "https://contoso-my.sharepoint.com/personal/ceo_contoso_com/Documents"});
  CHECK_FALSE(ceo.protect);
  CHECK(ceo.rule == 1);
  // Unknown site (no OneDrive data fetched): site rules match nothing.
  CHECK(EvaluateProfile(p, "onedrive", {"carol@contoso.com", {}, "", ""}).rule == -1);

  // A mailbox has no site: an exchange site rule is refused with a reason.
  Status st = ValidateProfile(Advanced({"exchange:include:site:https://*", "onedrive:include:user:*"}), kTypes);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("no site URL") != std::string::npos);
  CHECK(TypeHasSite("onedrive"));
  CHECK_FALSE(TypeHasSite("exchange"));
}

TEST_CASE("ProfileUsesField says which data discovery must fetch", "[backend][profiles]") {
  ScanProfile p = Advanced({"exchange:include:group:Sales", "onedrive:include:site:https://x/*",
                            "onedrive:include:user:*"});
  CHECK(ProfileUsesField(p, RuleField::kGroup));
  CHECK(ProfileUsesField(p, RuleField::kGroup, "exchange"));
  CHECK_FALSE(ProfileUsesField(p, RuleField::kGroup, "onedrive"));
  CHECK(ProfileUsesField(p, RuleField::kSite, "onedrive"));
  CHECK_FALSE(ProfileUsesField(p, RuleField::kSite, "exchange"));
  ScanProfile express;
  express.types = kTypes;
  CHECK_FALSE(ProfileUsesField(express, RuleField::kGroup));
  CHECK_FALSE(ProfileUsesField(express, RuleField::kUser));
}

TEST_CASE("express mode protects every object of its types only", "[backend][profiles]") {
  ScanProfile p;
  p.types = {"exchange"};
  REQUIRE(ValidateProfile(p, kTypes).ok());
  CHECK(EvaluateProfile(p, "exchange", {"anyone@x", {}, "", ""}).protect);
  CHECK_FALSE(EvaluateProfile(p, "onedrive", {"anyone@x", {}, "", ""}).protect);
}

TEST_CASE("profile validation", "[backend][profiles]") {
  CHECK_FALSE(ValidateProfile(Advanced({"exchange:include:user:*"}), kTypes).ok());  // no onedrive rule
  CHECK(ValidateProfile(Advanced({"exchange:include:user:*", "onedrive:exclude:user:x"}), kTypes).ok());
  ScanProfile unknown;
  unknown.types = {"teams"};
  CHECK_FALSE(ValidateProfile(unknown, kTypes).ok());
  ScanProfile none;
  CHECK_FALSE(ValidateProfile(none, kTypes).ok());
  ScanProfile express_rules = Advanced({"exchange:include:user:*", "onedrive:include:user:*"});
  express_rules.mode = ProfileMode::kExpress;
  CHECK_FALSE(ValidateProfile(express_rules, kTypes).ok());
  ScanProfile late;
  late.types = kTypes;
  late.discovery_minute = 24 * 60;
  CHECK_FALSE(ValidateProfile(late, kTypes).ok());
}

TEST_CASE("schedule times: HH:MM UTC, at most four, no duplicates", "[backend][profiles]") {
  auto t = ParseScheduleTimes("18:00,06:00, 12:00,00:00");
  REQUIRE(t.ok());
  CHECK(*t == std::vector<int>{0, 360, 720, 1080});
  CHECK(FormatScheduleTimes(*t) == "00:00,06:00,12:00,18:00");
  CHECK(ParseScheduleTimes("23:59").ok());
  CHECK_FALSE(ParseScheduleTimes("00:00,06:00,12:00,18:00,20:00").ok());
  CHECK_FALSE(ParseScheduleTimes("24:00").ok());
  CHECK_FALSE(ParseScheduleTimes("6:00").ok());
  CHECK_FALSE(ParseScheduleTimes("06:60").ok());
  CHECK_FALSE(ParseScheduleTimes("06:00,06:00").ok());
  CHECK_FALSE(ParseScheduleTimes("").ok());
}

// A new vault in `dir` with the tenant "contoso".
Result<std::unique_ptr<Vault>> VaultWithContoso(const std::string& dir, ManualClock& clock) {
  VaultOptions vo;
  vo.pwhash = crypto::PwhashParams::ForTests();
  vo.clock = &clock;
  M365_ASSIGN_OR_RETURN(auto vault, Vault::Create(dir, "pw", vo));
  TenantConfig c;
  c.name = "contoso";
  c.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  c.client_id = "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40";
  c.credential = "secret-value";
  M365_RETURN_IF_ERROR(vault->AddTenant(c).status());
  return vault;
}

TEST_CASE("the profile store: lazy express default, set/get, schedules, audit", "[backend][profiles]") {
  REQUIRE(crypto::InitCrypto());
  static std::atomic<int> n{0};
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("m365vault-profiles-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
                              .string();
  std::filesystem::remove_all(dir);
  {
    ManualClock clock;
    auto vault = VaultWithContoso(dir, clock);
    REQUIRE(vault.ok());
    auto store = ProfileStore::Open(**vault, clock);
    REQUIRE(store.ok());
    auto def = (*store)->GetProfile("contoso", kTypes);
    REQUIRE(def.ok());
    CHECK_FALSE(def->stored);
    CHECK(def->mode == ProfileMode::kExpress);
    CHECK(def->types == kTypes);
    CHECK((*store)->GetProfile("nobody", kTypes).status().code() == Status::Code::kNotFound);

    ScanProfile p = Advanced({"exchange:include:user:*@contoso.com=>staff", "onedrive:exclude:user:ceo@*"});
    p.discovery_minute = 3 * 60 + 30;
    REQUIRE((*store)->SetProfile(p, kTypes).ok());
    ScanProfile bad = Advanced({"exchange:include:user:*"});
    CHECK((*store)->SetProfile(bad, kTypes).code() == Status::Code::kInvalidArgument);
    // The profile's sign-in must name one of the tenant's credentials.
    ScanProfile signed_in = p;
    signed_in.credential = "app2";
    CHECK((*store)->SetProfile(signed_in, kTypes).code() == Status::Code::kNotFound);
    REQUIRE((*vault)
                ->AddAppCredential({"contoso", "app2", "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f41",
                                    CredentialKind::kClientSecret, "s2"})
                .ok());
    REQUIRE((*store)->SetProfile(signed_in, kTypes).ok());
    CHECK((*store)->GetProfile("contoso", kTypes)->credential == "app2");
    REQUIRE((*store)->SetProfile(p, kTypes).ok());
    CHECK((*store)->GetProfile("contoso", kTypes)->credential.empty());
    auto got = (*store)->GetProfile("contoso", kTypes);
    REQUIRE(got.ok());
    CHECK(got->stored);
    CHECK(got->mode == ProfileMode::kAdvanced);
    CHECK(got->discovery_minute == 210);
    REQUIRE(got->rules.size() == 2);
    CHECK(FormatRule(got->rules[0]) == "exchange:include:user:*@contoso.com=>staff");

    auto sc = (*store)->GetSchedule("contoso", "exchange");
    REQUIRE(sc.ok());
    CHECK_FALSE(sc->stored);
    CHECK(sc->minutes == kDefaultScheduleTimes);
    REQUIRE((*store)->SetSchedule({"contoso", "exchange", {360, 1080}, true, ""}).ok());
    CHECK((*store)->SetSchedule({"contoso", "exchange", {1, 2, 3, 4, 5}, true, ""}).code() ==
          Status::Code::kInvalidArgument);
    sc = (*store)->GetSchedule("contoso", "exchange");
    CHECK(sc->minutes == std::vector<int>{360, 1080});

    auto audit = (*vault)->ListAudit();
    REQUIRE(audit.ok());
    REQUIRE(audit->size() >= 2);
    CHECK((*audit)[0].action == "schedule.set");
    CHECK((*audit)[1].action == "profile.set");

    // A second vault handle (another process) sees the same tables.
    VaultOptions vo;
    vo.pwhash = crypto::PwhashParams::ForTests();
    vo.clock = &clock;
    auto again = Vault::Open(dir, "pw", vo);
    REQUIRE(again.ok());
    auto store2 = ProfileStore::Open(**again, clock);
    REQUIRE(store2.ok());
    CHECK((*store2)->GetSchedule("contoso", "exchange")->minutes == std::vector<int>{360, 1080});
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a scan_profiles table of an older version gains the credential column", "[backend][profiles]") {
  REQUIRE(crypto::InitCrypto());
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("m365vault-profiles-old-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  {
    ManualClock clock;
    auto vault = VaultWithContoso(dir, clock);
    REQUIRE(vault.ok());
    {
      // The table as the previous version created it, with a stored profile.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir + "/vault.db").c_str(), &db) == SQLITE_OK);
      REQUIRE(sqlite3_exec(db,
                           "CREATE TABLE scan_profiles(tenant TEXT PRIMARY KEY, types TEXT NOT NULL,"
                           " discovery_minute INTEGER NOT NULL, mode TEXT NOT NULL, rules TEXT NOT NULL DEFAULT '[]',"
                           " updated INTEGER NOT NULL);"
                           "INSERT INTO scan_profiles VALUES('contoso', '[\"exchange\"]', 60, 'express', '[]', 1);",
                           nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(db);
    }
    auto store = ProfileStore::Open(**vault, clock);
    REQUIRE(store.ok());
    auto p = (*store)->GetProfile("contoso", kTypes);
    REQUIRE(p.ok());
    CHECK(p->stored);
    CHECK(p->discovery_minute == 60);
    CHECK(p->credential.empty());
    REQUIRE((*vault)
                ->AddAppCredential({"contoso", "app2", "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f41",
                                    CredentialKind::kClientSecret, "s2"})
                .ok());
    p->credential = "app2";
    REQUIRE((*store)->SetProfile(*p, kTypes).ok());
    CHECK((*store)->GetProfile("contoso", kTypes)->credential == "app2");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace m365vault
