// backend/index_cache.cpp
#include "backend/index_cache.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstring>

namespace m365vault {
namespace {

Status SqliteStatus(sqlite3* db, int rc, const char* what) {
  std::string msg = std::string("index cache: ") + what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (rc == SQLITE_FULL) return Status::NoSpace(msg);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Status::Busy(msg);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return Status::Corruption(msg);
  return Status::IOError(msg);
}

// Resets a statement at scope exit so it can be reused.
class StmtReset {
 public:
  explicit StmtReset(sqlite3_stmt* s) : s_(s) {}
  ~StmtReset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_;
};

}  // namespace

Result<std::unique_ptr<IndexCache>> IndexCache::Open(const std::string& path) {
  std::unique_ptr<IndexCache> c(new IndexCache());
  std::string target = path.empty() ? ":memory:" : path;
  int rc = sqlite3_open_v2(target.c_str(), &c->db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(c->db_, rc, "open");
  if (!path.empty()) ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(c->db_, 10000);
  M365_RETURN_IF_ERROR(c->Exec(path.empty() ? "PRAGMA journal_mode=MEMORY" : "PRAGMA journal_mode=WAL"));
  M365_RETURN_IF_ERROR(c->Exec("PRAGMA synchronous=NORMAL"));
  M365_RETURN_IF_ERROR(c->Exec(
      "CREATE TABLE IF NOT EXISTS blobs(id BLOB PRIMARY KEY, pack BLOB NOT NULL, type INTEGER NOT NULL,"
      " offset INTEGER NOT NULL, length INTEGER NOT NULL, raw_length INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS index_files(name TEXT PRIMARY KEY);"));
  rc = sqlite3_prepare_v2(c->db_, "SELECT pack, type, offset, length, raw_length FROM blobs WHERE id = ?", -1,
                          &c->find_, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(c->db_, rc, "prepare");
  rc = sqlite3_prepare_v2(c->db_, "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?, ?, ?)", -1, &c->insert_,
                          nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(c->db_, rc, "prepare");
  return c;
}

IndexCache::~IndexCache() {
  sqlite3_finalize(find_);
  sqlite3_finalize(insert_);
  sqlite3_close(db_);
}

Status IndexCache::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? Status::OK() : SqliteStatus(db_, rc, sql);
}

Result<std::optional<format::BlobLocation>> IndexCache::Find(const BlobId& id) {
  std::lock_guard<std::mutex> l(mu_);
  StmtReset reset(find_);
  sqlite3_bind_blob(find_, 1, id.bytes.data(), 32, SQLITE_STATIC);
  int rc = sqlite3_step(find_);
  if (rc == SQLITE_DONE) return std::optional<format::BlobLocation>();
  if (rc != SQLITE_ROW) return SqliteStatus(db_, rc, "lookup");
  format::BlobLocation loc;
  if (sqlite3_column_bytes(find_, 0) != 32) return Status::Corruption("index cache: bad pack id");
  std::memcpy(loc.pack.bytes.data(), sqlite3_column_blob(find_, 0), 32);
  loc.type = static_cast<BlobType>(sqlite3_column_int(find_, 1));
  loc.offset = static_cast<uint32_t>(sqlite3_column_int64(find_, 2));
  loc.length = static_cast<uint32_t>(sqlite3_column_int64(find_, 3));
  loc.raw_length = static_cast<uint32_t>(sqlite3_column_int64(find_, 4));
  return std::optional<format::BlobLocation>(loc);
}

Status IndexCache::AddIndexFile(const std::string& name, const std::vector<format::PackEntry>& entries) {
  std::lock_guard<std::mutex> l(mu_);
  M365_RETURN_IF_ERROR(Exec("BEGIN"));
  for (const format::PackEntry& e : entries) {
    StmtReset reset(insert_);
    sqlite3_bind_blob(insert_, 1, e.id.bytes.data(), 32, SQLITE_STATIC);
    sqlite3_bind_blob(insert_, 2, e.loc.pack.bytes.data(), 32, SQLITE_STATIC);
    sqlite3_bind_int(insert_, 3, static_cast<int>(e.loc.type));
    sqlite3_bind_int64(insert_, 4, e.loc.offset);
    sqlite3_bind_int64(insert_, 5, e.loc.length);
    sqlite3_bind_int64(insert_, 6, e.loc.raw_length);
    int rc = sqlite3_step(insert_);
    if (rc != SQLITE_DONE) {
      Status st = SqliteStatus(db_, rc, "insert");
      (void)Exec("ROLLBACK");
      return st;
    }
  }
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO index_files VALUES (?)", -1, &s, nullptr);
  sqlite3_bind_text(s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    Status st = SqliteStatus(db_, rc, "record index file");
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<std::set<std::string>> IndexCache::IndexFiles() {
  std::lock_guard<std::mutex> l(mu_);
  std::set<std::string> out;
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, "SELECT name FROM index_files", -1, &s, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "list index files");
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "list index files");
  return out;
}

Status IndexCache::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  return Exec("DELETE FROM blobs; DELETE FROM index_files;");
}

Status IndexCache::ForEach(const std::function<Status(const format::PackEntry&)>& fn) {
  std::vector<format::PackEntry> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, "SELECT id, pack, type, offset, length, raw_length FROM blobs", -1, &s,
                                nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "scan");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      format::PackEntry e;
      std::memcpy(e.id.bytes.data(), sqlite3_column_blob(s, 0), 32);
      std::memcpy(e.loc.pack.bytes.data(), sqlite3_column_blob(s, 1), 32);
      e.loc.type = static_cast<BlobType>(sqlite3_column_int(s, 2));
      e.loc.offset = static_cast<uint32_t>(sqlite3_column_int64(s, 3));
      e.loc.length = static_cast<uint32_t>(sqlite3_column_int64(s, 4));
      e.loc.raw_length = static_cast<uint32_t>(sqlite3_column_int64(s, 5));
      all.push_back(e);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "scan");
  }
  for (const auto& e : all) M365_RETURN_IF_ERROR(fn(e));
  return Status::OK();
}

Result<uint64_t> IndexCache::Count() {
  std::lock_guard<std::mutex> l(mu_);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "SELECT count(*) FROM blobs", -1, &s, nullptr);
  uint64_t n = sqlite3_step(s) == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(s, 0)) : 0;
  sqlite3_finalize(s);
  return n;
}

}  // namespace m365vault
