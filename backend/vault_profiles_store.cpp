// backend/vault_profiles_store.cpp: ProfileStore, the profile, schedule and
// discovery-result tables in vault.db.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "backend/vault_db.h"
#include "backend/vault_profiles.h"

namespace m365vault {
namespace {

// Own tables, created idempotently; the vault's user_version is not touched.
// Times are ns since the epoch (UTC). `types` and `rules` are JSON arrays.
constexpr char kProfileSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS scan_profiles(
  tenant TEXT PRIMARY KEY,
  types TEXT NOT NULL,
  discovery_minute INTEGER NOT NULL,
  mode TEXT NOT NULL,
  rules TEXT NOT NULL DEFAULT '[]',
  updated INTEGER NOT NULL,
  credential TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS backup_schedules(
  tenant TEXT NOT NULL,
  object_type TEXT NOT NULL,
  times TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY(tenant, object_type)
);
CREATE TABLE IF NOT EXISTS container_schedules(
  tenant TEXT NOT NULL,
  object_type TEXT NOT NULL,
  container TEXT NOT NULL,
  times TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY(tenant, object_type, container)
);
CREATE TABLE IF NOT EXISTS discovery_results(
  tenant TEXT NOT NULL,
  object_type TEXT NOT NULL,
  time INTEGER NOT NULL,
  discovered INTEGER NOT NULL,
  protected INTEGER NOT NULL,
  PRIMARY KEY(tenant, object_type)
);
)sql";

}  // namespace

ProfileStore::ProfileStore(Vault& vault, std::unique_ptr<VaultDb> db, Clock& clock)
    : vault_(vault), db_(std::move(db)), clock_(clock) {}
ProfileStore::~ProfileStore() = default;

Result<std::unique_ptr<ProfileStore>> ProfileStore::Open(Vault& vault, Clock& clock) {
  M365_ASSIGN_OR_RETURN(auto db, VaultDb::Open(vault.dir() + "/vault.db", /*create=*/false));
  {
    std::lock_guard<std::mutex> l(db->mu());
    M365_RETURN_IF_ERROR(db->Exec(kProfileSchema));
    // Tables of older versions lack the credential column.
    std::vector<std::string> columns;
    {  // finalized before the ALTER TABLE
      Stmt s(*db, "PRAGMA table_info(scan_profiles)");
      M365_ASSIGN_OR_RETURN(columns, s.Rows([](Stmt& r) { return r.Text(1); }));
    }
    const bool has_credential = std::find(columns.begin(), columns.end(), "credential") != columns.end();
    if (!has_credential) {
      M365_RETURN_IF_ERROR(db->Exec("ALTER TABLE scan_profiles ADD COLUMN credential TEXT NOT NULL DEFAULT ''"));
    }
  }
  return std::unique_ptr<ProfileStore>(new ProfileStore(vault, std::move(db), clock));
}

int64_t ProfileStore::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch()).count();
}

Status ProfileStore::EnsureTenant(const std::string& tenant) { return vault_.GetTenant(tenant).status(); }

Result<ScanProfile> ProfileStore::GetProfile(const std::string& tenant, const std::vector<std::string>& supported) {
  M365_RETURN_IF_ERROR(EnsureTenant(tenant));
  ScanProfile p;
  p.tenant = tenant;
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, "SELECT types, discovery_minute, mode, rules, credential FROM scan_profiles WHERE tenant = ?");
  s.Bind(1, tenant);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    p.types = supported;
    std::sort(p.types.begin(), p.types.end());
    return p;
  }
  auto types = nlohmann::json::parse(s.Text(0), nullptr, false);
  auto rules = nlohmann::json::parse(s.Text(3), nullptr, false);
  if (!types.is_array() || !rules.is_array()) return Status::Corruption("scan profile of " + tenant + " is unreadable");
  for (const auto& t : types) p.types.push_back(t.get<std::string>());
  p.discovery_minute = static_cast<int>(s.Int(1));
  p.mode = s.Text(2) == "advanced" ? ProfileMode::kAdvanced : ProfileMode::kExpress;
  for (const auto& r : rules) {
    auto rule = ParseRule(r.get<std::string>());
    if (!rule.ok()) return Status::Corruption("scan profile of " + tenant + ": " + rule.status().message());
    p.rules.push_back(std::move(rule).value());
  }
  p.credential = s.Text(4);
  p.stored = true;
  return p;
}

Status ProfileStore::SetProfile(const ScanProfile& profile, const std::vector<std::string>& supported) {
  M365_RETURN_IF_ERROR(EnsureTenant(profile.tenant));
  M365_RETURN_IF_ERROR(ValidateProfile(profile, supported));
  if (!profile.credential.empty()) {
    M365_ASSIGN_OR_RETURN(auto credentials, vault_.ListAppCredentials(profile.tenant));
    if (std::none_of(credentials.begin(), credentials.end(),
                     [&](const AppCredentialRecord& c) { return c.name == profile.credential; })) {
      return Status::NotFound("tenant '" + profile.tenant + "' has no credential named '" + profile.credential +
                              "' (add it with 'm365vault tenant credential add')");
    }
  }
  nlohmann::json types = nlohmann::json::array(), rules = nlohmann::json::array();
  for (const auto& t : profile.types) types.push_back(t);
  for (const auto& r : profile.rules) rules.push_back(FormatRule(r));
  std::lock_guard<std::mutex> l(db_->mu());
  int64_t now = NowNs();
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_,
         "INSERT OR REPLACE INTO scan_profiles(tenant, types, discovery_minute, mode, rules, updated, credential)"
         " VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, profile.tenant)
      .Bind(2, types.dump())
      .Bind(3, static_cast<int64_t>(profile.discovery_minute))
      .Bind(4, ProfileModeName(profile.mode))
      .Bind(5, rules.dump())
      .Bind(6, now)
      .Bind(7, profile.credential);
  M365_RETURN_IF_ERROR(s.Run());
  nlohmann::json details = {{"tenant", profile.tenant},
                            {"types", types},
                            {"discovery", FormatMinute(profile.discovery_minute)},
                            {"mode", ProfileModeName(profile.mode)},
                            {"rules", rules},
                            {"credential", profile.credential}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, now, "profile.set", details.dump()));
  return t.Commit();
}

