// backend/status.h
//
// Status and Result<T>: how every module reports errors. No exceptions cross a
// module boundary; a function that can fail returns one of these.
//
// An OK Status holds no allocation. An error carries a code, a human-readable
// message (never a secret), and a `retryable` flag that says whether doing the
// same thing again later may succeed (throttling, a reset connection) or not
// (corruption, a wrong key, a bad argument).
//
// Thread safety: values; copy freely.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace m365vault {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,
    kCorruption,        // data failed authentication, hashing or parsing
    kInvalidArgument,   // the caller asked for something malformed
    kIOError,           // the OS or the storage failed
    kUnavailable,       // a remote service is down or unreachable
    kThrottled,         // a remote service asked us to slow down
    kPermissionDenied,  // credentials are wrong or lack a permission
    kAlreadyExists,
    kBusy,              // a lock is held by someone else
    kNotSupported,
    kWrongKey,          // a passphrase or key does not open this data
    kCancelled,
    kNoSpace,           // the storage is full
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Unavailable(std::string msg, bool retryable = true) {
    return {Code::kUnavailable, std::move(msg), retryable};
  }
  static Status Throttled(std::string msg) { return {Code::kThrottled, std::move(msg), true}; }
  static Status PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg), true}; }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }
  static Status WrongKey(std::string msg) { return {Code::kWrongKey, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {Code::kCancelled, std::move(msg)}; }
  static Status NoSpace(std::string msg) { return {Code::kNoSpace, std::move(msg)}; }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  bool retryable() const { return rep_ && rep_->retryable; }
  const std::string& message() const {
    static const std::string kEmpty;
    return rep_ ? rep_->message : kEmpty;
  }

  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code(), std::string(context) + ": " + message(), retryable());
  }

  // "Corruption: pack 3f2a... trailer does not authenticate"
  std::string ToString() const;

  static const char* CodeName(Code code);

 private:
  struct Rep {
    Code code;
    std::string message;
    bool retryable;
  };
  Status(Code code, std::string msg, bool retryable = false)
      : rep_(std::make_shared<const Rep>(Rep{code, std::move(msg), retryable})) {}

  std::shared_ptr<const Rep> rep_;
};

// Result<T>: either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result needs a value or an error");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace m365vault

// Propagates a non-OK Status from an expression returning Status.
#define M365_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::m365vault::Status _st = (expr);       \
    if (!_st.ok()) return _st;              \
  } while (0)

#define M365_CONCAT_INNER(a, b) a##b
#define M365_CONCAT(a, b) M365_CONCAT_INNER(a, b)

// `M365_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns its Status.
#define M365_ASSIGN_OR_RETURN(lhs, expr) \
  M365_ASSIGN_OR_RETURN_IMPL(M365_CONCAT(_res_, __LINE__), lhs, expr)
#define M365_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
