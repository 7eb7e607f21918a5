// fs/errno_map.h
//
// The one place where a backend Status becomes an errno for a FUSE reply (the
// reverse of leveldb's PosixError). Every handler in fs/fuse_ops.cpp goes
// through ErrnoFromStatus; nothing else in fs/ invents errnos for backend
// failures.
//
// Thread safety: pure functions.
#pragma once

#include "backend/status.h"

namespace m365vault::fs {

// Returns 0 for OK, else a positive errno:
//   NotFound -> ENOENT, Corruption / IOError -> EIO, InvalidArgument -> EINVAL,
//   Unavailable / Throttled -> EAGAIN, PermissionDenied / WrongKey -> EACCES,
//   AlreadyExists -> EEXIST, Busy -> EBUSY, NotSupported -> EOPNOTSUPP,
//   Cancelled -> EINTR, NoSpace -> ENOSPC.
int ErrnoFromStatus(const Status& status);

}  // namespace m365vault::fs
