// backend/local_storage.cpp
#include "backend/local_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>
#include <filesystem>

#include "backend/crypto.h"

namespace m365vault {
namespace {

constexpr char kTempMarker[] = ".tmp-";

// Closes a file descriptor at scope exit.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

Status FsyncDir(const std::string& dir) {
  ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open directory", dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync directory", dir);
  return Status::OK();
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "create directory", dir);
  ::chmod(dir.c_str(), 0700);
  return Status::OK();
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

}  // namespace

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = std::string(what) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return Status::NotFound(msg);
    case ENOSPC:
    case EDQUOT: return Status::NoSpace(msg);
    case EACCES:
    case EPERM: return Status::PermissionDenied(msg);
    case EEXIST: return Status::AlreadyExists(msg);
    default: return Status::IOError(msg);
  }
}

Result<std::unique_ptr<LocalStorage>> LocalStorage::Open(const std::string& root, bool create) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) return ErrnoStatus(errno, "open storage", root);
    M365_RETURN_IF_ERROR(MakeDirs(root));
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("storage location " + root + " is not a directory");
  }
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return std::unique_ptr<LocalStorage>(new LocalStorage(r));
}

Result<std::string> LocalStorage::PathOf(std::string_view name) const {
  if (name.empty() || name.front() == '/') return Status::InvalidArgument("bad object name");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("bad object name: " + std::string(name));
    }
    start = end + 1;
  }
  return root_ + "/" + std::string(name);
}

namespace {

// Streams an object into a temporary file beside its final name; Commit
// fsyncs it, renames it over the name and fsyncs the folder. A large object (a
// pack) goes out with O_DIRECT in 1 MiB blocks staged through an aligned
// buffer: the data is fsynced right away anyway, so the page cache would only
// cost a kernel copy and page allocations (a third of a OneDrive backup's CPU
// once). A file system that refuses O_DIRECT (tmpfs at open, others at the
// first write) gets buffered writes instead, as small objects do.
class LocalObjectWriter final : public ObjectWriter {
 public:
  static Result<std::unique_ptr<ObjectWriter>> Open(std::string path, bool direct) {
    const std::string dir = path.substr(0, path.rfind('/'));
    M365_RETURN_IF_ERROR(MakeDirs(dir));
    uint8_t rnd[8];
    crypto::RandomBytes(rnd, sizeof rnd);
    std::string tmp = dir + "/" + kTempMarker + ToHex(ByteView(rnd, sizeof rnd));
    constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    int fd = direct ? ::open(tmp.c_str(), kFlags | O_DIRECT, 0600) : -1;
    if (fd < 0 && (!direct || errno == EINVAL)) {
      if (direct) ::unlink(tmp.c_str());  // in case the refused open created it
      direct = false;
      fd = ::open(tmp.c_str(), kFlags, 0600);
    }
    if (fd < 0) return ErrnoStatus(errno, "create", tmp);
    std::unique_ptr<LocalObjectWriter> w(new LocalObjectWriter(std::move(path), std::move(tmp), fd));
    if (direct) {
      w->buffer_ = TakeBuffer();
      if (w->buffer_ == nullptr) return Status::NoSpace("out of memory for " + w->tmp_);
      w->direct_ = true;
    }
    return std::unique_ptr<ObjectWriter>(std::move(w));
  }

  ~LocalObjectWriter() override {
    GiveBuffer(buffer_);
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }

  Status Append(ByteView data) override {
    if (!status_.ok()) return status_;
    if (fd_ < 0) return Status::InvalidArgument("append after commit: " + path_);
    while (direct_ && !data.empty()) {
      const size_t n = std::min(kBlock - fill_, data.size());
      std::memcpy(buffer_ + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
      if (fill_ == kBlock) status_ = WriteStaged(kBlock);
      if (!status_.ok()) return status_;
    }
    if (!data.empty()) status_ = WriteAll(fd_, data, tmp_);
    return status_;
  }

  Status Commit() override {
    if (!status_.ok()) return status_;
    if (fd_ < 0) return Status::InvalidArgument("second commit: " + path_);
    Status st;
    const size_t aligned = fill_ / kAlign * kAlign;
    if (aligned > 0) st = WriteStaged(aligned);
    if (st.ok() && fill_ > 0) {  // the unaligned tail: O_DIRECT takes whole blocks only
      st = Buffered();
      if (st.ok()) st = WriteStaged(fill_);
    }
    if (st.ok() && ::fsync(fd_) != 0) st = ErrnoStatus(errno, "fsync", tmp_);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && st.ok()) st = ErrnoStatus(errno, "close", tmp_);
    if (st.ok() && ::rename(tmp_.c_str(), path_.c_str()) != 0) st = ErrnoStatus(errno, "rename", path_);
    if (st.ok()) st = FsyncDir(path_.substr(0, path_.rfind('/')));
    if (!st.ok()) {
      ::unlink(tmp_.c_str());
      status_ = st;
    }
    return st;
  }

