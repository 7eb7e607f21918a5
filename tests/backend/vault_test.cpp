// tests/backend/vault_test.cpp: the vault (control plane): keys, tenants,
// credentials at rest, file modes, jobs and the audit log.
#include "backend/vault.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/crypto.h"
#include "backend/snapshot_writer.h"

using namespace m365vault;

namespace {

constexpr char kTenantId[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr char kClientId[] = "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40";
constexpr char kSecret[] = "Zx8Q~very-secret-client-value.0123456789";

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    static std::atomic<int> n{0};
    path = (std::filesystem::temp_directory_path() /
            ("m365vault-vault-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
               .string();
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

VaultOptions Fast(Clock* clock = nullptr) {
  VaultOptions o;
  o.pwhash = crypto::PwhashParams::ForTests();
  o.clock = clock;
  return o;
}

std::unique_ptr<Vault> MakeVault(const std::string& dir, Clock* clock = nullptr) {
  REQUIRE(crypto::InitCrypto());
  auto v = Vault::Create(dir, "correct horse", Fast(clock));
  REQUIRE(v.ok());
  return std::move(v).value();
}

TenantConfig Contoso(std::string name = "contoso") {
  TenantConfig c;
  c.name = std::move(name);
  c.tenant_id = kTenantId;
  c.client_id = kClientId;
  c.credential = kSecret;
  return c;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a vault is created once and reopened with its passphrase", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  { auto v = MakeVault(dir); }
  auto again = Vault::Create(dir, "other", Fast());
  REQUIRE(again.status().code() == Status::Code::kAlreadyExists);

  auto v = Vault::Open(dir, "correct horse", Fast());
  REQUIRE(v.ok());
  REQUIRE((*v)->dir() == std::filesystem::absolute(dir).string());

  auto empty = Vault::Create(t.path + "/w", "", Fast());
  REQUIRE(empty.status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("a vault is not created in a folder holding other files", "[vault]") {
  TempDir t;
  REQUIRE(crypto::InitCrypto());
  std::filesystem::create_directories(t.path + "/home");
  { std::ofstream(t.path + "/home/notes.txt") << "mine"; }
  ::chmod((t.path + "/home").c_str(), 0755);
  auto v = Vault::Create(t.path + "/home", "pw", Fast());
  REQUIRE(v.status().code() == Status::Code::kAlreadyExists);
  REQUIRE(ModeOf(t.path + "/home") == 0755);  // untouched
  REQUIRE_FALSE(std::filesystem::exists(t.path + "/home/vault.db"));
  // An existing empty folder is fine.
  std::filesystem::create_directories(t.path + "/empty");
  REQUIRE(Vault::Create(t.path + "/empty", "pw", Fast()).ok());
  REQUIRE(ModeOf(t.path + "/empty") == 0700);
}

TEST_CASE("a vault.db from a newer program is refused", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  { auto v = MakeVault(dir); }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir + "/vault.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto v = Vault::Open(dir, "correct horse", Fast());
  REQUIRE(v.status().code() == Status::Code::kNotSupported);
  REQUIRE(v.status().message().find("upgrade") != std::string::npos);
}

TEST_CASE("a version 1 vault.db is migrated in place and keeps its rows", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  int64_t job = 0;
  {
    auto v = MakeVault(dir);
    REQUIRE(v->AddTenant(Contoso()).ok());
    job = *v->StartJob("contoso", "backup", "exchange");
    REQUIRE(v->AddJobEvent({job, 0, "alice@x/Mail/Inbox/m1", "E", "reason", "hint", "content"}).ok());
    REQUIRE(v->FinishJob(job, JobStatus::kPartial, {1, 1, 0, 5, 500}, "", "").ok());
  }
  {
    // Back to the version 1 layout: without the columns version 2 added.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir + "/vault.db").c_str(), &db) == SQLITE_OK);
    for (const char* sql : {"ALTER TABLE tenants DROP COLUMN license_expiry", "ALTER TABLE jobs DROP COLUMN scope",
                            "ALTER TABLE jobs DROP COLUMN containers_total", "ALTER TABLE job_events DROP COLUMN level",
                            "PRAGMA user_version=1"}) {
      INFO(sql);
      REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    sqlite3_close(db);
  }
  auto v = Vault::Open(dir, "correct horse", Fast());
  REQUIRE(v.ok());
  auto tenant = (*v)->GetTenant("contoso");
  REQUIRE(tenant.ok());
  CHECK(tenant->license_expiry_ns == 0);
  auto j = (*v)->GetJob(job);
  REQUIRE(j.ok());
  CHECK(j->counts.items == 5);
  CHECK(j->scope.empty());
  CHECK(j->counts.containers_total == 0);
  auto events = (*v)->ListJobEvents(job);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  CHECK(events->front().level.empty());
  // The new columns work after the migration.
  REQUIRE((*v)->SetLicenseExpiry("contoso", int64_t{1900000000} * 1000000000).ok());
  CHECK((*v)->GetTenant("contoso")->license_expiry_ns == int64_t{1900000000} * 1000000000);
  CHECK((*v)->SetLicenseExpiry("nobody", 1).code() == Status::Code::kNotFound);
  CHECK((*v)->SetLicenseExpiry("contoso", -5).code() == Status::Code::kInvalidArgument);
  auto scoped = (*v)->StartJob("contoso", "backup", "exchange", "container:vip");
  REQUIRE(scoped.ok());
  JobCounts counts;
  counts.containers_total = 42;
  REQUIRE((*v)->FinishJob(*scoped, JobStatus::kSucceeded, counts, "", "").ok());
  REQUIRE((*v)->AddJobEvent({*scoped, 0, "a@x/Mail/F", "E", "r", "h", "container"}).ok());
  auto s = (*v)->GetJob(*scoped);
  CHECK(s->scope == "container:vip");
  CHECK(s->counts.containers_total == 42);
  CHECK((*v)->ListJobEvents(*scoped)->front().level == "container");
}

TEST_CASE("further app credentials: sealed per row, listed without secrets, removed with the tenant", "[vault]") {
  TempDir t;
  auto v = MakeVault(t.path + "/v");
  REQUIRE(v->AddTenant(Contoso()).ok());
  const std::string other_client = "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f41";
  REQUIRE(v->AddAppCredential({"contoso", "app2", other_client, CredentialKind::kClientSecret, "second-secret"}).ok());
  CHECK(v->AddAppCredential({"contoso", "app2", other_client, CredentialKind::kClientSecret, "x"}).code() ==
        Status::Code::kAlreadyExists);
  CHECK(v->AddAppCredential({"nobody", "app2", other_client, CredentialKind::kClientSecret, "x"}).code() ==
        Status::Code::kNotFound);
  CHECK(v->AddAppCredential({"contoso", "../x", other_client, CredentialKind::kClientSecret, "x"}).code() ==
        Status::Code::kInvalidArgument);
  CHECK(v->AddAppCredential({"contoso", "app3", "not-a-guid", CredentialKind::kClientSecret, "x"}).code() ==
        Status::Code::kInvalidArgument);
  CHECK(v->AddAppCredential({"contoso", "app3", other_client, CredentialKind::kCertificate, "no pem"}).code() ==
        Status::Code::kInvalidArgument);
  REQUIRE(v->AddAppCredential({"contoso", "app3", other_client, CredentialKind::kClientSecret, "third"}).ok());
  auto list = v->ListAppCredentials("contoso");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "app2");
  CHECK((*list)[0].client_id == other_client);
  // Sign-ins: the tenant's own for "", the named one otherwise.
  auto own = v->GetSignIn("contoso", "");
  REQUIRE(own.ok());
  CHECK(own->client_id == kClientId);
  CHECK(own->credential.secret == kSecret);
  auto app2 = v->GetSignIn("contoso", "app2");
  REQUIRE(app2.ok());
  CHECK(app2->client_id == other_client);
  CHECK(app2->credential.secret == "second-secret");
  CHECK(v->GetSignIn("contoso", "missing").status().code() == Status::Code::kNotFound);
  {
    // Not in clear in the database; a sealed value moved to another row does not open.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((v->dir() + "/vault.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "UPDATE app_credentials SET credential = (SELECT credential FROM app_credentials WHERE "
                         "name = 'app2') WHERE name = 'app3'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  std::ifstream in(v->dir() + "/vault.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(bytes.find("second-secret") == std::string::npos);
  CHECK(v->GetSignIn("contoso", "app3").status().code() == Status::Code::kCorruption);
  REQUIRE(v->RemoveAppCredential("contoso", "app3").ok());
  CHECK(v->RemoveAppCredential("contoso", "app3").code() == Status::Code::kNotFound);
  REQUIRE(v->RemoveTenant("contoso", false).ok());
  REQUIRE(v->AddTenant(Contoso()).ok());
  CHECK(v->ListAppCredentials("contoso")->empty());
}

TEST_CASE("opening a missing vault says to run init", "[vault]") {
  TempDir t;
  REQUIRE(crypto::InitCrypto());
  auto v = Vault::Open(t.path + "/nothing", "pw", Fast());
  REQUIRE(v.status().IsNotFound());
  REQUIRE(v.status().message().find("m365vault init") != std::string::npos);
}

TEST_CASE("a wrong passphrase is WrongKey and changes nothing", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  {
    auto v = MakeVault(dir);
    REQUIRE(v->AddTenant(Contoso()).ok());
  }
  auto snapshot_files = [&] {
    std::map<std::string, std::string> files;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) files[e.path().string()] = Slurp(e.path().string());
    }
    return files;
  };
  auto before = snapshot_files();
  auto v = Vault::Open(dir, "wrong horse", Fast());
  REQUIRE(v.status().code() == Status::Code::kWrongKey);
  REQUIRE(v.status().message().find("wrong passphrase") != std::string::npos);
  REQUIRE(snapshot_files() == before);
}

TEST_CASE("vault files are private to the user", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  auto v = MakeVault(dir);
  REQUIRE(v->AddTenant(Contoso()).ok());
  REQUIRE(ModeOf(dir) == 0700);
  REQUIRE(ModeOf(dir + "/vault.db") == 0600);
  REQUIRE(ModeOf(dir + "/master.key") == 0600);
  REQUIRE(ModeOf(dir + "/repos") == 0700);
  REQUIRE(ModeOf(dir + "/repos/contoso") == 0700);
  REQUIRE(ModeOf(dir + "/cache/contoso") == 0700);
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      INFO(e.path().string());
      REQUIRE((ModeOf(e.path().string()) & 0077) == 0);
    }
  }
}

TEST_CASE("tenants are added, listed, shown and removed", "[vault]") {
  TempDir t;
  auto v = MakeVault(t.path + "/v");
  auto a = v->AddTenant(Contoso("contoso"));
  REQUIRE(a.ok());
  REQUIRE(a->graph_url == kDefaultGraphUrl);
  REQUIRE(a->login_url == kDefaultLoginUrl);
  REQUIRE(a->storage == v->dir() + "/repos/contoso");

  TenantConfig f = Contoso("fabrikam.eu");
  f.storage = t.path + "/elsewhere/fabrikam";
  f.region = "eu";
  f.graph_url = "https://localhost:8443/";
  f.login_url = "https://localhost:8443";
  auto b = v->AddTenant(f);
  REQUIRE(b.ok());
  REQUIRE(b->graph_url == "https://localhost:8443");
  REQUIRE(std::filesystem::exists(f.storage + "/config"));

  auto list = v->ListTenants();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  REQUIRE((*list)[0].name == "contoso");
  REQUIRE((*list)[1].name == "fabrikam.eu");
  REQUIRE((*list)[1].region == "eu");

  REQUIRE(v->AddTenant(Contoso("contoso")).status().code() == Status::Code::kAlreadyExists);

  auto repo = v->OpenRepository("contoso");
  REQUIRE(repo.ok());
  REQUIRE((*repo)->tenant() == "contoso");
  REQUIRE(v->OpenRepository("nope").status().IsNotFound());

  REQUIRE(v->RemoveTenant("contoso", /*purge=*/false).ok());
  REQUIRE(v->GetTenant("contoso").status().IsNotFound());
  REQUIRE(v->RemoveTenant("contoso", false).IsNotFound());
  // Kept without --purge, and re-attached by a new add.
  REQUIRE(std::filesystem::exists(v->dir() + "/repos/contoso/config"));
  REQUIRE(v->AddTenant(Contoso("contoso")).ok());

  REQUIRE(v->RemoveTenant("fabrikam.eu", /*purge=*/true).ok());
  REQUIRE_FALSE(std::filesystem::exists(f.storage));
  REQUIRE_FALSE(std::filesystem::exists(v->dir() + "/cache/fabrikam.eu"));
}

TEST_CASE("purge leaves files that are not the repository's", "[vault]") {
  TempDir t;
  auto v = MakeVault(t.path + "/v");
  TenantConfig c = Contoso();
  c.storage = t.path + "/shared";
  REQUIRE(v->AddTenant(c).ok());
  { std::ofstream(c.storage + "/README.txt") << "not ours"; }
  REQUIRE(v->RemoveTenant("contoso", true).ok());
  REQUIRE(std::filesystem::exists(c.storage + "/README.txt"));
  REQUIRE_FALSE(std::filesystem::exists(c.storage + "/config"));
}

TEST_CASE("bad tenant names, ids, credentials and URLs are rejected", "[vault]") {
  TempDir t;
  auto v = MakeVault(t.path + "/v");
  for (std::string bad :
       std::vector<std::string>{"", ".hidden", "a/b", "../x", "with space", "ünï", std::string(65, 'a'), "a\nb"}) {
    INFO(bad);
    REQUIRE(v->AddTenant(Contoso(bad)).status().code() == Status::Code::kInvalidArgument);
  }
  REQUIRE(Vault::ValidateTenantName(std::string(64, 'a')).ok());
  REQUIRE(Vault::ValidateTenantName("A-z_0.9").ok());

  for (std::string bad :
       std::vector<std::string>{"", "72f988bf86f141af91ab2d7cd011db47", "72f988bf-86f1-41af-91ab-2d7cd011db4",
                                "72f988bf-86f1-41af-91ab-2d7cd011db47x", "g2f988bf-86f1-41af-91ab-2d7cd011db47",
                                "{72f988bf-86f1-41af-91ab-2d7cd011db47}"}) {
    INFO(bad);
    TenantConfig c = Contoso();
    c.tenant_id = bad;
    REQUIRE(v->AddTenant(c).status().code() == Status::Code::kInvalidArgument);
    c = Contoso();
    c.client_id = bad;
    REQUIRE(v->AddTenant(c).status().code() == Status::Code::kInvalidArgument);
  }
  TenantConfig c = Contoso();
  c.credential = "";
  REQUIRE(v->AddTenant(c).status().code() == Status::Code::kInvalidArgument);
  c = Contoso();
  c.credential_kind = CredentialKind::kCertificate;
  c.credential = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";  // no key
  REQUIRE(v->AddTenant(c).status().code() == Status::Code::kInvalidArgument);
  c = Contoso();
  c.graph_url = "http://graph.example";
  REQUIRE(v->AddTenant(c).status().code() == Status::Code::kInvalidArgument);
  c = Contoso();
  c.storage = "azure://account/container";
  REQUIRE(v->AddTenant(c).status().code() == Status::Code::kNotSupported);
  c = Contoso();
  c.ca_file = t.path + "/missing-ca.pem";
  REQUIRE(v->AddTenant(c).status().code() == Status::Code::kInvalidArgument);
  // Nothing was recorded by any of these.
  REQUIRE(v->ListTenants()->empty());
}

TEST_CASE("credentials are encrypted at rest and come back exactly", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  std::string pem =
      "-----BEGIN CERTIFICATE-----\nMIIBcertificatebytesUNIQUE42\n-----END CERTIFICATE-----\n"
      "-----BEGIN PRIVATE KEY-----\nMIIEprivatekeybytesUNIQUE43\n-----END PRIVATE KEY-----\n";
  {
    auto v = MakeVault(dir);
    REQUIRE(v->AddTenant(Contoso("contoso")).ok());
    TenantConfig c = Contoso("fabrikam");
    c.credential_kind = CredentialKind::kCertificate;
    c.credential = pem;
    REQUIRE(v->AddTenant(c).ok());
  }
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string bytes = Slurp(e.path().string());
    INFO(e.path().string());
    REQUIRE(bytes.find(kSecret) == std::string::npos);
    REQUIRE(bytes.find("UNIQUE42") == std::string::npos);
    REQUIRE(bytes.find("UNIQUE43") == std::string::npos);
  }
  auto v = Vault::Open(dir, "correct horse", Fast());
  REQUIRE(v.ok());
  auto a = (*v)->GetTenantCredential("contoso");
  REQUIRE(a.ok());
  REQUIRE(a->kind == CredentialKind::kClientSecret);
  REQUIRE(a->secret == kSecret);
  auto b = (*v)->GetTenantCredential("fabrikam");
  REQUIRE(b.ok());
  REQUIRE(b->kind == CredentialKind::kCertificate);
  REQUIRE(b->secret == pem);
  REQUIRE((*v)->GetTenantCredential("nope").status().IsNotFound());
  // The audit log names the tenant but never the secret.
  auto audit = (*v)->ListAudit();
  REQUIRE(audit.ok());
  bool saw_add = false;
  for (const auto& e : *audit) {
    REQUIRE(e.details.find(kSecret) == std::string::npos);
    saw_add |= e.action == "tenant.add";
  }
  REQUIRE(saw_add);
}

TEST_CASE("jobs and their events round-trip", "[vault]") {
  TempDir t;
  ManualClock clock;
  auto v = MakeVault(t.path + "/v", &clock);
  REQUIRE(v->AddTenant(Contoso()).ok());

  auto id = v->StartJob("contoso", "backup", "exchange");
  REQUIRE(id.ok());
  auto running = v->GetJob(*id);
  REQUIRE(running.ok());
  REQUIRE(running->status == JobStatus::kRunning);
  REQUIRE(running->ended_ns == 0);
  REQUIRE(running->object_type == "exchange");

  JobCounts progress;
  progress.objects_total = 3;
  progress.objects_done = 1;
  REQUIRE(v->UpdateJobCounts(*id, progress).ok());
  REQUIRE(v->GetJob(*id)->counts.objects_done == 1);

  clock.Advance(std::chrono::seconds(5));
  REQUIRE(v->AddJobEvent({*id, 0, "alice@contoso.com/Mail/Inbox/AAMk1", "ErrorItemNotFound", "item vanished",
                          "nothing to do; it was deleted during the run", "content"})
              .ok());
  REQUIRE(v->AddJobEvent({*id, 0, "bob@contoso.com", "MailboxNotEnabledForRESTAPI", "no mailbox", "", "top"}).ok());
  REQUIRE(v->AddJobEvent({999, 0, "x", "", "y", "", ""}).IsNotFound());

  clock.Advance(std::chrono::seconds(60));
  JobCounts done{3, 2, 1, 120, 4096};
  REQUIRE(v->FinishJob(*id, JobStatus::kPartial, done, "3f2a9c01deadbeef3f2a9c01deadbeef", "").ok());
  REQUIRE(v->FinishJob(*id, JobStatus::kSucceeded, done, "", "").code() == Status::Code::kInvalidArgument);
  REQUIRE(v->FinishJob(12345, JobStatus::kFailed, done, "", "x").IsNotFound());
  REQUIRE(v->UpdateJobCounts(*id, progress).IsNotFound());  // no longer running

  auto job = v->GetJob(*id);
  REQUIRE(job.ok());
  REQUIRE(job->status == JobStatus::kPartial);
  REQUIRE(job->ended_ns - job->started_ns == 65'000'000'000LL);
  REQUIRE(job->counts.items == 120);
  REQUIRE(job->counts.bytes == 4096);
  REQUIRE(job->counts.objects_failed == 1);
  REQUIRE(job->snapshot_id == "3f2a9c01deadbeef3f2a9c01deadbeef");

  auto events = v->ListJobEvents(*id);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  REQUIRE((*events)[0].object == "alice@contoso.com/Mail/Inbox/AAMk1");
  REQUIRE((*events)[0].code == "ErrorItemNotFound");
  REQUIRE((*events)[0].hint.find("deleted") != std::string::npos);
  REQUIRE((*events)[1].code == "MailboxNotEnabledForRESTAPI");

  auto second = v->StartJob("other", "discovery", "");
  REQUIRE(second.ok());
  auto all = v->ListJobs();
  REQUIRE(all->size() == 2);
  REQUIRE((*all)[0].id == *second);  // newest first
  REQUIRE(v->ListJobs({"contoso", 0})->size() == 1);
  REQUIRE(v->ListJobs({"", 1})->size() == 1);
  REQUIRE(v->GetJob(777).status().IsNotFound());
}

TEST_CASE("a running job whose process died reads as interrupted", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  auto v = MakeVault(dir);
  auto id = v->StartJob("contoso", "backup", "onedrive");
  REQUIRE(id.ok());
  REQUIRE(v->GetJob(*id)->status == JobStatus::kRunning);  // we are alive
  REQUIRE(v->GetJob(*id)->pid == ::getpid());
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir + "/vault.db").c_str(), &db) == SQLITE_OK);
    std::string sql = "UPDATE jobs SET pid = " + std::to_string(child);
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  REQUIRE(v->GetJob(*id)->status == JobStatus::kInterrupted);
  REQUIRE(std::string(JobStatusName(JobStatus::kInterrupted)) == "interrupted");
}

