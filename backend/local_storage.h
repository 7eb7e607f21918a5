// backend/local_storage.h
//
// LocalStorage: a Storage in a local directory. Writes go to a temporary file
// in the target folder, are fsync'd, renamed over the final name, and the
// folder is fsync'd, so an object is either absent or whole after a crash.
// Files and folders are created private to the user (0600 / 0700).
//
// Thread safety: safe for concurrent use.
#pragma once

#include <memory>
#include <string>

#include "backend/storage.h"

namespace m365vault {

class LocalStorage final : public Storage {
 public:
  // Opens (creating when `create` is true) the directory `root`.
  static Result<std::unique_ptr<LocalStorage>> Open(const std::string& root, bool create);

  Status Write(std::string_view name, ByteView data) override;
  Result<Bytes> Read(std::string_view name) override;
  Result<Bytes> ReadRange(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view name) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Remove(std::string_view name) override;
  std::string Describe() const override { return root_; }

 private:
  explicit LocalStorage(std::string root) : root_(std::move(root)) {}
  // Rejects names that could escape the root ("..", absolute, empty parts).
  Result<std::string> PathOf(std::string_view name) const;

  std::string root_;
};

// Maps an errno from an operation on `path` to a Status (ENOENT -> NotFound,
// ENOSPC/EDQUOT -> NoSpace, EACCES/EPERM -> PermissionDenied, else IOError).
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

}  // namespace m365vault
