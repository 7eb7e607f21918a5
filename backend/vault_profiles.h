// backend/vault_profiles.h
//
// Scan profiles and backup schedules: what the daemon protects and when.
//
// A tenant's ScanProfile names the object types to protect, the daily
// discovery time (UTC) and a mode:
//   express   every discovered object of those types;
//   advanced  ordered include/exclude rules per type; the first rule whose
//             pattern matches an object decides (include: protected, in the
//             rule's named container; exclude: unprotected); an object no
//             rule matches is unprotected. At least one rule per type.
// What each field matches (ProfileObject):
//   user, mailbox  the user's UPN;
//   group          the displayName or mail of a group the user belongs to,
//                  directly or through nested groups (Microsoft 365,
//                  security, mail-enabled security and distribution groups);
//   site           the URL of the object's site: for onedrive the personal
//                  site (https://contoso-my.sharepoint.com/personal/alice_contoso_com)
//                  or the drive's own URL (.../Documents). A mailbox has no
//                  site, so an exchange site rule is refused (ValidateProfile).
// A Schedule is up to four backup times a day (UTC, HH:MM) per object type,
// or per named container of a type (advanced mode): the objects the profile
// puts into a container with a schedule of its own are backed up at those
// times instead of the type's.
//
// A tenant without a stored profile has the default express profile with
// every supported type (so `tenant add` gives protection without extra
// steps); a type without a stored schedule has kDefaultScheduleTimes.
//
// Storage: ProfileStore keeps them in vault.db, in its own tables
// (scan_profiles, backup_schedules, discovery_results) created with
// CREATE TABLE IF NOT EXISTS on its own connection, so the vault's schema
// version is untouched and older programs still open the vault. Every change
// writes an audit row in the same transaction.
//
// Thread safety: the pure functions are thread-safe; a ProfileStore is safe
// to use from several threads (one connection behind a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/clock.h"
#include "backend/status.h"
#include "backend/vault.h"

