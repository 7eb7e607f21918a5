// sync/schedule/daemon_log.cpp
#include "sync/schedule/daemon_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <ctime>
#include <string>

namespace m365vault::sync {
namespace {

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return Status::InvalidArgument("log level '" + std::string(s) + "': use debug, info, warn or error");
}

Result<std::unique_ptr<DaemonLog>> DaemonLog::Open(DaemonLogOptions options) {
  if (!options.clock) options.clock = &Clock::Real();
  std::unique_ptr<DaemonLog> log(new DaemonLog(std::move(options)));
  if (!log->options_.file.empty()) M365_RETURN_IF_ERROR(log->OpenFile());
  return log;
}

DaemonLog::~DaemonLog() {
  if (file_) fclose(file_);
}

Status DaemonLog::OpenFile() {
  int fd = ::open(options_.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot open log file " + options_.file + ": " + strerror(errno));
  struct stat st;
  size_ = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  file_ = fdopen(fd, "a");
  if (!file_) {
    ::close(fd);
    return Status::IOError("cannot open log file " + options_.file);
  }
  return Status::OK();
}

void DaemonLog::Rotate() {
  fclose(file_);
  file_ = nullptr;
  const std::string& f = options_.file;
  for (int i = options_.keep; i >= 1; --i) {
    std::string from = i == 1 ? f : f + "." + std::to_string(i - 1);
    std::string to = f + "." + std::to_string(i);
    (void)::rename(from.c_str(), to.c_str());
  }
  if (options_.keep <= 0) (void)::unlink(f.c_str());
  (void)OpenFile();  // on failure the next lines go to stderr
}

void DaemonLog::Log(LogLevel level, std::string_view message) {
  if (level < options_.level) return;
  auto now = options_.clock->Now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char ts[32];
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = std::string(ts) + " " + LevelName(level) + " " + std::string(message) + "\n";
  std::lock_guard<std::mutex> l(mu_);
  if (file_ && options_.max_bytes > 0 && size_ > 0 && size_ + line.size() > options_.max_bytes) Rotate();
  FILE* out = file_ ? file_ : stderr;
  fwrite(line.data(), 1, line.size(), out);
  fflush(out);
  if (file_) size_ += line.size();
}

Result<std::unique_ptr<DaemonLock>> DaemonLock::Acquire(const std::string& vault_dir) {
  const std::string path = vault_dir + "/daemon.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return Status::IOError("cannot lock " + path + ": " + strerror(err));
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::Busy("another daemon (pid " + pid + ") is running on this vault");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    return Status::IOError("cannot write " + path);
  }
  return std::unique_ptr<DaemonLock>(new DaemonLock(fd));
}

DaemonLock::~DaemonLock() {
  (void)::ftruncate(fd_, 0);
  ::close(fd_);  // releases the flock
}

}  // namespace m365vault::sync
