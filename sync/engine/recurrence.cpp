// sync/engine/recurrence.cpp: Graph recurrence patterns -> RRULE, and the
// dates a pattern predicts (declared in sync/engine/icalendar.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>

#include "sync/engine/icalendar.h"
#include "sync/engine/collector_support.h"
#include "sync/engine/time_zone.h"

namespace m365vault::sync {
namespace {

using json = nlohmann::json;


int Int(const json& j, const char* key, int dflt) {
  if (!j.is_object()) return dflt;
  auto it = j.find(key);
  return (it != j.end() && it->is_number_integer()) ? it->get<int>() : dflt;
}

bool ParseDate(const std::string& s, int64_t* days) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (s.size() < 10 || sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  *days = DaysFromCivil(y, m, d);
  return true;
}
std::string FormatDate(int64_t days) {
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[16];
  snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}
unsigned DaysInMonth(int y, unsigned m) {
  static const unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return k[m - 1];
}
// 0 = Sunday.
int Weekday(int64_t days) { return WeekdayOfDays(days); }

const char* const kDayNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
const char* const kDayCodes[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
int DayIndex(const std::string& name) {
  for (int i = 0; i < 7; ++i) {
    if (name == kDayNames[i]) return i;
  }
  return -1;
}
std::vector<int> DaysOfWeek(const json& pattern) {
  std::vector<int> days;
  if (auto it = pattern.find("daysOfWeek"); it != pattern.end() && it->is_array()) {
    for (const auto& d : *it) {
      if (d.is_string()) {
        int i = DayIndex(d.get<std::string>());
        if (i >= 0 && std::find(days.begin(), days.end(), i) == days.end()) days.push_back(i);
      }
    }
  }
  return days;
}
int SetPos(const std::string& index) {
  if (index == "second") return 2;
  if (index == "third") return 3;
  if (index == "fourth") return 4;
  if (index == "last") return -1;
  return 1;
}

// The `pos`th day (1-based, -1 = last) in month y/m whose weekday is in `days`.
std::optional<int64_t> NthWeekdayInMonth(int y, unsigned m, const std::vector<int>& days, int pos) {
  std::vector<int64_t> matches;
  const int64_t first = DaysFromCivil(y, m, 1);
  for (unsigned d = 0; d < DaysInMonth(y, m); ++d) {
    if (std::find(days.begin(), days.end(), Weekday(first + d)) != days.end()) matches.push_back(first + d);
  }
  if (matches.empty()) return std::nullopt;
  if (pos < 0) return matches.back();
  if (static_cast<size_t>(pos) > matches.size()) return std::nullopt;
  return matches[pos - 1];
}

}  // namespace

std::string RecurrenceToRrule(const json& recurrence, const std::string& until) {
  if (!recurrence.is_object()) return {};
  const json pattern = recurrence.value("pattern", json::object());
  const json range = recurrence.value("range", json::object());
  const std::string type = JsonString(pattern, "type");
  const int interval = std::max(1, Int(pattern, "interval", 1));
  auto byday = [&] {
    std::string s;
    for (int d : DaysOfWeek(pattern)) s += (s.empty() ? "" : ",") + std::string(kDayCodes[d]);
    return s;
  };
  std::string r;
  if (type == "daily") {
    r = "FREQ=DAILY";
  } else if (type == "weekly") {
    r = "FREQ=WEEKLY";
  } else if (type == "absoluteMonthly" || type == "relativeMonthly") {
    r = "FREQ=MONTHLY";
  } else if (type == "absoluteYearly" || type == "relativeYearly") {
    r = "FREQ=YEARLY";
  } else {
    return {};
  }
  r += ";INTERVAL=" + std::to_string(interval);
  if (type == "weekly") {
    if (auto d = byday(); !d.empty()) r += ";BYDAY=" + d;
    const int wkst = DayIndex(JsonString(pattern, "firstDayOfWeek"));
    r += std::string(";WKST=") + kDayCodes[wkst < 0 ? 0 : wkst];
  } else if (type == "absoluteMonthly") {
    r += ";BYMONTHDAY=" + std::to_string(Int(pattern, "dayOfMonth", 1));
  } else if (type == "relativeMonthly") {
    r += ";BYDAY=" + byday() + ";BYSETPOS=" + std::to_string(SetPos(JsonString(pattern, "index")));
  } else if (type == "absoluteYearly") {
    r += ";BYMONTH=" + std::to_string(Int(pattern, "month", 1)) + ";BYMONTHDAY=" + std::to_string(Int(pattern, "dayOfMonth", 1));
  } else if (type == "relativeYearly") {
    r += ";BYMONTH=" + std::to_string(Int(pattern, "month", 1)) + ";BYDAY=" + byday() +
         ";BYSETPOS=" + std::to_string(SetPos(JsonString(pattern, "index")));
  }
  const std::string rtype = JsonString(range, "type");
  if (rtype == "endDate") {
    const std::string end = JsonString(range, "endDate");
    if (!until.empty()) {
      r += ";UNTIL=" + until;
    } else if (end.size() >= 10) {
      r += ";UNTIL=" + end.substr(0, 4) + end.substr(5, 2) + end.substr(8, 2) + "T235959Z";
    }
  } else if (rtype == "numbered") {
    r += ";COUNT=" + std::to_string(std::max(1, Int(range, "numberOfOccurrences", 1)));
  }
  return r;
}

std::vector<std::string> ExpectedOccurrenceDates(const json& recurrence, size_t cap) {
  std::vector<std::string> out;
  if (!recurrence.is_object()) return out;
  const json pattern = recurrence.value("pattern", json::object());
  const json range = recurrence.value("range", json::object());
  const std::string type = JsonString(pattern, "type");
  const int interval = std::max(1, Int(pattern, "interval", 1));
  int64_t start = 0, end = INT64_MAX;
  if (!ParseDate(JsonString(range, "startDate"), &start)) return out;
  const std::string rtype = JsonString(range, "type");
  size_t count = cap;
  if (rtype == "endDate") {
    if (!ParseDate(JsonString(range, "endDate"), &end)) return out;
  } else if (rtype == "numbered") {
    count = std::min<size_t>(cap, std::max(1, Int(range, "numberOfOccurrences", 1)));
  }
  const int64_t horizon = start + 366 * 30;  // 30 years at most
  auto add = [&](int64_t d) {
    if (d < start || d > end || out.size() >= count) return;
    out.push_back(FormatDate(d));
  };
  auto done = [&](int64_t d) { return out.size() >= count || d > end || d > horizon; };
  const std::vector<int> days = DaysOfWeek(pattern);
  int y;
  unsigned m, dd;
  CivilFromDays(start, &y, &m, &dd);
  if (type == "daily") {
    for (int64_t d = start; !done(d); d += interval) add(d);
  } else if (type == "weekly") {
    if (days.empty()) return out;
    int wkst = DayIndex(JsonString(pattern, "firstDayOfWeek"));
    if (wkst < 0) wkst = 0;
    int64_t week = start - ((Weekday(start) - wkst + 7) % 7);
    for (; !done(week); week += 7 * interval) {
      std::vector<int64_t> in_week;
      for (int d : days) in_week.push_back(week + ((d - wkst + 7) % 7));
      std::sort(in_week.begin(), in_week.end());
      for (int64_t d : in_week) add(d);
    }
  } else if (type == "absoluteMonthly" || type == "relativeMonthly" || type == "absoluteYearly" ||
             type == "relativeYearly") {
    const bool yearly = type.find("Yearly") != std::string::npos;
    const bool relative = type.rfind("relative", 0) == 0;
    int year = y;
    int month = yearly ? Int(pattern, "month", static_cast<int>(m)) : static_cast<int>(m);
    if (month < 1 || month > 12) return out;
    const int step = yearly ? 12 * interval : interval;
    for (int i = 0; i < 100000; ++i) {
      const int64_t first = DaysFromCivil(year, month, 1);
      if (done(first)) break;
      std::optional<int64_t> d;
      if (relative) {
        d = NthWeekdayInMonth(year, month, days, SetPos(JsonString(pattern, "index")));
      } else {
        const int dom = Int(pattern, "dayOfMonth", 1);
        if (dom >= 1 && static_cast<unsigned>(dom) <= DaysInMonth(year, month)) d = DaysFromCivil(year, month, dom);
      }
      if (d) add(*d);
      int total = year * 12 + (month - 1) + step;
      year = total / 12;
      month = total % 12 + 1;
    }
  }
  return out;
}

std::vector<std::string> CancelledDates(const std::vector<std::string>& expected,
                                        const std::vector<std::string>& instance_original_starts) {
  std::set<std::string> present;
  for (const auto& s : instance_original_starts) present.insert(s.substr(0, 10));
  std::vector<std::string> out;
  for (const auto& d : expected) {
    if (!present.count(d)) out.push_back(d);
  }
  return out;
}

}  // namespace m365vault::sync
