// backend/local_storage.h
//
// LocalStorage: a Storage in a local directory. Writes go to a temporary file
// in the target folder, are fsync'd, renamed over the final name, and the
// folder is fsync'd, so an object is either absent or whole after a crash.
// Files and folders are created private to the user (0600 / 0700).
//
// Thread safety: safe for concurrent use.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backend/storage.h"

namespace m365vault {

class LocalStorage final : public Storage {
 public:
  // Opens (creating when `create` is true) the directory `root`.
  static Result<std::unique_ptr<LocalStorage>> Open(const std::string& root, bool create);
  ~LocalStorage() override;

  Status Write(std::string_view name, ByteView data) override;
  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view name) override;
  Result<Bytes> Read(std::string_view name) override;
  Result<Bytes> ReadRange(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view name) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Remove(std::string_view name) override;
  Result<uint64_t> RemoveUnfinished() override;
  std::string Describe() const override { return root_; }

 private:
  explicit LocalStorage(std::string root) : root_(std::move(root)) {}
  // Rejects names that could escape the root ("..", absolute, empty parts).
  Result<std::string> PathOf(std::string_view name) const;
  // Packs ("data/...") are immutable, so ReadRange keeps up to 64 of them
  // open: the kernel's per-file readahead then survives across chunk reads.
  void ForgetFd(const std::string& name);

  std::string root_;
  std::mutex fd_mu_;
  std::list<std::string> fd_lru_;  // GUARDED_BY(fd_mu_), most recent first
  struct CachedFile {
    std::shared_ptr<int> fd;  // closes on last release
    std::list<std::string>::iterator pos;
  };
  std::unordered_map<std::string, CachedFile> fds_;  // GUARDED_BY(fd_mu_)
};

// Maps an errno from an operation on `path` to a Status (ENOENT -> NotFound,
// ENOSPC/EDQUOT -> NoSpace, EACCES/EPERM -> PermissionDenied, else IOError).
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

}  // namespace m365vault
