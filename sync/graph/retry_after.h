// sync/graph/retry_after.h
//
// Retry-After parsing and the backoff policy GraphClient waits by.
//
// Retry-After forms accepted: integer seconds ("7"), fractional seconds
// ("2.128", as Graph's own docs show), and an HTTP-date
// ("Sun, 06 Nov 1994 08:49:37 GMT", also RFC 850 and asctime forms).
//
// BackoffPolicy: capped exponential backoff with full jitter,
//   delay(n) = uniform(0, min(max_delay, initial_delay * 2^n))
// unless the server sent Retry-After, which is honoured exactly (never
// earlier). The random source is injectable for tests.
//
// Thread safety: ParseRetryAfter is pure. BackoffPolicy is safe to share if
// its random source is (the default one is).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace m365vault::sync {

// The wait the header asks for, relative to `now` for the date form (a date
// in the past means 0). nullopt when the value is malformed or negative.
std::optional<std::chrono::nanoseconds> ParseRetryAfter(std::string_view value,
                                                        std::chrono::system_clock::time_point now);

struct BackoffOptions {
  std::chrono::nanoseconds initial_delay = std::chrono::milliseconds(500);
  std::chrono::nanoseconds max_delay = std::chrono::seconds(60);
  // Total tries of one request, the first included.
  int max_attempts = 8;
  // A Retry-After longer than this makes the call give up (Throttled)
  // instead of sleeping through it.
  std::chrono::nanoseconds max_retry_after = std::chrono::minutes(10);
};

class BackoffPolicy {
 public:
  // Returns a double in [0, 1).
  using RandomSource = std::function<double()>;

  explicit BackoffPolicy(BackoffOptions options = {}, RandomSource random = nullptr);

  const BackoffOptions& options() const { return options_; }

  // The wait before retry number `retry` (0 for the first retry).
  // REQUIRES: retry >= 0.
  std::chrono::nanoseconds Delay(int retry, std::optional<std::chrono::nanoseconds> retry_after) const;

  // The exponential ceiling for retry number `retry`, before jitter.
  std::chrono::nanoseconds Ceiling(int retry) const;

 private:
  BackoffOptions options_;
  RandomSource random_;
};

}  // namespace m365vault::sync
