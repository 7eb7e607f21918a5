// backend/vault_db.h (private to the vault)
//
// VaultDb: the vault's SQLite connection (WAL, 0600, busy timeout) and the
// narrow wrappers the vault code uses on it: Stmt (a prepared statement,
// finalized when destroyed, with typed binds and column reads) and
// Transaction (BEGIN IMMEDIATE; rolled back on destruction unless Commit()
// ran). SQLite result codes become Status in one place, SqliteStatus.
//
// Schema (PRAGMA user_version = kVaultSchemaVersion): see vault_db.cpp.
//
// Thread safety: callers hold mu() for the whole of a statement or
// transaction; the connection is opened FULLMUTEX as a second line.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "backend/bytes.h"
#include "backend/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace m365vault {

inline constexpr int kVaultSchemaVersion = 2;

class VaultDb {
 public:
  // Opens (creating when `create`) the database at `path`, applies the schema
  // and migrations. NotSupported if a newer program created it.
  static Result<std::unique_ptr<VaultDb>> Open(const std::string& path, bool create);
  ~VaultDb();
  VaultDb(const VaultDb&) = delete;
  VaultDb& operator=(const VaultDb&) = delete;

  std::mutex& mu() { return mu_; }
  sqlite3* handle() { return db_; }
  Status Exec(const char* sql);
  Status Error(int rc, std::string_view what);
  int64_t LastInsertRowid();
  int Changes();

 private:
  VaultDb() = default;
  Status Migrate();

  std::mutex mu_;
  sqlite3* db_ = nullptr;
};

// What Stmt::Rows collects of a reader returning T or Result<T>: T.
template <typename T>
struct RowType {
  using type = T;
  static Result<T> Wrap(T v) { return v; }
};
template <typename T>
struct RowType<Result<T>> {
  using type = T;
  static Result<T> Wrap(Result<T> v) { return v; }
};

class Stmt {
 public:
  // Check ok() (or status()) before use.
  Stmt(VaultDb& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  // Binds are 1-based, like SQLite's.
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, int64_t v);
  Stmt& BindBlob(int i, ByteView v);

  // Runs a statement that returns no rows.
  Status Run();
  // Steps once: true with a row, false when done; errors in *status.
  Result<bool> Step();
  // Steps through every row and collects read(*this) of each. `read` returns
  // a T, or a Result<T> whose error ends the walk and is returned.
  template <typename Read>
  auto Rows(Read read) -> Result<std::vector<typename RowType<std::invoke_result_t<Read, Stmt&>>::type>>;

  std::string Text(int col);
  int64_t Int(int col);
  Bytes Blob(int col);

 private:
  VaultDb& db_;
  sqlite3_stmt* s_ = nullptr;
  Status status_;
};

template <typename Read>
auto Stmt::Rows(Read read) -> Result<std::vector<typename RowType<std::invoke_result_t<Read, Stmt&>>::type>> {
  using Row = RowType<std::invoke_result_t<Read, Stmt&>>;
  std::vector<typename Row::type> out;
  for (;;) {
    M365_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
    M365_ASSIGN_OR_RETURN(typename Row::type value, Row::Wrap(read(*this)));
    out.push_back(std::move(value));
  }
  return out;
}

// Appends an audit row (time, action, the OS user, details JSON).
// REQUIRES: db.mu() held.
Status InsertAudit(VaultDb& db, int64_t time_ns, std::string_view action, std::string_view details);

class Transaction {
 public:
  explicit Transaction(VaultDb& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const Status& status() const { return status_; }
  Status Commit();

 private:
  VaultDb& db_;
  Status status_;
  bool done_ = false;
};

}  // namespace m365vault
