// backend/clock.h
//
// Clock: the one seam for time. Everything that reads the time or sleeps takes
// a Clock&, so tests drive schedules, token expiry and Retry-After waits with a
// ManualClock instead of sleeping.
//
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace m365vault {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC), for timestamps that are stored or shown.
  virtual std::chrono::system_clock::time_point Now() = 0;
  // Monotonic time, for deadlines and intervals.
  virtual std::chrono::steady_clock::time_point Monotonic() = 0;
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;

  // The process-wide real clock.
  static Clock& Real();
};

// A clock that only moves when told to; SleepFor advances it at once, so code
// under test never really waits. Records the total time slept.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point start =
                           std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)))
      : wall_(start) {}

  std::chrono::system_clock::time_point Now() override {
    std::lock_guard<std::mutex> l(mu_);
    return wall_ + offset_;
  }
  std::chrono::steady_clock::time_point Monotonic() override {
    std::lock_guard<std::mutex> l(mu_);
    return std::chrono::steady_clock::time_point(offset_);
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::lock_guard<std::mutex> l(mu_);
    if (d.count() > 0) {
      offset_ += d;
      slept_ += d;
    }
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> l(mu_);
    offset_ += d;
  }
  std::chrono::nanoseconds TotalSlept() {
    std::lock_guard<std::mutex> l(mu_);
    return slept_;
  }

 private:
  std::mutex mu_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::nanoseconds offset_{0};
  std::chrono::nanoseconds slept_{0};
};

}  // namespace m365vault