namespace m365vault {

class VaultDb;

enum class ProfileMode { kExpress, kAdvanced };
const char* ProfileModeName(ProfileMode mode);  // "express", "advanced"

// What a rule's pattern is matched against.
enum class RuleField { kUser, kMailbox, kGroup, kSite };
const char* RuleFieldName(RuleField field);  // "user", "mailbox", "group", "site"

struct ProfileRule {
  std::string type;  // object type the rule applies to ("exchange", "onedrive")
  bool include = true;
  RuleField field = RuleField::kUser;
  std::string pattern;    // case-insensitive; '*' any run, '?' one character
  std::string container;  // include rules: the named container ("" = "default")
};

struct ScanProfile {
  std::string tenant;
  std::vector<std::string> types;  // sorted, unique
  int discovery_minute = 120;      // minute of the UTC day (default 02:00)
  ProfileMode mode = ProfileMode::kExpress;
  std::vector<ProfileRule> rules;  // advanced mode, in evaluation order
  // The app registration the profile's runs and discoveries sign in with:
  // "" the tenant's own, else a name from Vault::ListAppCredentials.
  std::string credential;
  bool stored = false;  // false: the lazily-created default
};

// "TYPE:include|exclude:user|mailbox|group|site:PATTERN[=>CONTAINER]", e.g.
// "exchange:include:user:*@contoso.com=>sales" or
// "onedrive:exclude:site:https://contoso-my.sharepoint.com/personal/ceo_*".
// InvalidArgument on a malformed rule (an exclude rule takes no container).
Result<ProfileRule> ParseRule(std::string_view text);
std::string FormatRule(const ProfileRule& rule);  // the inverse of ParseRule

// InvalidArgument on an unknown type (not in `supported`), a bad discovery
// time, a rule for a type outside the profile, a site rule for a type whose
// objects have no site (TypeHasSite), or advanced mode without at least one
// rule per type.
Status ValidateProfile(const ScanProfile& profile, const std::vector<std::string>& supported);

// Whether objects of `type` have a site URL a site rule can match: false for
// "exchange" (a mailbox), true for the types backed by SharePoint.
bool TypeHasSite(std::string_view type);

// Which rule fields of `profile` apply to `type` (all types if empty):
// discovery fetches group memberships and site URLs only when asked to.
bool ProfileUsesField(const ScanProfile& profile, RuleField field, std::string_view type = {});

// Case-insensitive glob: '*' matches any run (also empty), '?' one character.
bool WildcardMatch(std::string_view pattern, std::string_view text);

// One discovered object, as far as the rules can see it.
struct ProfileObject {
  std::string upn;  // user / mailbox
  // displayName and mail of the groups the user is a (transitive) member of.
  // Discovery lists only the groups some group rule's pattern matches, which
  // is all the evaluation needs; empty when the profile has no group rules.
  std::vector<std::string> groups;
  std::string site_url;   // the object's site (OneDrive: the personal site), if known
  std::string drive_url;  // the drive's own URL (OneDrive: .../Documents), if known
};

// The personal site of a OneDrive from its drive's webUrl: the URL without
// its last path segment (the library), e.g.
// https://contoso-my.sharepoint.com/personal/alice_contoso_com/Documents ->
// https://contoso-my.sharepoint.com/personal/alice_contoso_com. A URL without
// a path is returned unchanged; a trailing '/' is dropped first.
std::string SiteUrlOfDrive(std::string_view drive_url);

struct RuleDecision {
  bool protect = false;
  int rule = -1;  // index in profile.rules of the deciding rule; -1: none (express, or no match)
  std::string container;  // where a protected object goes ("default" in express mode)
};

// The pure rule evaluation for one object of one type. REQUIRES: the profile
// is valid. A type outside the profile is never protected.
RuleDecision EvaluateProfile(const ScanProfile& profile, const std::string& type, const ProfileObject& object);

// "06:00,12:00" -> {360, 720}: sorted minutes of the UTC day. InvalidArgument
// for a bad time, a duplicate, no time at all or more than kMaxScheduleTimes.
inline constexpr size_t kMaxScheduleTimes = 4;
Result<std::vector<int>> ParseScheduleTimes(std::string_view text);
std::string FormatMinute(int minute);  // 360 -> "06:00"
std::string FormatScheduleTimes(const std::vector<int>& minutes);
inline const std::vector<int> kDefaultScheduleTimes = {0, 6 * 60, 12 * 60, 18 * 60};

struct Schedule {
  std::string tenant;
  std::string type;
  std::vector<int> minutes;  // sorted minutes of the UTC day, 1..4 of them
  bool stored = false;       // false: kDefaultScheduleTimes
  std::string container;     // "" = the type's schedule
};

// The containers the include rules of `type` name (advanced mode; "default"
// for an include rule without one), sorted and unique. Express mode: none.
std::vector<std::string> ProfileContainers(const ScanProfile& profile, const std::string& type);

// What the last discovery found for one type (per tenant).
struct DiscoveryResult {
  std::string tenant;
  std::string type;
  int64_t time_ns = 0;
  uint64_t discovered = 0;  // objects that have this type of data
  uint64_t protected_ = 0;  // of which the profile protects
};

class ProfileStore {
 public:
  // Opens the profile tables of the vault (creating them). The vault must
  // be open (its passphrase checked). `clock` must outlive the store.
  static Result<std::unique_ptr<ProfileStore>> Open(Vault& vault, Clock& clock);
  ~ProfileStore();
  ProfileStore(const ProfileStore&) = delete;
  ProfileStore& operator=(const ProfileStore&) = delete;

  // The stored profile, else the default express profile with `supported`.
  // NotFound if the tenant is unknown.
  Result<ScanProfile> GetProfile(const std::string& tenant, const std::vector<std::string>& supported);
  // Validates and stores (replacing) the profile. NotFound if the tenant is unknown.
  Status SetProfile(const ScanProfile& profile, const std::vector<std::string>& supported);

  // The stored schedule of a type, else kDefaultScheduleTimes.
  Result<Schedule> GetSchedule(const std::string& tenant, const std::string& type);
  // Stores the schedule (of the type, or of schedule.container). InvalidArgument
  // on 0 or more than 4 times. The caller checks that a container exists in
  // the profile (ProfileContainers).
  Status SetSchedule(const Schedule& schedule);
  // The containers of `type` with a schedule of their own, sorted by name
  // (including containers the profile no longer names).
  Result<std::vector<Schedule>> ListContainerSchedules(const std::string& tenant, const std::string& type);
  // Removes a container's own schedule (its objects follow the type's again).
  // NotFound if it has none.
  Status RemoveContainerSchedule(const std::string& tenant, const std::string& type, const std::string& container);

  Status SaveDiscovery(const DiscoveryResult& result);
  // std::nullopt when no discovery ran yet.
  Result<std::optional<DiscoveryResult>> GetDiscovery(const std::string& tenant, const std::string& type);

 private:
  ProfileStore(Vault& vault, std::unique_ptr<VaultDb> db, Clock& clock);
  Status EnsureTenant(const std::string& tenant);
  int64_t NowNs();

  Vault& vault_;
  std::unique_ptr<VaultDb> db_;
  Clock& clock_;
};

}  // namespace m365vault
