// sync/graph/retry_after.cpp
#include "sync/graph/retry_after.h"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <string>

namespace m365vault::sync {
namespace {

using std::chrono::nanoseconds;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "7" or "2.128": exact nanoseconds, no floating point.
std::optional<nanoseconds> ParseSeconds(std::string_view s) {
  int64_t whole = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (whole > 100'000'000) return std::nullopt;  // absurd; refuse to overflow
    whole = whole * 10 + (s[i] - '0');
  }
  if (i == 0) return std::nullopt;
  int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100'000'000;
    size_t digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return std::chrono::seconds(whole) + nanoseconds(frac_ns);
}

int MonthIndex(const char* m) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (std::strncmp(m, kMonths[i], 3) == 0) return i;
  }
  return -1;
}

std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view v) {
  std::string s(v);
  char wday[16] = {0}, mon[4] = {0};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  bool parsed =
      // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      std::sscanf(s.c_str(), "%15[A-Za-z], %d %3s %d %d:%d:%d GMT", wday, &day, mon, &year, &hh, &mm, &ss) == 7 ||
      // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
      std::sscanf(s.c_str(), "%15[A-Za-z], %d-%3s-%d %d:%d:%d GMT", wday, &day, mon, &year, &hh, &mm, &ss) == 7 ||
      // asctime: Sun Nov  6 08:49:37 1994
      std::sscanf(s.c_str(), "%15s %3s %d %d:%d:%d %d", wday, mon, &day, &hh, &mm, &ss, &year) == 7;
  if (!parsed) return std::nullopt;
  int month = MonthIndex(mon);
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  if (year < 100) year += (year < 70) ? 2000 : 1900;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

double DefaultRandom() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> l(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::optional<nanoseconds> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') return ParseSeconds(value);
  auto when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  if (*when <= now) return nanoseconds(0);
  return std::chrono::duration_cast<nanoseconds>(*when - now);
}

BackoffPolicy::BackoffPolicy(BackoffOptions options, RandomSource random)
    : options_(options), random_(random ? std::move(random) : RandomSource(DefaultRandom)) {}

nanoseconds BackoffPolicy::Ceiling(int retry) const {
  nanoseconds ceiling = options_.initial_delay;
  for (int i = 0; i < retry && ceiling < options_.max_delay; ++i) ceiling *= 2;
  return ceiling < options_.max_delay ? ceiling : options_.max_delay;
}

nanoseconds BackoffPolicy::Delay(int retry, std::optional<nanoseconds> retry_after) const {
  if (retry_after) return *retry_after;
  double r = random_();
  if (r < 0.0) r = 0.0;
  if (r >= 1.0) r = 0.999999;
  return nanoseconds(static_cast<int64_t>(static_cast<double>(Ceiling(retry).count()) * r));
}

}  // namespace m365vault::sync
