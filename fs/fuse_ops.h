// fs/fuse_ops.h
//
// The libfuse low-level front end of VaultFs: one function fills the
// operations table (passthrough_hp's assign_operations). The session's
// userdata must be the VaultFs.
//
// Every handler takes its VaultFs from fuse_req_userdata, makes one VaultFs
// call, maps a failed Status with ErrnoFromStatus and sends exactly one
// fuse_reply_*; no lock is held while replying. Every mutating operation
// answers EROFS, and so does open() for writing.
//
// Thread safety: handlers run concurrently on the session's worker threads.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse_lowlevel.h>

namespace m365vault::fs {

void AssignOperations(fuse_lowlevel_ops& ops);

}  // namespace m365vault::fs
