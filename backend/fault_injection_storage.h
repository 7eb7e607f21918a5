// backend/fault_injection_storage.h
//
// FaultInjectionStorage: wraps a Storage and simulates a crash at the Nth
// mutating step (Write or Remove): that step and every later one fail with
// IOError, as if the process had died there. Since Storage::Write is atomic
// (whole or absent), "dying" before a step is exactly "the step did not
// happen". Counting steps in a dry run first lets a test crash at every step
// of an operation in turn.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <atomic>
#include <memory>

#include "backend/storage.h"

namespace m365vault {

class FaultInjectionStorage final : public Storage {
 public:
  explicit FaultInjectionStorage(Storage& base) : base_(base) {}

  // Fail mutating step number `n` (0-based) and all after it; -1 = never.
  void CrashAtStep(int64_t n) {
    crash_at_ = n;
    steps_ = 0;
  }
  int64_t steps() const { return steps_; }
  bool crashed() const { return crash_at_ >= 0 && steps_ > crash_at_; }
  // Fails reads too after a crash (a dead process reads nothing).

  Status Write(std::string_view name, ByteView data) override {
    M365_RETURN_IF_ERROR(Step("write " + std::string(name)));
    return base_.Write(name, data);
  }
  Result<Bytes> Read(std::string_view name) override { return base_.Read(name); }
  Result<Bytes> ReadRange(std::string_view name, uint64_t offset, uint64_t length) override {
    return base_.ReadRange(name, offset, length);
  }
  Result<uint64_t> Size(std::string_view name) override { return base_.Size(name); }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override { return base_.List(prefix); }
  Status Remove(std::string_view name) override {
    M365_RETURN_IF_ERROR(Step("remove " + std::string(name)));
    return base_.Remove(name);
  }
  std::string Describe() const override { return base_.Describe(); }

 private:
  Status Step(const std::string& what) {
    int64_t n = steps_++;
    if (crash_at_ >= 0 && n >= crash_at_) return Status::IOError("injected crash at step " + std::to_string(n) + ": " + what);
    return Status::OK();
  }

  Storage& base_;
  std::atomic<int64_t> crash_at_{-1};
  std::atomic<int64_t> steps_{0};
};

// A Storage that forwards to another one it does not own (lets a test keep
// using a MemStorage after handing a Repository its unique_ptr<Storage>).
class BorrowedStorage final : public Storage {
 public:
  explicit BorrowedStorage(Storage& base) : base_(base) {}
  Status Write(std::string_view n, ByteView d) override { return base_.Write(n, d); }
  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view n) override { return base_.Create(n); }
  Result<Bytes> Read(std::string_view n) override { return base_.Read(n); }
  Result<Bytes> ReadRange(std::string_view n, uint64_t o, uint64_t l) override { return base_.ReadRange(n, o, l); }
  Result<uint64_t> Size(std::string_view n) override { return base_.Size(n); }
  Result<std::vector<ObjectInfo>> List(std::string_view p) override { return base_.List(p); }
  Status Remove(std::string_view n) override { return base_.Remove(n); }
  Result<uint64_t> RemoveUnfinished() override { return base_.RemoveUnfinished(); }
  std::string Describe() const override { return base_.Describe(); }

 private:
  Storage& base_;
};

}  // namespace m365vault
