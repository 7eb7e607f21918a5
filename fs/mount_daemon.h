// fs/mount_daemon.h
//
// Daemonizing with an error channel. fuse_daemonize() forks and lets the
// parent exit 0 at once, so a failure after the fork (a wrong key, a failed
// mount) would be invisible. Instead: fork early, let the child report "ready"
// or its Status over a pipe, and have the parent wait for that report and
// return it.
//
// Thread safety: StartDaemon must run before the process has threads.
#pragma once

#include "backend/status.h"

namespace m365vault::fs {

// The child's end of the pipe: Report exactly once (later calls are ignored).
class ReadyChannel {
 public:
  explicit ReadyChannel(int fd) : fd_(fd) {}
  ~ReadyChannel();
  ReadyChannel(const ReadyChannel&) = delete;
  ReadyChannel& operator=(const ReadyChannel&) = delete;

  // Sends OK ("mounted, serving") or the error that stopped the child.
  void Report(const Status& status);
  bool reported() const { return fd_ < 0; }

 private:
  int fd_;
};

struct DaemonStart {
  bool is_child = false;
  // Parent: the child's report (IOError if it died without one).
  Status parent_result;
  // Child: where to report.
  std::unique_ptr<ReadyChannel> channel;
};

// Forks. In the child: setsid() and stdin/stdout/stderr on /dev/null. In the
// parent: blocks until the child reports. IOError if fork fails.
Result<DaemonStart> StartDaemon();

}  // namespace m365vault::fs
