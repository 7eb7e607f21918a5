// fs/mount.h
//
// The public entry point of the fs module: mount the snapshots of one or more
// tenants read-only at a directory and serve them until unmounted.
//
//   <mountpoint>/<tenant>/<type>/{latest -> <time>, <time>/...}
//
// (docs/fuse.md has the layout, the inode scheme, caching and errors.)
//
// Usage (the CLI's `m365vault mount`):
//   class VaultSource : public fs::MountSource { ... };
//   fs::MountOptions opts; opts.mountpoint = argv[2];
//   Status st = fs::RunMount(opts, source);
//
// Thread safety: RunMount is called once per process, from the main thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "backend/repository.h"
#include "backend/status.h"
#include "fs/snapshot_catalog.h"

namespace m365vault::fs {

struct MountOptions {
  std::string mountpoint;
  // Serve in this process (logs to stderr) instead of daemonizing (logs to
  // syslog).
  bool foreground = false;
  // Let other users see the mount (needs user_allow_other in /etc/fuse.conf
  // for non-root). Off: private to the mounting user.
  bool allow_other = false;
  // libfuse debug output (implies nothing else).
  bool debug = false;
  // Worker threads of the FUSE loop.
  unsigned max_threads = 16;
  // How often the tenant/type/snapshot listings may be re-read (ms).
  unsigned refresh_ms = 1000;
  // Informational: the decoded-chunk cache lives in the repositories
  // (RepositoryOptions::cache_bytes); the MountSource should open them with
  // this value. Default 64 MiB: file pages live in the kernel's page cache
  // (keep_cache), so this only has to hold trees and the read-ahead window.
  size_t cache_bytes = 64u << 20;
};

// What the mount serves; implemented by the CLI (a vault) and by tests.
class MountSource {
 public:
  virtual ~MountSource() = default;

  // Opens whatever Tenants() needs. RunMount calls it once, after
  // daemonizing (after fork(): threads and SQLite handles must be created
  // here, not before RunMount) and before mounting. An error is returned by
  // RunMount in the calling process (the daemon's parent) and nothing is
  // mounted.
  virtual Status Open() { return Status::OK(); }
  // The tenants the caller may see, each with its repository (borrowed: the
  // source owns it until RunMount returns). Called once, after Open().
  // Names must be usable directory names and unique.
  virtual std::vector<MountedTenant> Tenants() = 0;
};

// Mounts, serves on a multithreaded libfuse loop until unmounted
// (`fusermount3 -u`, SIGINT, SIGTERM, SIGHUP), unmounts and returns.
//
// Errors, all before anything is mounted:
//   InvalidArgument  no mount point given / it is not a directory
//   NotFound         the mount point does not exist; no tenant to mount
//   Busy             the mount point is already a mount point or not empty
//   NotSupported     no /dev/fuse (module not loaded, or not in the container)
//   PermissionDenied /dev/fuse not accessible
//   anything MountSource::Open() returns; IOError if libfuse fails to mount
//
// Unless options.foreground, the process forks: the parent waits until the
// child has mounted (or failed) and then returns OK (or the child's error)
// - the caller should then just exit. The child serves and returns from
// RunMount when unmounted, with stdio on /dev/null and cwd "/".
Status RunMount(const MountOptions& options, MountSource& source);

}  // namespace m365vault::fs
