// backend/index_cache.h
//
// IndexCache: the local, queryable copy of a repository's index files: blob
// id -> (pack, type, offset, length). A SQLite database (WAL) in the cache
// folder, so a lookup touches a few pages and nothing loads the whole index
// into memory; or an in-memory database when no folder is given. It records
// which index files it holds, so opening a repository only reads index files
// added since, and rebuilds when one it holds has been removed (prune).
//
// The cache holds ids and sizes, not content; it is created 0600.
//
// Thread safety: safe for concurrent use (one connection behind a mutex).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backend/repo_format.h"
#include "backend/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace m365vault {

class IndexCache {
 public:
  // `path` empty: in memory.
  static Result<std::unique_ptr<IndexCache>> Open(const std::string& path);
  ~IndexCache();
  IndexCache(const IndexCache&) = delete;
  IndexCache& operator=(const IndexCache&) = delete;

  Result<std::optional<format::BlobLocation>> Find(const BlobId& id);
  // Adds the entries of one index file, in one transaction.
  Status AddIndexFile(const std::string& name, const std::vector<format::PackEntry>& entries);
  Result<std::set<std::string>> IndexFiles();
  // Forgets everything (before a rebuild).
  Status Clear();
  // Calls `fn` for every entry (check, prune). Stops at the first error.
  Status ForEach(const std::function<Status(const format::PackEntry&)>& fn);
  Result<uint64_t> Count();

 private:
  IndexCache() = default;
  Status Exec(const char* sql);

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace m365vault
