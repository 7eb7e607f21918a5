// backend/vault.h
//
// Vault: the control plane of one installation. A private directory (0700)
// holding
//   master.key  the random master key, wrapped with a passphrase (Argon2id,
//               format::WrapKeyWithPassphrase); written last by Create, so it
//               is the commit point of a new vault;
//   vault.db    SQLite (WAL, 0600): tenants, jobs, job events, the audit log;
//   repos/NAME  a tenant's repository, unless `--storage` chose elsewhere;
//   cache/NAME  a tenant's local index cache.
//
// A tenant's credential (client secret or certificate PEM with its private
// key) is sealed with a subkey of the master key, with the tenant's name as
// associated data: it is never stored in clear, and a sealed credential moved
// to another tenant's row does not open. Messages and the audit log never
// contain it.
//
// Every operation that changes the vault writes an audit row in the same
// transaction.
//
// Thread safety: a Vault is safe to use from several threads (one SQLite
// connection behind a mutex). Several processes may open the same vault;
// SQLite serialises their writes (busy timeout 10 s).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/clock.h"
#include "backend/crypto.h"
#include "backend/repository.h"
#include "backend/status.h"

namespace m365vault {

class VaultDb;  // backend/vault_db.h (private)

enum class CredentialKind { kClientSecret, kCertificate };
const char* CredentialKindName(CredentialKind kind);  // "client_secret", "certificate"

// What `tenant add` supplies.
struct TenantConfig {
  std::string name;       // safe name: [A-Za-z0-9._-]{1,64}, not starting with '.'
  std::string tenant_id;  // Entra ID directory id (GUID)
  std::string client_id;  // application id (GUID)
  CredentialKind credential_kind = CredentialKind::kClientSecret;
  // The client secret, or a PEM holding the certificate and its private key.
  // Sealed before it is stored.
  std::string credential;
  std::string storage;    // local folder; empty = <vault>/repos/<name>
  std::string region;     // free text (e.g. "eu"), "" = unspecified
  std::string graph_url;  // empty = kDefaultGraphUrl
  std::string login_url;  // empty = kDefaultLoginUrl
  std::string ca_file;    // extra trusted CA bundle (PEM), "" = system CAs only
};

// A further app registration of a tenant (`tenant credential add`): another
// client id with its secret or certificate, for scan profiles to choose.
struct AppCredentialConfig {
  std::string tenant;
  std::string name;       // like a tenant name: [A-Za-z0-9._-]{1,64}
  std::string client_id;  // application id (GUID)
  CredentialKind kind = CredentialKind::kClientSecret;
  std::string credential;  // sealed before it is stored
};

struct AppCredentialRecord {
  std::string tenant;
  std::string name;
  std::string client_id;
  CredentialKind kind = CredentialKind::kClientSecret;
  int64_t created_ns = 0;
};

// A tenant as the vault knows it (no credential).
struct TenantRecord {
  std::string name;
  std::string tenant_id;
  std::string client_id;
  CredentialKind credential_kind = CredentialKind::kClientSecret;
  std::string storage;  // absolute path of the repository
  std::string region;
  std::string graph_url;
  std::string login_url;
  std::string ca_file;
  int64_t created_ns = 0;
  int64_t license_expiry_ns = 0;  // the tenant's licence / subscription expiry; 0 = not set
};

// The decrypted credential, for the Graph client only. The caller should not
// keep it longer than it needs it, and must never print or log it.
struct TenantCredential {
  CredentialKind kind = CredentialKind::kClientSecret;
  std::string secret;  // client secret, or the certificate PEM

