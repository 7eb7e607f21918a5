// backend/vault_db.cpp
#include "backend/vault_db.h"

#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace m365vault {
namespace {

// Version 1. Times are ns since the epoch (UTC). Credentials are sealed
// (nonce || ciphertext || tag) under the vault's credential subkey.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE IF NOT EXISTS tenants(
  name TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  credential_kind TEXT NOT NULL,
  credential BLOB NOT NULL,
  storage TEXT NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  graph_url TEXT NOT NULL,
  login_url TEXT NOT NULL,
  ca_file TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  object_type TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  started INTEGER NOT NULL,
  ended INTEGER NOT NULL DEFAULT 0,
  objects_total INTEGER NOT NULL DEFAULT 0,
  objects_done INTEGER NOT NULL DEFAULT 0,
  objects_failed INTEGER NOT NULL DEFAULT 0,
  items INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  snapshot_id TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs(tenant, id);
CREATE TABLE IF NOT EXISTS job_events(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  time INTEGER NOT NULL,
  object TEXT NOT NULL DEFAULT '',
  code TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  hint TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events(job_id, id);
CREATE TABLE IF NOT EXISTS audit(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}'
);
)sql";

// Version 2: a tenant's licence / subscription expiry (0 = not set); a job's
// scope (which objects a backup run took: "" every protected object,
// "type-schedule" those on the type's own schedule, "container:NAME" one
// container) and the number of containers it visited; a job event's level
// ("top", "container", "content"; "" for events written by version 1); a
// tenant's further app registrations (app_credentials, sealed like the
// tenant's own credential, with tenant and name as associated data).
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE tenants ADD COLUMN license_expiry INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN containers_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_events ADD COLUMN level TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS app_credentials(
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  client_id TEXT NOT NULL,
  credential_kind TEXT NOT NULL,
  credential BLOB NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY(tenant, name)
);
)sql";

}  // namespace

Result<std::unique_ptr<VaultDb>> VaultDb::Open(const std::string& path, bool create) {
  if (create) {
    // Create the file private before SQLite opens it (no window at 0644).
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IOError("cannot create " + path);
    ::close(fd);
  }
  std::unique_ptr<VaultDb> db(new VaultDb());
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db->db_, flags, nullptr);
  if (rc != SQLITE_OK) return db->Error(rc, "open " + path);
  ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(db->db_, 10000);
  M365_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  M365_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  M365_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  M365_RETURN_IF_ERROR(db->Migrate());
  // The WAL and shared-memory files SQLite created inherit the umask.
  ::chmod((path + "-wal").c_str(), 0600);
  ::chmod((path + "-shm").c_str(), 0600);
  return db;
}

VaultDb::~VaultDb() { sqlite3_close(db_); }

Status VaultDb::Migrate() {
  std::lock_guard<std::mutex> l(mu_);
  int64_t version = 0;
  {
    Stmt s(*this, "PRAGMA user_version");
    M365_RETURN_IF_ERROR(s.status());
    M365_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) version = s.Int(0);
  }
  if (version > kVaultSchemaVersion) {
    return Status::NotSupported("vault.db has schema version " + std::to_string(version) +
                                ", newer than this program's " + std::to_string(kVaultSchemaVersion) +
                                "; upgrade m365vault");
  }
  if (version == kVaultSchemaVersion) return Status::OK();
  Transaction t(*this);
  M365_RETURN_IF_ERROR(t.status());
  if (version < 1) M365_RETURN_IF_ERROR(Exec(kSchemaV1));
  if (version < 2) M365_RETURN_IF_ERROR(Exec(kSchemaV2));
  // Future migrations: if (version < 3) ...
  M365_RETURN_IF_ERROR(Exec(("PRAGMA user_version=" + std::to_string(kVaultSchemaVersion)).c_str()));
  return t.Commit();
}

Status VaultDb::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? Status::OK() : Error(rc, "exec");
}

Status VaultDb::Error(int rc, std::string_view what) {
  std::string msg = "vault database: " + std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status::NoSpace(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_CONSTRAINT:
      return Status::AlreadyExists(msg);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Status::PermissionDenied(msg);
    case SQLITE_CANTOPEN:
      return Status::IOError(msg);
    default:
      return Status::IOError(msg);
  }
}

int64_t VaultDb::LastInsertRowid() { return sqlite3_last_insert_rowid(db_); }
int VaultDb::Changes() { return sqlite3_changes(db_); }

Stmt::Stmt(VaultDb& db, const char* sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &s_, nullptr);
  if (rc != SQLITE_OK) status_ = db.Error(rc, "prepare");
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::Bind(int i, std::string_view v) {
  if (s_) sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, int64_t v) {
  if (s_) sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::BindBlob(int i, ByteView v) {
  if (s_) sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Status Stmt::Run() {
  M365_RETURN_IF_ERROR(status_);
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::OK();
  return db_.Error(rc, "step");
}

Result<bool> Stmt::Step() {
  M365_RETURN_IF_ERROR(status_);
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_.Error(rc, "step");
}

std::string Stmt::Text(int col) {
  const unsigned char* t = sqlite3_column_text(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s_, col)) : std::string();
}

int64_t Stmt::Int(int col) { return sqlite3_column_int64(s_, col); }

Bytes Stmt::Blob(int col) {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, col));
  int n = sqlite3_column_bytes(s_, col);
  return p ? Bytes(p, p + n) : Bytes();
}

namespace {
std::string CurrentUser() {
  struct passwd pw;
  struct passwd* out = nullptr;
  char buf[1024];
  if (getpwuid_r(::getuid(), &pw, buf, sizeof(buf), &out) == 0 && out) return out->pw_name;
  return "uid " + std::to_string(::getuid());
}
}  // namespace

Status InsertAudit(VaultDb& db, int64_t time_ns, std::string_view action, std::string_view details) {
  static const std::string kActor = CurrentUser();
  Stmt s(db, "INSERT INTO audit(time, action, actor, details) VALUES (?, ?, ?, ?)");
  s.Bind(1, time_ns).Bind(2, action).Bind(3, kActor).Bind(4, details.empty() ? "{}" : details);
  return s.Run();
}

Transaction::Transaction(VaultDb& db) : db_(db) { status_ = db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (status_.ok() && !done_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  M365_RETURN_IF_ERROR(status_);
  done_ = true;
  return db_.Exec("COMMIT");
}

}  // namespace m365vault
