// fs/errno_map.cpp
#include "fs/errno_map.h"

#include <cerrno>

namespace m365vault::fs {

int ErrnoFromStatus(const Status& status) {
  using Code = Status::Code;
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kCorruption: return EIO;
    case Code::kInvalidArgument: return EINVAL;
    case Code::kIOError: return EIO;
    case Code::kUnavailable: return EAGAIN;
    case Code::kThrottled: return EAGAIN;
    case Code::kPermissionDenied: return EACCES;
    case Code::kAlreadyExists: return EEXIST;
    case Code::kBusy: return EBUSY;
    case Code::kNotSupported: return EOPNOTSUPP;
    case Code::kWrongKey: return EACCES;
    case Code::kCancelled: return EINTR;
    case Code::kNoSpace: return ENOSPC;
  }
  return EIO;  // a code added later and not mapped yet
}

}  // namespace m365vault::fs