 private:
  static constexpr size_t kAlign = 4096;
  static constexpr size_t kBlock = 1 << 20;

  // Staging buffers, two kept for reuse (a data and a tree pack are written
  // at once): a fresh 1 MiB mapping for every pack costs 256 page faults.
  static std::mutex& PoolMutex() {
    static std::mutex mu;
    return mu;
  }
  static std::vector<uint8_t*>& Pool() {
    static std::vector<uint8_t*> pool;
    return pool;
  }
  static uint8_t* TakeBuffer() {
    {
      std::lock_guard<std::mutex> l(PoolMutex());
      if (!Pool().empty()) {
        uint8_t* b = Pool().back();
        Pool().pop_back();
        return b;
      }
    }
    void* b = nullptr;
    return ::posix_memalign(&b, kAlign, kBlock) == 0 ? static_cast<uint8_t*>(b) : nullptr;
  }
  static void GiveBuffer(uint8_t* b) {
    if (b == nullptr) return;
    {
      std::lock_guard<std::mutex> l(PoolMutex());
      if (Pool().size() < 2) {
        Pool().push_back(b);
        return;
      }
    }
    std::free(b);
  }

  LocalObjectWriter(std::string path, std::string tmp, int fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}

  // Writes the first n staged bytes (a multiple of kAlign under O_DIRECT) and
  // keeps the rest at the start of the buffer.
  Status WriteStaged(size_t n) {
    if (direct_) {
      ssize_t w;
      do {
        w = ::write(fd_, buffer_, n);
      } while (w < 0 && errno == EINTR);
      if (w < 0 && errno != EINVAL) return ErrnoStatus(errno, "write", tmp_);
      if (w < 0) w = 0;  // the file system wants a larger alignment
      // The rest (all of it, or what a short write left: the disk may be
      // full) goes buffered, so its error is the real one, not EINVAL.
      if (static_cast<size_t>(w) < n) M365_RETURN_IF_ERROR(Buffered());
      M365_RETURN_IF_ERROR(WriteAll(fd_, ByteView(buffer_ + w, n - static_cast<size_t>(w)), tmp_));
    } else {
      M365_RETURN_IF_ERROR(WriteAll(fd_, ByteView(buffer_, n), tmp_));
    }
    fill_ -= n;
    std::memmove(buffer_, buffer_ + n, fill_);
    return Status::OK();
  }

  Status Buffered() {
    if (!direct_) return Status::OK();
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) return ErrnoStatus(errno, "fcntl", tmp_);
    direct_ = false;
    return Status::OK();
  }

  std::string path_, tmp_;
  int fd_;                     // -1 once committed
  bool direct_ = false;        // O_DIRECT, staging through buffer_
  uint8_t* buffer_ = nullptr;  // kBlock bytes, kAlign-aligned, when direct_ began
  size_t fill_ = 0;            // staged bytes
  Status status_;              // the first failure; later calls repeat it
};

// Objects at least this large are written with O_DIRECT.
constexpr size_t kDirectMin = 1 << 20;

}  // namespace

Result<std::unique_ptr<ObjectWriter>> LocalStorage::Create(std::string_view name) {
  M365_ASSIGN_OR_RETURN(std::string path, PathOf(name));
  return LocalObjectWriter::Open(std::move(path), /*direct=*/true);
}

