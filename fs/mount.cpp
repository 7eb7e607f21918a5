// fs/mount.cpp: RunMount — checks, daemonizing, the libfuse session and loop.
#include "fs/mount.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fs/fuse_ops.h"
#include "fs/logger.h"
#include "fs/mount_daemon.h"
#include "fs/mountpoint.h"
#include "fs/snapshot_names.h"
#include "fs/vault_fs.h"

namespace m365vault::fs {
namespace {

// Deleter aliases for the libfuse handles (style guide 6.5).
struct SessionDeleter {
  void operator()(fuse_session* se) const { fuse_session_destroy(se); }
};
using SessionPtr = std::unique_ptr<fuse_session, SessionDeleter>;
struct LoopConfigDeleter {
  void operator()(fuse_loop_config* c) const { fuse_loop_cfg_destroy(c); }
};
using LoopConfigPtr = std::unique_ptr<fuse_loop_config, LoopConfigDeleter>;
struct ArgsDeleter {
  void operator()(fuse_args* a) const { fuse_opt_free_args(a); }
};

// Blocks the termination signals in the calling thread while alive. Threads
// started meanwhile (the repositories' pools, opened in MountSource::Open)
// inherit the mask, so SIGTERM always reaches the main thread, whose handler
// (fuse_set_signal_handlers) ends the loop; libfuse's workers block all
// signals themselves.
class ScopedSignalBlock {
 public:
  ScopedSignalBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~ScopedSignalBlock() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  ScopedSignalBlock(const ScopedSignalBlock&) = delete;
  ScopedSignalBlock& operator=(const ScopedSignalBlock&) = delete;

 private:
  sigset_t old_;
};

// Keeps the signal handlers installed for the session's life.
class ScopedSignalHandlers {
 public:
  explicit ScopedSignalHandlers(fuse_session* se) : se_(se), ok_(fuse_set_signal_handlers(se) == 0) {}
  ~ScopedSignalHandlers() {
    if (ok_) fuse_remove_signal_handlers(se_);
  }
  ScopedSignalHandlers(const ScopedSignalHandlers&) = delete;
  ScopedSignalHandlers& operator=(const ScopedSignalHandlers&) = delete;
  bool ok() const { return ok_; }

 private:
  fuse_session* se_;
  bool ok_;
};

Status CheckTenants(const std::vector<MountedTenant>& tenants) {
  if (tenants.empty()) return Status::NotFound("no tenant to mount");
  std::set<std::string> seen;
  for (const MountedTenant& t : tenants) {
    if (!IsUsableName(t.name)) return Status::InvalidArgument("tenant name \"" + t.name + "\" is not a usable name");
    if (!t.repo) return Status::InvalidArgument("tenant " + t.name + " has no repository");
    if (!seen.insert(t.name).second) return Status::InvalidArgument("tenant " + t.name + " is listed twice");
  }
  return Status::OK();
}

// Opens the source, mounts and serves. `channel` (daemon only) is told when
// the mount is ready or why it failed.
Status Serve(const MountOptions& options, const std::string& mountpoint, MountSource& source,
             ReadyChannel* channel) {
  std::unique_ptr<Logger> log = options.foreground ? NewStderrLogger() : NewSyslogLogger();
  std::unique_ptr<VaultFs> vfs;
  SessionPtr session;
  {
    ScopedSignalBlock block;
    M365_RETURN_IF_ERROR(source.Open());
    std::vector<MountedTenant> tenants = source.Tenants();
    M365_RETURN_IF_ERROR(CheckTenants(tenants));

    VaultFsOptions fs_options;
    fs_options.uid = getuid();
    fs_options.gid = getgid();
    fs_options.refresh_interval = std::chrono::milliseconds(options.refresh_ms);
    vfs = std::make_unique<VaultFs>(std::move(tenants), fs_options, *log);

    std::string opts = "ro,default_permissions,fsname=m365vault,subtype=m365vault";
    if (options.allow_other) opts += ",allow_other";
    std::vector<std::string> argv_store = {"m365vault", "-o", opts};
    if (options.debug) argv_store.push_back("-d");
    std::vector<char*> argv;
    for (std::string& a : argv_store) argv.push_back(a.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    std::unique_ptr<fuse_args, ArgsDeleter> args_guard(&args);

    fuse_lowlevel_ops ops;
    AssignOperations(ops);
    session.reset(fuse_session_new(&args, &ops, sizeof ops, vfs.get()));
    if (!session) return Status::IOError("libfuse rejected the session options: " + opts);
  }
  ScopedSignalHandlers handlers(session.get());
  if (!handlers.ok()) return Status::IOError("cannot install signal handlers");
  if (fuse_session_mount(session.get(), mountpoint.c_str()) != 0) {
    return Status::IOError("mounting at " + mountpoint + " failed (see the message above or syslog)");
  }
  if (channel) {
    channel->Report(Status::OK());
    (void)chdir("/");  // do not keep a directory busy; paths were resolved before
  }

  LoopConfigPtr config(fuse_loop_cfg_create());
  fuse_loop_cfg_set_max_threads(config.get(), options.max_threads);
  fuse_loop_cfg_set_clone_fd(config.get(), 1);
  int rc = fuse_session_loop_mt(session.get(), config.get());
  fuse_session_unmount(session.get());
  // Destroy the session (joins nothing: the loop has ended) before the
  // filesystem its userdata points to.
  session.reset();
  vfs.reset();
  if (rc < 0) return Status::IOError(std::string("FUSE loop failed: ") + std::strerror(-rc));
  return Status::OK();  // unmounted, by fusermount3 -u or a signal
}

}  // namespace

Status RunMount(const MountOptions& options, MountSource& source) {
  M365_ASSIGN_OR_RETURN(std::string mountpoint, CheckMountpoint(options.mountpoint));
  M365_RETURN_IF_ERROR(CheckFuseDevice());
  if (options.foreground) return Serve(options, mountpoint, source, nullptr);

  // Fork before anything starts threads (fuse_daemonize's rule), but keep an
  // error channel to the parent so a failed mount is not silent.
  M365_ASSIGN_OR_RETURN(DaemonStart start, StartDaemon());
  if (!start.is_child) return start.parent_result;
  Status status = Serve(options, mountpoint, source, start.channel.get());
  if (!start.channel->reported()) {
    // Failed before the mount was ready: the parent reports it; this process
    // must not run its caller's code a second time.
    start.channel->Report(status.ok() ? Status::IOError("the mount ended before it was ready") : status);
    _exit(1);
  }
  return status;
}

}  // namespace m365vault::fs