Result<Schedule> ProfileStore::GetSchedule(const std::string& tenant, const std::string& type) {
  Schedule sc;
  sc.tenant = tenant;
  sc.type = type;
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, "SELECT times FROM backup_schedules WHERE tenant = ? AND object_type = ?");
  s.Bind(1, tenant).Bind(2, type);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    sc.minutes = kDefaultScheduleTimes;
    return sc;
  }
  auto times = ParseScheduleTimes(s.Text(0));
  if (!times.ok()) return Status::Corruption("schedule of " + tenant + "/" + type + ": " + times.status().message());
  sc.minutes = std::move(times).value();
  sc.stored = true;
  return sc;
}

Status ProfileStore::SetSchedule(const Schedule& schedule) {
  M365_RETURN_IF_ERROR(EnsureTenant(schedule.tenant));
  if (schedule.minutes.empty() || schedule.minutes.size() > kMaxScheduleTimes) {
    return Status::InvalidArgument("a schedule has 1 to " + std::to_string(kMaxScheduleTimes) + " times a day");
  }
  const std::string times = FormatScheduleTimes(schedule.minutes);
  M365_RETURN_IF_ERROR(ParseScheduleTimes(times).status());
  std::lock_guard<std::mutex> l(db_->mu());
  int64_t now = NowNs();
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  if (schedule.container.empty()) {
    Stmt s(*db_, "INSERT OR REPLACE INTO backup_schedules(tenant, object_type, times, updated) VALUES (?, ?, ?, ?)");
    s.Bind(1, schedule.tenant).Bind(2, schedule.type).Bind(3, times).Bind(4, now);
    M365_RETURN_IF_ERROR(s.Run());
  } else {
    Stmt s(*db_,
           "INSERT OR REPLACE INTO container_schedules(tenant, object_type, container, times, updated)"
           " VALUES (?, ?, ?, ?, ?)");
    s.Bind(1, schedule.tenant).Bind(2, schedule.type).Bind(3, schedule.container).Bind(4, times).Bind(5, now);
    M365_RETURN_IF_ERROR(s.Run());
  }
  nlohmann::json details = {{"tenant", schedule.tenant}, {"type", schedule.type}, {"times", times}};
  if (!schedule.container.empty()) details["container"] = schedule.container;
  M365_RETURN_IF_ERROR(InsertAudit(*db_, now, "schedule.set", details.dump()));
  return t.Commit();
}

Result<std::vector<Schedule>> ProfileStore::ListContainerSchedules(const std::string& tenant,
                                                                   const std::string& type) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_,
         "SELECT container, times FROM container_schedules WHERE tenant = ? AND object_type = ? ORDER BY container");
  s.Bind(1, tenant).Bind(2, type);
  return s.Rows([&](Stmt& r) -> Result<Schedule> {
    Schedule sc;
    sc.tenant = tenant;
    sc.type = type;
    sc.container = r.Text(0);
    auto times = ParseScheduleTimes(r.Text(1));
    if (!times.ok()) {
      return Status::Corruption("schedule of " + tenant + "/" + type + " container " + sc.container + ": " +
                                times.status().message());
    }
    sc.minutes = std::move(times).value();
    sc.stored = true;
    return sc;
  });
}

Status ProfileStore::RemoveContainerSchedule(const std::string& tenant, const std::string& type,
                                             const std::string& container) {
  std::lock_guard<std::mutex> l(db_->mu());
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_, "DELETE FROM container_schedules WHERE tenant = ? AND object_type = ? AND container = ?");
  s.Bind(1, tenant).Bind(2, type).Bind(3, container);
  M365_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) {
    return Status::NotFound("container '" + container + "' of " + tenant + "/" + type + " has no schedule of its own");
  }
  nlohmann::json details = {{"tenant", tenant}, {"type", type}, {"container", container}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, NowNs(), "schedule.remove", details.dump()));
  return t.Commit();
}

Status ProfileStore::SaveDiscovery(const DiscoveryResult& r) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_,
         "INSERT OR REPLACE INTO discovery_results(tenant, object_type, time, discovered, protected)"
         " VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, r.tenant)
      .Bind(2, r.type)
      .Bind(3, r.time_ns)
      .Bind(4, static_cast<int64_t>(r.discovered))
      .Bind(5, static_cast<int64_t>(r.protected_));
  return s.Run();
}

Result<std::optional<DiscoveryResult>> ProfileStore::GetDiscovery(const std::string& tenant, const std::string& type) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, "SELECT time, discovered, protected FROM discovery_results WHERE tenant = ? AND object_type = ?");
  s.Bind(1, tenant).Bind(2, type);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<DiscoveryResult>();
  DiscoveryResult r{tenant, type, s.Int(0), static_cast<uint64_t>(s.Int(1)), static_cast<uint64_t>(s.Int(2))};
  return std::optional<DiscoveryResult>(r);
}

}  // namespace m365vault