Status LocalStorage::Write(std::string_view name, ByteView data) {
  M365_ASSIGN_OR_RETURN(std::string path, PathOf(name));
  M365_ASSIGN_OR_RETURN(auto writer, LocalObjectWriter::Open(std::move(path), data.size() >= kDirectMin));
  M365_RETURN_IF_ERROR(writer->Append(data));
  return writer->Commit();
}

Result<Bytes> LocalStorage::Read(std::string_view name) {
  M365_ASSIGN_OR_RETURN(uint64_t size, Size(name));
  return ReadRange(name, 0, size);
}

namespace {
constexpr size_t kMaxCachedFds = 64;
}

LocalStorage::~LocalStorage() = default;

void LocalStorage::ForgetFd(const std::string& name) {
  std::lock_guard<std::mutex> l(fd_mu_);
  auto it = fds_.find(name);
  if (it == fds_.end()) return;
  fd_lru_.erase(it->second.pos);
  fds_.erase(it);
}

Result<Bytes> LocalStorage::ReadRange(std::string_view name, uint64_t offset, uint64_t length) {
  M365_ASSIGN_OR_RETURN(std::string path, PathOf(name));
  std::string key(name);
  bool cacheable = key.rfind("data/", 0) == 0;  // packs are immutable
  std::shared_ptr<int> fd;
  if (cacheable) {
    std::lock_guard<std::mutex> l(fd_mu_);
    auto it = fds_.find(key);
    if (it != fds_.end()) {
      fd_lru_.splice(fd_lru_.begin(), fd_lru_, it->second.pos);
      fd = it->second.fd;
    }
  }
  if (!fd) {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return ErrnoStatus(errno, "open", path);
    fd = std::shared_ptr<int>(new int(raw), [](int* p) {
      ::close(*p);
      delete p;
    });
    if (cacheable) {
      std::lock_guard<std::mutex> l(fd_mu_);
      if (!fds_.count(key)) {
        fd_lru_.push_front(key);
        fds_[key] = CachedFile{fd, fd_lru_.begin()};
        if (fds_.size() > kMaxCachedFds) {
          fds_.erase(fd_lru_.back());
          fd_lru_.pop_back();
        }
      }
    }
  }
  Bytes out(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(*fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) return Status::Corruption(path + " is shorter than expected (truncated?)");
    done += static_cast<size_t>(n);
  }
  return out;
}

Result<uint64_t> LocalStorage::Size(std::string_view name) {
  M365_ASSIGN_OR_RETURN(std::string path, PathOf(name));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  return static_cast<uint64_t>(st.st_size);
}

Result<std::vector<ObjectInfo>> LocalStorage::List(std::string_view prefix) {
  std::vector<ObjectInfo> out;
  // List the folder that holds the prefix, recursively.
  std::string pre(prefix);
  std::string base = pre.substr(0, pre.rfind('/') == std::string::npos ? 0 : pre.rfind('/'));
  std::string dir = base.empty() ? root_ : root_ + "/" + base;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  if (ec) {
    if (ec.value() == ENOENT) return out;
    return ErrnoStatus(ec.value(), "list", dir);
  }
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoStatus(ec.value(), "list", dir);
    if (!it->is_regular_file(ec)) continue;
    std::string full = it->path().string();
    std::string rel = full.substr(root_.size() + 1);
    std::string leaf = it->path().filename().string();
    if (leaf.rfind(kTempMarker, 0) == 0) continue;
    if (rel.rfind(pre, 0) != 0) continue;
    out.push_back({rel, static_cast<uint64_t>(it->file_size(ec))});
  }
  return out;
}

Result<uint64_t> LocalStorage::RemoveUnfinished() {
  uint64_t freed = 0;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(root_, ec), end;
  if (ec) return ErrnoStatus(ec.value(), "list", root_);
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoStatus(ec.value(), "list", root_);
    if (!it->is_regular_file(ec) || it->path().filename().string().rfind(kTempMarker, 0) != 0) continue;
    const uint64_t size = it->file_size(ec);
    if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", it->path().string());
    freed += ec ? 0 : size;
  }
  return freed;
}

Status LocalStorage::Remove(std::string_view name) {
  M365_ASSIGN_OR_RETURN(std::string path, PathOf(name));
  ForgetFd(std::string(name));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", path);
  return FsyncDir(path.substr(0, path.rfind('/')));
}

}  // namespace m365vault