TEST_CASE("every change writes an audit row", "[vault]") {
  TempDir t;
  auto v = MakeVault(t.path + "/v");
  REQUIRE(v->AddTenant(Contoso()).ok());
  auto id = v->StartJob("contoso", "check", "");
  REQUIRE(id.ok());
  REQUIRE(v->FinishJob(*id, JobStatus::kSucceeded, {}, "", "").ok());
  REQUIRE(v->RemoveTenant("contoso", false).ok());
  auto audit = v->ListAudit();
  REQUIRE(audit.ok());
  std::vector<std::string> actions;
  for (auto it = audit->rbegin(); it != audit->rend(); ++it) actions.push_back(it->action);
  REQUIRE(actions ==
          std::vector<std::string>{"vault.create", "tenant.add", "job.start", "job.finish", "tenant.remove"});
  REQUIRE_FALSE(audit->front().actor.empty());
}

TEST_CASE("a tenant's repository opened from the vault keeps its snapshots", "[vault]") {
  TempDir t;
  std::string dir = t.path + "/v";
  {
    auto v = MakeVault(dir);
    REQUIRE(v->AddTenant(Contoso()).ok());
    auto repo = v->OpenRepository("contoso");
    REQUIRE(repo.ok());
    auto w = SnapshotWriter::Start(**repo, nullptr);
    REQUIRE(w.ok());
    std::string body = "hello";
    REQUIRE((*w)->PutFile("alice/hello.txt", AsBytes(body), {}).ok());
    SnapshotInfo fields;
    fields.tenant = "contoso";
    fields.object_type = "onedrive";
    REQUIRE((*w)->Commit(fields).ok());
  }
  auto v = Vault::Open(dir, "correct horse", Fast());
  REQUIRE(v.ok());
  auto repo = (*v)->OpenRepository("contoso");
  REQUIRE(repo.ok());
  auto snaps = (*repo)->ListSnapshots();
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == 1);
  REQUIRE(snaps->front().object_type == "onedrive");
}
