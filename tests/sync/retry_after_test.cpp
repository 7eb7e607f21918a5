// tests/sync/retry_after_test.cpp
#include <catch2/catch.hpp>

#include <ctime>
#include <set>

#include "sync/graph/retry_after.h"

namespace m365vault::sync {
namespace {
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// 2027-01-15 08:00:00 UTC
const auto kNow = std::chrono::system_clock::time_point(seconds(1800000000 - 1800000000 % 86400 + 8 * 3600));
}  // namespace

TEST_CASE("Retry-After integer and fractional seconds parse exactly", "[sync]") {
  CHECK(ParseRetryAfter("7", kNow) == nanoseconds(seconds(7)));
  CHECK(ParseRetryAfter(" 0 ", kNow) == nanoseconds(0));
  CHECK(ParseRetryAfter("2.128", kNow) == nanoseconds(milliseconds(2128)));
  CHECK(ParseRetryAfter("0.000000001", kNow) == nanoseconds(1));
  CHECK_FALSE(ParseRetryAfter("", kNow));
  CHECK_FALSE(ParseRetryAfter("-3", kNow));
  CHECK_FALSE(ParseRetryAfter("3s", kNow));
  CHECK_FALSE(ParseRetryAfter("2.", kNow));
  CHECK_FALSE(ParseRetryAfter("soon", kNow));
}

TEST_CASE("Retry-After HTTP-date is relative to now", "[sync]") {
  std::time_t t = std::chrono::system_clock::to_time_t(kNow);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  tm.tm_sec += 30;
  timegm(&tm);
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  CHECK(ParseRetryAfter(buf, kNow) == nanoseconds(seconds(30)));
  // RFC 850 form, and a date in the past means "now".
  std::strftime(buf, sizeof(buf), "%A, %d-%b-%y %H:%M:%S GMT", &tm);
  CHECK(ParseRetryAfter(buf, kNow) == nanoseconds(seconds(30)));
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kNow) == nanoseconds(0));
  CHECK_FALSE(ParseRetryAfter("Sun, 06 Foo 1994 08:49:37 GMT", kNow));
}

TEST_CASE("Backoff is capped exponential with full jitter", "[sync]") {
  BackoffOptions o;
  o.initial_delay = milliseconds(100);
  o.max_delay = seconds(2);
  double r = 0.999999;
  BackoffPolicy p(o, [&] { return r; });
  CHECK(p.Ceiling(0) == milliseconds(100));
  CHECK(p.Ceiling(1) == milliseconds(200));
  CHECK(p.Ceiling(4) == milliseconds(1600));
  CHECK(p.Ceiling(5) == seconds(2));
  CHECK(p.Ceiling(60) == seconds(2));  // no overflow far out
  // Top of the jitter range stays under the ceiling; bottom is zero.
  CHECK(p.Delay(10, std::nullopt) <= seconds(2));
  CHECK(p.Delay(10, std::nullopt) > milliseconds(1999));
  r = 0.0;
  CHECK(p.Delay(10, std::nullopt) == nanoseconds(0));
  r = 0.5;
  CHECK(p.Delay(2, std::nullopt) == milliseconds(200));
  // Retry-After wins exactly, even above the cap.
  CHECK(p.Delay(0, nanoseconds(seconds(5))) == seconds(5));
}

TEST_CASE("Default jitter source varies and stays in range", "[sync]") {
  BackoffOptions o;
  o.initial_delay = seconds(1);
  o.max_delay = seconds(1);
  BackoffPolicy p(o);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    auto d = p.Delay(3, std::nullopt);
    REQUIRE(d >= nanoseconds(0));
    REQUIRE(d < seconds(1));
    seen.insert(d.count());
  }
  CHECK(seen.size() > 40);
}

}  // namespace m365vault::sync
