// sync/engine/time_zone.cpp: TZif zones, POSIX TZ rules, VTIMEZONE, and
// Graph's zone names.
#include "sync/engine/time_zone.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace m365vault::sync {

// ---- civil dates (H. Hinnant's algorithms) ----

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}

int WeekdayOfDays(int64_t days) { return static_cast<int>(((days % 7) + 11) % 7); }

namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int YearOf(int64_t seconds) {
  int y;
  unsigned m, d;
  CivilFromDays(FloorDiv(seconds, 86400), &y, &m, &d);
  return y;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned MonthDays(int y, unsigned m) {
  static const unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : k[m - 1];
}

// The day (days since the epoch) a POSIX rule date falls on in `year`.
int64_t RuleDay(const PosixDate& r, int year) {
  switch (r.kind) {
    case PosixDate::Kind::kJulianNoLeap:  // 1..365, February 29 never counted
      return DaysFromCivil(year, 1, 1) + r.day - 1 + (IsLeap(year) && r.day >= 60 ? 1 : 0);
    case PosixDate::Kind::kJulianZero:  // 0..365
      return DaysFromCivil(year, 1, 1) + r.day;
    case PosixDate::Kind::kMonthWeekDay:
      break;
  }
  const int64_t first = DaysFromCivil(year, r.month, 1);
  int64_t day = first + (r.weekday - WeekdayOfDays(first) + 7) % 7 + (r.week - 1) * 7;
  while (day >= first + MonthDays(year, r.month)) day -= 7;  // week 5 = the last one
  return day;
}

// [+-]hh[:mm[:ss]] at *pos; hours up to 167 (RFC 8536 3.3.1).
bool ParseHms(std::string_view s, size_t* pos, int32_t* out) {
  int sign = 1;
  if (*pos < s.size() && (s[*pos] == '+' || s[*pos] == '-')) sign = s[(*pos)++] == '-' ? -1 : 1;
  int32_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (*pos >= s.size() || s[*pos] != ':') break;
      ++*pos;
    }
    size_t digits = 0;
    int32_t v = 0;
    while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9' && digits < 3) {
      v = v * 10 + (s[(*pos)++] - '0');
      ++digits;
    }
    if (digits == 0) return false;
    parts[i] = v;
  }
  if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59) return false;
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseAbbr(std::string_view s, size_t* pos, std::string* out) {
  if (*pos < s.size() && s[*pos] == '<') {
    const size_t end = s.find('>', *pos);
    if (end == std::string_view::npos) return false;
    *out = std::string(s.substr(*pos + 1, end - *pos - 1));
    *pos = end + 1;
  } else {
    const size_t start = *pos;
    while (*pos < s.size() && ((s[*pos] >= 'A' && s[*pos] <= 'Z') || (s[*pos] >= 'a' && s[*pos] <= 'z'))) ++*pos;
    *out = std::string(s.substr(start, *pos - start));
  }
  return out->size() >= 3;
}

bool ParseRuleDate(std::string_view s, size_t* pos, PosixDate* out) {
  auto number = [&](int* v) {
    size_t digits = 0;
    *v = 0;
    while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9' && digits < 4) {
      *v = *v * 10 + (s[(*pos)++] - '0');
      ++digits;
    }
    return digits > 0;
  };
  if (*pos < s.size() && s[*pos] == 'M') {
    ++*pos;
    out->kind = PosixDate::Kind::kMonthWeekDay;
    if (!number(&out->month) || *pos >= s.size() || s[(*pos)++] != '.' || !number(&out->week) ||
        *pos >= s.size() || s[(*pos)++] != '.' || !number(&out->weekday)) {
      return false;
    }
    if (out->month < 1 || out->month > 12 || out->week < 1 || out->week > 5 || out->weekday > 6) return false;
  } else if (*pos < s.size() && s[*pos] == 'J') {
    ++*pos;
    out->kind = PosixDate::Kind::kJulianNoLeap;
    if (!number(&out->day) || out->day < 1 || out->day > 365) return false;
  } else {
    out->kind = PosixDate::Kind::kJulianZero;
    if (!number(&out->day) || out->day > 365) return false;
  }
  out->time = 7200;
  if (*pos < s.size() && s[*pos] == '/') {
    ++*pos;
    if (!ParseHms(s, pos, &out->time)) return false;
  }
  return true;
}

// "+0100", "-0500", "+0530", "+003412" (RFC 5545 utc-offset).
std::string FormatOffset(int32_t offset) {
  const char sign = offset < 0 ? '-' : '+';
  const int32_t a = offset < 0 ? -offset : offset;
  char buf[16];
  if (a % 60 != 0) {
    snprintf(buf, sizeof buf, "%c%02d%02d%02d", sign, a / 3600, a / 60 % 60, a % 60);
  } else {
    snprintf(buf, sizeof buf, "%c%02d%02d", sign, a / 3600, a / 60 % 60);
  }
  return buf;
}

