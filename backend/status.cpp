// backend/status.cpp
#include "backend/status.h"

namespace m365vault {

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "Not found";
    case Code::kCorruption: return "Corruption";
    case Code::kInvalidArgument: return "Invalid argument";
    case Code::kIOError: return "I/O error";
    case Code::kUnavailable: return "Unavailable";
    case Code::kThrottled: return "Throttled";
    case Code::kPermissionDenied: return "Permission denied";
    case Code::kAlreadyExists: return "Already exists";
    case Code::kBusy: return "Busy";
    case Code::kNotSupported: return "Not supported";
    case Code::kWrongKey: return "Wrong key";
    case Code::kCancelled: return "Cancelled";
    case Code::kNoSpace: return "No space";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code())) + ": " + message();
}

}  // namespace m365vault
