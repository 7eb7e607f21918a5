// backend/repository_lock.cpp
//
// The lock protocol. A lock is a sealed file `locks/<random>` naming host,
// pid, mode, purpose and a refresh time. To take a lock: drop stale locks,
// check for conflicts, write ours, list again and check once more (two
// writers racing both see each other and the later one backs off). Shared
// locks (backups of different object types) coexist; an exclusive lock
// (prune) excludes all. The holder rewrites its lock every 5 minutes; a lock
// not refreshed for 30 minutes, or whose pid is gone on this host, is stale.
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/repository_impl.h"

namespace m365vault {

using nlohmann::json;

namespace {

constexpr int64_t kStaleSeconds = 30 * 60;
constexpr auto kRefreshEvery = std::chrono::minutes(5);

std::string HostName() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct LockInfo {
  std::string name;
  std::string host;
  int64_t pid = 0;
  bool exclusive = false;
  std::string purpose;
  int64_t time = 0;
};

Bytes EncodeLock(const format::TenantKeys& keys, bool exclusive, const std::string& purpose) {
  json j = {{"host", HostName()}, {"pid", ::getpid()}, {"exclusive", exclusive}, {"purpose", purpose},
            {"time", NowSeconds()}};
  std::string text = j.dump();
  return format::SealFile(keys, format::FileKind::kLock, AsBytes(text));
}

bool IsStale(const LockInfo& l) {
  if (NowSeconds() - l.time > kStaleSeconds) return true;
  if (l.host == HostName() && l.pid > 0 && ::kill(static_cast<pid_t>(l.pid), 0) != 0 && errno == ESRCH) return true;
  return false;
}

Result<std::vector<LockInfo>> LiveLocks(Storage& storage, const format::TenantKeys& keys) {
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> files, storage.List("locks/"));
  std::vector<LockInfo> live;
  for (const ObjectInfo& f : files) {
    auto data = storage.Read(f.name);
    if (!data.ok()) continue;  // removed meanwhile
    auto plain = format::OpenFile(keys, format::FileKind::kLock, *data, f.name);
    LockInfo info;
    info.name = f.name;
    json j = plain.ok() ? json::parse(AsString(*plain), nullptr, false) : json();
    if (!j.is_object()) {
      (void)storage.Remove(f.name);  // unreadable lock: cannot belong to a live writer of this format
      continue;
    }
    info.host = j.value("host", "");
    info.pid = j.value("pid", int64_t{0});
    info.exclusive = j.value("exclusive", false);
    info.purpose = j.value("purpose", "");
    info.time = j.value("time", int64_t{0});
    if (IsStale(info)) {
      (void)storage.Remove(f.name);
      continue;
    }
    live.push_back(info);
  }
  return live;
}

Status Conflict(const std::vector<LockInfo>& live, bool exclusive, const std::string& own) {
  for (const LockInfo& l : live) {
    if (l.name == own) continue;
    if (exclusive || l.exclusive) {
      return Status::Busy("the repository is locked by " + l.purpose + " (pid " + std::to_string(l.pid) + " on " +
                          l.host + (l.exclusive ? ", exclusive" : "") + ")");
    }
  }
  return Status::OK();
}

class HeldLock final : public RepositoryLock {
 public:
  HeldLock(Storage& storage, const format::TenantKeys& keys, std::string name, bool exclusive, std::string purpose)
      : storage_(storage), keys_(keys), name_(std::move(name)), exclusive_(exclusive), purpose_(std::move(purpose)) {
    refresher_ = std::thread([this] { Refresh(); });
  }
  ~HeldLock() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    refresher_.join();
    (void)storage_.Remove(name_);
  }

 private:
  void Refresh() {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, kRefreshEvery, [this] { return stop_; })) {
      (void)storage_.Write(name_, EncodeLock(keys_, exclusive_, purpose_));
    }
  }

  Storage& storage_;
  const format::TenantKeys& keys_;
  std::string name_;
  bool exclusive_;
  std::string purpose_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread refresher_;
};

}  // namespace

Result<std::unique_ptr<RepositoryLock>> RepositoryImpl::Lock(LockMode mode, const std::string& purpose) {
  bool exclusive = mode == LockMode::kExclusive;
  M365_ASSIGN_OR_RETURN(std::vector<LockInfo> before, LiveLocks(*storage_, keys_));
  M365_RETURN_IF_ERROR(Conflict(before, exclusive, ""));
  uint8_t rnd[16];
  crypto::RandomBytes(rnd, sizeof rnd);
  std::string name = "locks/" + ToHex(ByteView(rnd, sizeof rnd));
  M365_RETURN_IF_ERROR(storage_->Write(name, EncodeLock(keys_, exclusive, purpose)));
  auto after = LiveLocks(*storage_, keys_);
  Status st = after.ok() ? Conflict(*after, exclusive, name) : after.status();
  if (!st.ok()) {
    (void)storage_->Remove(name);
    return st;
  }
  return std::unique_ptr<RepositoryLock>(new HeldLock(*storage_, keys_, name, exclusive, purpose));
}

}  // namespace m365vault