uint32_t Be32(std::string_view d, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(d[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(d[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(d[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(d[at + 3]));
}
int64_t Be64(std::string_view d, size_t at) {
  return static_cast<int64_t>((static_cast<uint64_t>(Be32(d, at)) << 32) | Be32(d, at + 4));
}

struct Observance {
  bool daylight;
  int64_t local_start;  // wall time in the offset before
  int32_t from, to;
  std::string abbr;
  std::string rrule;
};

void AppendObservance(std::vector<std::string>* lines, const Observance& o) {
  const char* kind = o.daylight ? "DAYLIGHT" : "STANDARD";
  lines->push_back(std::string("BEGIN:") + kind);
  lines->push_back("DTSTART:" + IcsDateTime(o.local_start));
  if (!o.rrule.empty()) lines->push_back("RRULE:" + o.rrule);
  lines->push_back("TZOFFSETFROM:" + FormatOffset(o.from));
  lines->push_back("TZOFFSETTO:" + FormatOffset(o.to));
  std::string abbr;
  for (char c : o.abbr) {
    if (c == ',' || c == ';' || c == '\\') abbr.push_back('\\');
    abbr.push_back(c);
  }
  if (!abbr.empty()) lines->push_back("TZNAME:" + abbr);
  lines->push_back(std::string("END:") + kind);
}

const char* const kDayCodes[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

}  // namespace

std::string IcsDateTime(int64_t seconds) {
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t sod = seconds - days * 86400;
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02d", y, m, d, static_cast<int>(sod / 3600),
           static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  return buf;
}

std::optional<int64_t> ParseWallTime(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19) return std::nullopt;
  const std::string head(text.substr(0, 19));
  if (sscanf(head.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

// ---- POSIX TZ ----

std::optional<PosixTz> PosixTz::Parse(std::string_view s) {
  PosixTz tz;
  size_t pos = 0;
  int32_t west = 0;
  if (!ParseAbbr(s, &pos, &tz.std_abbr) || !ParseHms(s, &pos, &west)) return std::nullopt;
  tz.std_offset = -west;
  tz.dst_offset = tz.std_offset;
  if (pos == s.size()) return tz;
  if (!ParseAbbr(s, &pos, &tz.dst_abbr)) return std::nullopt;
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + 3600;
  if (pos < s.size() && s[pos] != ',') {
    if (!ParseHms(s, &pos, &west)) return std::nullopt;
    tz.dst_offset = -west;
  }
  // No rule: POSIX leaves the dates to the implementation; TZif footers always give them.
  if (pos >= s.size() || s[pos] != ',') return std::nullopt;
  ++pos;
  if (!ParseRuleDate(s, &pos, &tz.dst_start) || pos >= s.size() || s[pos++] != ',' ||
      !ParseRuleDate(s, &pos, &tz.dst_end) || pos != s.size()) {
    return std::nullopt;
  }
  return tz;
}

int64_t PosixTz::DstStartUtc(int year) const {
  return RuleDay(dst_start, year) * 86400 + dst_start.time - std_offset;
}
int64_t PosixTz::DstEndUtc(int year) const { return RuleDay(dst_end, year) * 86400 + dst_end.time - dst_offset; }

int32_t PosixTz::OffsetAt(int64_t utc) const {
  if (!has_dst) return std_offset;
  const int year = YearOf(utc + std_offset);
  const int64_t start = DstStartUtc(year), end = DstEndUtc(year);
  // "All year DST" footers (e.g. "EST5EDT,0/0,J365/25") end after they start.
  const bool dst = start < end ? (utc >= start && utc < end) : (utc < end || utc >= start);
  return dst ? dst_offset : std_offset;
}

// ---- TimeZone ----

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view d) {
  if (d.size() < 44 || d.substr(0, 4) != "TZif") return Status::Corruption("not a TZif file: " + name);
  if (d[4] < '2') return Status::NotSupported("TZif version 1 has no footer: " + name);
  auto counts = [&](size_t at, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(d, at + 20 + 4 * i);
  };
  uint32_t c1[6];
  counts(0, c1);
  const uint64_t v1 = uint64_t{c1[3]} * 5 + uint64_t{c1[4]} * 6 + c1[5] + uint64_t{c1[2]} * 8 + c1[1] + c1[0];
  const size_t h2 = 44 + v1;
  if (d.size() < h2 + 44 || d.substr(h2, 4) != "TZif") return Status::Corruption("truncated TZif file: " + name);
  uint32_t c[6];
  counts(h2, c);
  const uint32_t isut = c[0], isstd = c[1], leap = c[2], timecnt = c[3], typecnt = c[4], charcnt = c[5];
  if (typecnt == 0) return Status::Corruption("TZif without types: " + name);
  const size_t times = h2 + 44, idx = times + size_t{timecnt} * 8, types = idx + timecnt, chars = types + size_t{typecnt} * 6;
  const size_t end = chars + charcnt + size_t{leap} * 12 + isstd + isut;
  if (d.size() < end + 2 || d[end] != '\n') return Status::Corruption("truncated TZif file: " + name);
  const size_t footer_end = d.find('\n', end + 1);
  if (footer_end == std::string_view::npos) return Status::Corruption("TZif footer not terminated: " + name);

  TimeZone tz;
  tz.name_ = std::move(name);
  std::vector<Type> all;
  for (uint32_t i = 0; i < typecnt; ++i) {
    const size_t at = types + size_t{i} * 6;
    const unsigned char abbr_at = static_cast<unsigned char>(d[at + 5]);
    if (abbr_at >= charcnt) return Status::Corruption("bad TZif abbreviation index: " + tz.name_);
    std::string abbr(d.substr(chars + abbr_at, charcnt - abbr_at).data());
    all.push_back({static_cast<int32_t>(Be32(d, at)), d[at + 4] != 0, std::move(abbr)});
  }
  tz.initial_ = all[0];
  Type current = all[0];
  for (uint32_t i = 0; i < timecnt; ++i) {
    const unsigned char t = static_cast<unsigned char>(d[idx + i]);
    if (t >= typecnt) return Status::Corruption("bad TZif type index: " + tz.name_);
    const Type& ty = all[t];
    if (ty.offset == current.offset && ty.dst == current.dst && ty.abbr == current.abbr) continue;
    tz.transitions_.push_back({Be64(d, times + size_t{i} * 8), ty.offset, ty.dst, ty.abbr});
    current = ty;
  }
  const std::string_view footer = d.substr(end + 1, footer_end - end - 1);
  if (footer.empty()) return Status::NotSupported("TZif file without a TZ string: " + tz.name_);
  auto rule = PosixTz::Parse(footer);
  if (!rule) return Status::NotSupported("TZ string '" + std::string(footer) + "' of " + tz.name_ + " not understood");
  tz.footer_ = *rule;
  return tz;
}

Result<TimeZone> TimeZone::FromPosix(std::string name, std::string_view posix) {
  auto rule = PosixTz::Parse(posix);
  if (!rule) return Status::InvalidArgument("TZ string '" + std::string(posix) + "' not understood");
  TimeZone tz;
  tz.name_ = std::move(name);
  tz.footer_ = *rule;
  tz.initial_ = {rule->std_offset, false, rule->std_abbr};
  return tz;
}

Result<TimeZone> TimeZone::Load(const std::string& name, const std::string& zoneinfo_dir) {
  const bool plain = !name.empty() && name[0] != '/' && name.find("..") == std::string::npos &&
                     std::all_of(name.begin(), name.end(), [](char ch) {
                       return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                              ch == '/' || ch == '_' || ch == '-' || ch == '+';
                     });
  if (!plain) return Status::NotFound("not a tz database name: " + name);
  std::ifstream in(zoneinfo_dir + "/" + name, std::ios::binary);
  if (!in) return Status::NotFound("no zone file for " + name);
  std::ostringstream buf;
  buf << in.rdbuf();
  return FromTzif(name, buf.str());
}

int32_t TimeZone::OffsetAt(int64_t utc) const {
  if (transitions_.empty()) return footer_.OffsetAt(utc);
  if (utc < transitions_.front().at) return initial_.offset;
  if (utc >= transitions_.back().at) return footer_.OffsetAt(utc);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc,
                             [](int64_t t, const Transition& tr) { return t < tr.at; });
  return std::prev(it)->offset;
}

int64_t TimeZone::LocalToUtc(int64_t local) const {
  const int32_t before = OffsetAt(local - 2 * 86400), after = OffsetAt(local + 2 * 86400);
  const int64_t a = local - before, b = local - after;
  const bool a_ok = OffsetAt(a) == before, b_ok = OffsetAt(b) == after;
  if (a_ok && b_ok) return std::min(a, b);  // overlap: the first occurrence
  if (a_ok) return a;
  if (b_ok) return b;
  return a;  // gap: the offset before it
}

size_t TimeZone::RuleSince() const {
  if (!footer_.has_dst) return transitions_.size();
  size_t since = transitions_.size();
  while (since > 0) {
    const Transition& t = transitions_[since - 1];
    const int y = YearOf(t.at + footer_.std_offset);
    bool matches = false;
    for (int yy = y - 1; yy <= y + 1 && !matches; ++yy) {
      matches = (t.offset == footer_.dst_offset && t.at == footer_.DstStartUtc(yy)) ||
                (t.offset == footer_.std_offset && t.at == footer_.DstEndUtc(yy));
    }
    if (!matches) break;
    --since;
  }
  return since;
}

std::vector<std::string> TimeZone::VTimezoneLines(const std::string& tzid, int64_t from, int64_t to) const {
  std::vector<std::string> lines = {"BEGIN:VTIMEZONE", "TZID:" + tzid};
  if (tzid != name_) lines.push_back("X-LIC-LOCATION:" + name_);
  std::vector<Observance> obs;
  const size_t n = transitions_.size();
  // The first transition the range needs: the last one at or before `from`.
  size_t first = 0;
  while (first + 1 < n && transitions_[first + 1].at <= from) ++first;
  if (n == 0 || from < transitions_.front().at) {
    // Before any transition (or a zone without any): the initial type.
    const Type& t = n == 0 ? Type{footer_.std_offset, false, footer_.std_abbr} : initial_;
    if (n == 0 && footer_.has_dst) {
      // A rule-only zone: the yearly observances below cover everything.
    } else {
      obs.push_back({t.dst, DaysFromCivil(1601, 1, 1) * 86400, t.offset, t.offset, t.abbr, ""});
    }
  }
  auto one_off = [&](size_t i) {
    const Transition& t = transitions_[i];
    obs.push_back({t.dst, t.at + OffsetBefore(i), OffsetBefore(i), t.offset, t.abbr, ""});
  };
  if (!footer_.has_dst) {
    // Fixed offset since the last transition: one-offs before it, then it.
    for (size_t i = first; i + 1 < n && transitions_[i].at <= to; ++i) one_off(i);
    if (n > 0) one_off(n - 1);
  } else {
    const size_t since = RuleSince();
    const int rule_year = since < n ? YearOf(transitions_[since].at + footer_.std_offset) + 1
                                    : (n > 0 ? YearOf(transitions_.back().at + footer_.std_offset) + 1 : INT_MIN);
    const int y0 = std::max(rule_year, YearOf(from) - 1);
    const int64_t rule_onset = std::min(footer_.DstStartUtc(y0), footer_.DstEndUtc(y0));
    for (size_t i = first; i < n && transitions_[i].at < rule_onset && transitions_[i].at <= to; ++i) one_off(i);
    const PosixDate& s = footer_.dst_start;
    const PosixDate& e = footer_.dst_end;
    auto simple = [](const PosixDate& r) {
      return r.kind == PosixDate::Kind::kMonthWeekDay && r.time >= 0 && r.time < 86400;
    };
    auto rrule = [](const PosixDate& r) {
      return "FREQ=YEARLY;BYMONTH=" + std::to_string(r.month) + ";BYDAY=" + (r.week == 5 ? "-1" : std::to_string(r.week)) +
             kDayCodes[r.weekday];
    };
    if (simple(s) && simple(e)) {
      obs.push_back({true, footer_.DstStartUtc(y0) + footer_.std_offset, footer_.std_offset, footer_.dst_offset,
                     footer_.dst_abbr, rrule(s)});
      obs.push_back({false, footer_.DstEndUtc(y0) + footer_.dst_offset, footer_.dst_offset, footer_.std_offset,
                     footer_.std_abbr, rrule(e)});
    } else {
      // Not expressible as BYMONTH/BYDAY at a time of day: one onset per year.
      const int y_end = std::min(std::max(YearOf(to), y0) + 1, y0 + 40);
      for (int y = y0; y <= y_end; ++y) {
        obs.push_back({true, footer_.DstStartUtc(y) + footer_.std_offset, footer_.std_offset, footer_.dst_offset,
                       footer_.dst_abbr, ""});
        obs.push_back({false, footer_.DstEndUtc(y) + footer_.dst_offset, footer_.dst_offset, footer_.std_offset,
                       footer_.std_abbr, ""});
      }
    }
  }
  for (const auto& o : obs) AppendObservance(&lines, o);
  lines.push_back("END:VTIMEZONE");
  return lines;
}

// ---- Graph's zone names (the Windows table: windows_zones.cpp) ----

bool IsUtcZoneName(std::string_view n) {
  return n.empty() || n == "UTC" || n == "Etc/UTC" || n == "Etc/GMT" || n == "GMT" || n == "Z" ||
         n == "Coordinated Universal Time" || n == "tzone://Microsoft/Utc";
}

std::shared_ptr<const TimeZone> ResolveGraphZone(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> cache;
  std::lock_guard<std::mutex> l(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  std::shared_ptr<const TimeZone> zone;
  const std::string iana = WindowsZoneToIana(name).value_or(std::string(name));
  if (auto loaded = TimeZone::Load(iana); loaded.ok()) zone = std::make_shared<const TimeZone>(std::move(loaded).value());
  cache.emplace(std::string(name), zone);
  return zone;
}

}  // namespace m365vault::sync
