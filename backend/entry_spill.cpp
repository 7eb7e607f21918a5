// backend/entry_spill.cpp
#include "backend/entry_spill.h"

#include <sqlite3.h>

#include <string>

namespace m365vault {
namespace {

// Resets a statement at scope exit so it can be reused.
class Reset {
 public:
  explicit Reset(sqlite3_stmt* s) : s_(s) {}
  ~Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_;
};

void BindName(sqlite3_stmt* s, int dir_col, int64_t dir, std::string_view name) {
  sqlite3_bind_int64(s, dir_col, dir);
  // A blob: compared with memcmp, the order of std::string.
  sqlite3_bind_blob(s, dir_col + 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
}

ByteView Column(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  const int n = sqlite3_column_bytes(s, col);
  return ByteView(static_cast<const uint8_t*>(p), static_cast<size_t>(n));
}

}  // namespace

Result<std::unique_ptr<EntrySpill>> EntrySpill::Open() {
  std::unique_ptr<EntrySpill> s(new EntrySpill());
  // "": a private temporary database, deleted when closed (docs above).
  int rc = sqlite3_open_v2("", &s->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return s->Error(rc, "opening the spill database");
  M365_RETURN_IF_ERROR(s->Exec(("PRAGMA cache_size=-" + std::to_string(kSpillCacheKiB)).c_str()));
  M365_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=OFF"));
  M365_RETURN_IF_ERROR(s->Exec("PRAGMA synchronous=OFF"));
  M365_RETURN_IF_ERROR(s->Exec("PRAGMA temp_store=FILE"));
  M365_RETURN_IF_ERROR(s->Exec(
      "CREATE TABLE entries(dir INTEGER NOT NULL, name BLOB NOT NULL, body BLOB NOT NULL,"
      " PRIMARY KEY(dir, name)) WITHOUT ROWID"));
  M365_RETURN_IF_ERROR(s->Prepare("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", &s->put_));
  M365_RETURN_IF_ERROR(s->Prepare("SELECT body FROM entries WHERE dir = ? AND name = ?", &s->get_));
  M365_RETURN_IF_ERROR(s->Prepare("DELETE FROM entries WHERE dir = ? AND name = ?", &s->erase_));
  M365_RETURN_IF_ERROR(s->Prepare("SELECT count(*) FROM entries WHERE dir = ?", &s->count_));
  M365_RETURN_IF_ERROR(s->Prepare("SELECT name, body FROM entries WHERE dir = ? ORDER BY name", &s->scan_));
  M365_RETURN_IF_ERROR(s->Prepare("DELETE FROM entries WHERE dir = ?", &s->drop_));
  return s;
}

EntrySpill::~EntrySpill() {
  for (sqlite3_stmt* s : {put_, get_, erase_, count_, scan_, drop_}) sqlite3_finalize(s);
  sqlite3_close(db_);
}

Status EntrySpill::Error(int rc, const char* what) {
  std::string msg = std::string(what) + " (directory spill): " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  if (rc == SQLITE_FULL) return Status::NoSpace(msg + "; the temporary directory (TMPDIR) is full");
  // Its file is created when pages first leave the cache: in TMPDIR, else /var/tmp or /tmp.
  return Status::IOError(msg + "; check that TMPDIR (else /var/tmp, /tmp) is writable");
}

Status EntrySpill::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::OK() : Error(rc, sql);
}

Status EntrySpill::Prepare(const char* sql, sqlite3_stmt** stmt) {
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
  return rc == SQLITE_OK ? Status::OK() : Error(rc, "preparing a statement");
}

Status EntrySpill::Put(int64_t dir, std::string_view name, ByteView body) {
  Reset reset(put_);
  BindName(put_, 1, dir, name);
  sqlite3_bind_blob(put_, 3, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
  int rc = sqlite3_step(put_);
  return rc == SQLITE_DONE ? Status::OK() : Error(rc, "storing an entry");
}

Result<std::optional<Bytes>> EntrySpill::Get(int64_t dir, std::string_view name) {
  Reset reset(get_);
  BindName(get_, 1, dir, name);
  int rc = sqlite3_step(get_);
  if (rc == SQLITE_DONE) return std::optional<Bytes>();
  if (rc != SQLITE_ROW) return Error(rc, "reading an entry");
  ByteView body = Column(get_, 0);
  return std::optional<Bytes>(Bytes(body.begin(), body.end()));
}

Result<bool> EntrySpill::Erase(int64_t dir, std::string_view name) {
  Reset reset(erase_);
  BindName(erase_, 1, dir, name);
  int rc = sqlite3_step(erase_);
  if (rc != SQLITE_DONE) return Error(rc, "removing an entry");
  return sqlite3_changes(db_) > 0;
}

Result<uint64_t> EntrySpill::Count(int64_t dir) {
  Reset reset(count_);
  sqlite3_bind_int64(count_, 1, dir);
  int rc = sqlite3_step(count_);
  if (rc != SQLITE_ROW) return Error(rc, "counting entries");
  return static_cast<uint64_t>(sqlite3_column_int64(count_, 0));
}

Status EntrySpill::ForEach(int64_t dir, const std::function<Status(std::string_view name, ByteView body)>& fn) {
  Reset reset(scan_);
  sqlite3_bind_int64(scan_, 1, dir);
  for (;;) {
    int rc = sqlite3_step(scan_);
    if (rc == SQLITE_DONE) return Status::OK();
    if (rc != SQLITE_ROW) return Error(rc, "listing entries");
    M365_RETURN_IF_ERROR(fn(AsString(Column(scan_, 0)), Column(scan_, 1)));
  }
}

Status EntrySpill::Drop(int64_t dir) {
  Reset reset(drop_);
  sqlite3_bind_int64(drop_, 1, dir);
  int rc = sqlite3_step(drop_);
  return rc == SQLITE_DONE ? Status::OK() : Error(rc, "dropping a directory");
}

}  // namespace m365vault
