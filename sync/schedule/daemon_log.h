// sync/schedule/daemon_log.h
//
// DaemonLog: the daemon's log: lines "TIME LEVEL message" to stderr or to a
// file that is rotated by size (FILE -> FILE.1 -> ... -> FILE.<keep>, the
// oldest dropped). Tokens and credentials are never passed to it.
//
// DaemonLock: one daemon per vault: an exclusive flock on <vault>/daemon.lock
// holding the owner's pid; released when the process exits, however it exits.
//
// Thread safety: DaemonLog is safe from any thread (a mutex); DaemonLock is a
// plain resource type.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backend/clock.h"
#include "backend/status.h"

namespace m365vault::sync {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
// "debug", "info", "warn", "error"; InvalidArgument otherwise.
Result<LogLevel> ParseLogLevel(std::string_view s);

struct DaemonLogOptions {
  LogLevel level = LogLevel::kInfo;
  std::string file;                   // "" = stderr
  uint64_t max_bytes = 10ull << 20;   // rotate when the file would exceed this
  int keep = 3;                       // rotated files kept
  Clock* clock = nullptr;             // nullptr: Clock::Real()
};

class DaemonLog {
 public:
  // IOError if the file cannot be opened.
  static Result<std::unique_ptr<DaemonLog>> Open(DaemonLogOptions options);
  ~DaemonLog();
  DaemonLog(const DaemonLog&) = delete;
  DaemonLog& operator=(const DaemonLog&) = delete;

  void Log(LogLevel level, std::string_view message);
  void Debug(std::string_view m) { Log(LogLevel::kDebug, m); }
  void Info(std::string_view m) { Log(LogLevel::kInfo, m); }
  void Warn(std::string_view m) { Log(LogLevel::kWarn, m); }
  void Error(std::string_view m) { Log(LogLevel::kError, m); }

 private:
  explicit DaemonLog(DaemonLogOptions options) : options_(std::move(options)) {}
  Status OpenFile();
  void Rotate();

  DaemonLogOptions options_;
  std::mutex mu_;
  FILE* file_ = nullptr;  // GUARDED_BY(mu_); nullptr = stderr
  uint64_t size_ = 0;     // GUARDED_BY(mu_)
};

class DaemonLock {
 public:
  // Busy "another daemon (pid N) is running" when another process holds it.
  static Result<std::unique_ptr<DaemonLock>> Acquire(const std::string& vault_dir);
  ~DaemonLock();
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;

 private:
  explicit DaemonLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace m365vault::sync
