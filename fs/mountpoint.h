// fs/mountpoint.h
//
// Checks done before mounting, each with a message that tells the user what
// to do: the mount point exists, is an empty directory, is not already a mount
// point (or a dead FUSE mount), and /dev/fuse can be opened.
//
// Thread safety: functions on the file system; no shared state.
#pragma once

#include <string>

#include "backend/status.h"

namespace m365vault::fs {

// Returns the absolute, symlink-free path of a usable mount point.
// InvalidArgument (empty / not a directory), NotFound, Busy (mounted, stale
// FUSE mount, not empty), or IOError.
Result<std::string> CheckMountpoint(const std::string& path);

// True when `path` (absolute, canonical) is a mount point per `mountinfo`
// (the contents of /proc/self/mountinfo, whose paths escape ' ' as \040).
bool IsListedMountpoint(const std::string& mountinfo, const std::string& path);

// NotSupported when /dev/fuse is missing, PermissionDenied when it cannot be
// opened read-write.
Status CheckFuseDevice();

}  // namespace m365vault::fs
