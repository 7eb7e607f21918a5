// fs/mount_daemon.cpp
#include "fs/mount_daemon.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace m365vault::fs {
namespace {

// Wire format: the decimal Status::Code, '\n', the message.
Status DecodeStatus(const std::string& wire) {
  size_t nl = wire.find('\n');
  if (wire.empty() || nl == std::string::npos) {
    return Status::IOError("the mount process exited before it was ready (see syslog)");
  }
  int code = std::atoi(wire.substr(0, nl).c_str());
  std::string msg = wire.substr(nl + 1);
  using Code = Status::Code;
  switch (static_cast<Code>(code)) {
    case Code::kOk: return Status::OK();
    case Code::kNotFound: return Status::NotFound(msg);
    case Code::kCorruption: return Status::Corruption(msg);
    case Code::kInvalidArgument: return Status::InvalidArgument(msg);
    case Code::kUnavailable: return Status::Unavailable(msg);
    case Code::kThrottled: return Status::Throttled(msg);
    case Code::kPermissionDenied: return Status::PermissionDenied(msg);
    case Code::kAlreadyExists: return Status::AlreadyExists(msg);
    case Code::kBusy: return Status::Busy(msg);
    case Code::kNotSupported: return Status::NotSupported(msg);
    case Code::kWrongKey: return Status::WrongKey(msg);
    case Code::kCancelled: return Status::Cancelled(msg);
    case Code::kNoSpace: return Status::NoSpace(msg);
    case Code::kIOError:
    default: return Status::IOError(msg);
  }
}

}  // namespace

ReadyChannel::~ReadyChannel() {
  if (fd_ >= 0) close(fd_);
}

void ReadyChannel::Report(const Status& status) {
  if (fd_ < 0) return;
  std::string wire = std::to_string(static_cast<int>(status.code())) + "\n" + status.message();
  const char* p = wire.data();
  size_t left = wire.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
  close(fd_);
  fd_ = -1;
}

Result<DaemonStart> StartDaemon() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Status::IOError(std::string("fork: ") + std::strerror(err));
  }
  DaemonStart start;
  if (pid == 0) {
    close(fds[0]);
    setsid();
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
      if (null_fd > 2) close(null_fd);
    }
    start.is_child = true;
    start.channel = std::make_unique<ReadyChannel>(fds[1]);
    return start;
  }
  close(fds[1]);
  std::string wire;
  char buf[512];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    wire.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  start.parent_result = DecodeStatus(wire);
  if (!start.parent_result.ok()) waitpid(pid, nullptr, 0);  // the child exits after reporting an error
  return start;
}

}  // namespace m365vault::fs