  TenantCredential() = default;
  TenantCredential(TenantCredential&&) = default;
  TenantCredential& operator=(TenantCredential&&) = default;
  TenantCredential(const TenantCredential&) = delete;
  TenantCredential& operator=(const TenantCredential&) = delete;
  ~TenantCredential();  // zeroes `secret`
};

// What a Graph client signs in with (Vault::GetSignIn).
struct AppSignIn {
  std::string client_id;
  TenantCredential credential;
};

// kInterrupted is never stored: it is how a job reads whose status is still
// running but whose process (on this host) is gone, e.g. a killed run.
enum class JobStatus { kRunning, kSucceeded, kPartial, kFailed, kInterrupted };
// "running", "succeeded", "partial", "failed", "interrupted"
const char* JobStatusName(JobStatus status);

struct JobCounts {
  uint64_t objects_total = 0;  // mailboxes, drives, ... the run covers
  uint64_t objects_done = 0;
  uint64_t objects_failed = 0;
  uint64_t items = 0;  // messages, files, ... written
  uint64_t bytes = 0;
  uint64_t containers_total = 0;  // folders, calendars, drives ... the run visited (0: not recorded)
};

struct JobRecord {
  int64_t id = 0;
  std::string tenant;
  std::string kind;         // "discovery", "backup", "restore", "check", "prune", ...
  std::string object_type;  // "exchange", "onedrive", ... or ""
  std::string scope;        // backups: which objects ("" every protected one; see StartJob)
  JobStatus status = JobStatus::kRunning;
  int64_t started_ns = 0;
  int64_t ended_ns = 0;  // 0 while running
  JobCounts counts;
  std::string snapshot_id;  // the snapshot the run committed, or ""
  std::string error;        // why it failed, or ""
  std::string host;         // where it ran
  int64_t pid = 0;          // the process that ran it
};

// One problem a job met (an item or mailbox that failed, a skipped object).
struct JobEvent {
  int64_t job_id = 0;
  int64_t time_ns = 0;
  std::string object;  // "alice@contoso.com/Mail/Inbox/<id>"
  std::string code;    // Graph error code, e.g. "ErrorItemNotFound", or ""
  std::string reason;
  std::string hint;  // what the admin can do
  std::string level;  // "top" (a mailbox, a OneDrive), "container" (a folder, a drive), "content"
                      // (an item), or "" (unknown: written by an older version)
};

struct AuditEntry {
  int64_t time_ns = 0;
  std::string action;   // "vault.create", "tenant.add", "job.start", ...
  std::string actor;    // the OS user
  std::string details;  // JSON object; never secrets
};

struct JobFilter {
  std::string tenant;  // "" = all
  int limit = 0;       // 0 = no limit; newest first
};

struct VaultOptions {
  // nullptr: Clock::Real(). Must outlive the vault.
  Clock* clock = nullptr;
  // Argon2id limits for Create. Unset: Interactive(), or ForTests() when the
  // environment has M365VAULT_TEST_FAST_KDF=1.
  std::optional<crypto::PwhashParams> pwhash;
};

inline constexpr char kDefaultGraphUrl[] = "https://graph.microsoft.com";
inline constexpr char kDefaultLoginUrl[] = "https://login.microsoftonline.com";

class Vault {
 public:
  // $M365VAULT_DIR, else $HOME/.local/share/m365vault.
  static std::string DefaultDir();

  // Creates a new vault in `dir` (created 0700 with its parents; it may exist
  // and be empty). AlreadyExists if `dir` already holds a vault;
  // InvalidArgument on an empty passphrase.
  static Result<std::unique_ptr<Vault>> Create(const std::string& dir, std::string_view passphrase,
                                               VaultOptions options = {});
  // Opens the vault in `dir`. NotFound (the message says to run
  // `m365vault init`) if there is none; WrongKey ("wrong passphrase") if the
  // passphrase does not open its key, in which case nothing is touched.
  static Result<std::unique_ptr<Vault>> Open(const std::string& dir, std::string_view passphrase,
                                             VaultOptions options = {});
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  const std::string& dir() const { return dir_; }

  // --- tenants ---
  // Validates `config`, creates (or re-attaches, if it already holds a
  // repository this master key opens) the tenant's repository, and records the
  // tenant. InvalidArgument on a bad name, id or credential; AlreadyExists if
  // the name is taken or the storage holds another tenant's repository.
  Result<TenantRecord> AddTenant(const TenantConfig& config);
  // Sorted by name.
  Result<std::vector<TenantRecord>> ListTenants();
  // NotFound if there is no such tenant.
  Result<TenantRecord> GetTenant(const std::string& name);
  // Forgets the tenant. With `purge`, also deletes its repository and cache
  // (only the files a repository consists of). NotFound if unknown.
  Status RemoveTenant(const std::string& name, bool purge);
  // Sets (ns since the epoch) or clears (0) the tenant's licence /
  // subscription expiry, shown and warned about by `status`.
  Status SetLicenseExpiry(const std::string& name, int64_t expiry_ns);
  // Opens the tenant's repository with the master key; `options.cache_dir`
  // defaults to <vault>/cache/<name>.
  Result<std::unique_ptr<Repository>> OpenRepository(const std::string& name, RepositoryOptions options = {});
  // The decrypted credential. Corruption if the sealed value was altered.
  Result<TenantCredential> GetTenantCredential(const std::string& name);

  // --- jobs ---
  // Records a running job; returns its id. `scope` says which objects a
  // backup takes: "" every protected object, "type-schedule" those on the
  // type's own schedule, "container:NAME" one container's.
  Result<int64_t> StartJob(const std::string& tenant, const std::string& kind, const std::string& object_type,
                           const std::string& scope = "");
  Status UpdateJobCounts(int64_t id, const JobCounts& counts);
  Status AddJobEvent(const JobEvent& event);
  // Ends a job. REQUIRES: status != kRunning. NotFound if unknown;
  // InvalidArgument if it has already ended.
  Status FinishJob(int64_t id, JobStatus status, const JobCounts& counts, const std::string& snapshot_id,
                   const std::string& error);
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter = {});
  Result<JobRecord> GetJob(int64_t id);
  // Oldest first.
  Result<std::vector<JobEvent>> ListJobEvents(int64_t job_id);

  // --- audit ---
  // Records an action that changed something outside the vault database
  // (e.g. a prune of a repository). `details` is a JSON object.
  Status Audit(const std::string& action, const std::string& details);
  // Newest first; limit 0 = all.
  Result<std::vector<AuditEntry>> ListAudit(int limit = 0);

  // --- further app registrations of a tenant (scan profiles choose one) ---
  // Validates and stores (sealed) another credential of the tenant under
  // `config.name`. AlreadyExists if the name is taken; NotFound for an
  // unknown tenant; InvalidArgument on a bad name, client id or credential.
  Status AddAppCredential(const AppCredentialConfig& config);
  // Sorted by name; never the secrets.
  Result<std::vector<AppCredentialRecord>> ListAppCredentials(const std::string& tenant);
  // NotFound if there is none of that name.
  Status RemoveAppCredential(const std::string& tenant, const std::string& name);
  // The client id and the decrypted credential to sign in with: the
  // tenant's own for `name` "", else the named app registration's.
  Result<AppSignIn> GetSignIn(const std::string& tenant, const std::string& name);

  // Validators, exposed for the CLI's early checks.
  static Status ValidateCredential(CredentialKind kind, std::string_view credential);
  static Status ValidateTenantName(std::string_view name);
  static Status ValidateGuid(std::string_view what, std::string_view id);

 private:
  Vault(std::string dir, crypto::SecretKey master, std::unique_ptr<VaultDb> db, Clock& clock);
  int64_t NowNs();
  std::string RepoCacheDir(const std::string& name) const;

  std::string dir_;
  crypto::SecretKey master_;
  crypto::SecretKey credential_key_;  // subkey of master_ for sealing credentials
  std::unique_ptr<VaultDb> db_;
  Clock& clock_;
};

}  // namespace m365vault
