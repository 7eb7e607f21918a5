// tests/sync/ics_checker.h: a small, independent RFC 5545 reader for tests.
//
// Parses an .ics into components (unfolding, CRLF checked), validates the
// structure (balanced BEGIN/END, VERSION/PRODID, every TZID parameter has a
// VTIMEZONE, every VTIMEZONE has observances with DTSTART, TZOFFSETFROM and
// TZOFFSETTO), and evaluates date-times: a VTIMEZONE's offsets (one-off
// observances and yearly BYMONTH/BYDAY rules) and simple weekly RRULEs.
// Civil dates come from libc (timegm/gmtime_r), not from the code under test.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace m365vault::icscheck {

struct IcsProp {
  std::string name;
  std::map<std::string, std::string> params;
  std::string value;
};

struct IcsComponent {
  std::string name;
  std::vector<IcsProp> props;
  std::vector<IcsComponent> children;

  const IcsProp* Find(const std::string& n) const {
    for (const auto& p : props) {
      if (p.name == n) return &p;
    }
    return nullptr;
  }
  std::vector<const IcsProp*> All(const std::string& n) const {
    std::vector<const IcsProp*> out;
    for (const auto& p : props) {
      if (p.name == n) out.push_back(&p);
    }
    return out;
  }
  std::vector<const IcsComponent*> Children(const std::string& n) const {
    std::vector<const IcsComponent*> out;
    for (const auto& c : children) {
      if (c.name == n) out.push_back(&c);
    }
    return out;
  }
};

inline IcsProp ParseIcsLine(const std::string& line) {
  IcsProp p;
  size_t i = 0;
  bool quoted = false;
  size_t colon = std::string::npos;
  for (; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    if (!quoted && line[i] == ':') {
      colon = i;
      break;
    }
  }
  const std::string head = line.substr(0, colon);
  p.value = colon == std::string::npos ? "" : line.substr(colon + 1);
  size_t semi = head.find(';');
  p.name = head.substr(0, semi);
  while (semi != std::string::npos) {
    size_t next = semi + 1;
    bool q = false;
    while (next < head.size() && (q || head[next] != ';')) {
      if (head[next] == '"') q = !q;
      ++next;
    }
    const std::string param = head.substr(semi + 1, next - semi - 1);
    const size_t eq = param.find('=');
    std::string v = eq == std::string::npos ? "" : param.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    p.params[param.substr(0, eq)] = v;
    semi = next < head.size() ? next : std::string::npos;
  }
  return p;
}

// "" on success, else what is wrong.
inline std::string ParseIcs(const std::string& text, IcsComponent* root) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t e = text.find("\r\n", pos);
    if (e == std::string::npos) return "a line without CRLF";
    std::string l = text.substr(pos, e - pos);
    if (l.size() > 75) return "a line longer than 75 octets";
    if (!l.empty() && (l[0] == ' ' || l[0] == '\t')) {
      if (lines.empty()) return "a continuation line first";
      lines.back() += l.substr(1);
    } else {
      lines.push_back(l);
    }
    pos = e + 2;
  }
  std::vector<IcsComponent> stack;
  bool done = false;
  for (const auto& l : lines) {
    if (done) return "content after END:VCALENDAR";
    IcsProp p = ParseIcsLine(l);
    if (p.name.empty()) return "a line without a name: " + l;
    if (p.name == "BEGIN") {
      stack.push_back(IcsComponent{p.value, {}, {}});
    } else if (p.name == "END") {
      if (stack.empty() || stack.back().name != p.value) return "unbalanced END:" + p.value;
      IcsComponent c = std::move(stack.back());
      stack.pop_back();
      if (stack.empty()) {
        *root = std::move(c);
        done = true;
      } else {
        stack.back().children.push_back(std::move(c));
      }
    } else {
      if (stack.empty()) return "a property outside a component: " + l;
      stack.back().props.push_back(std::move(p));
    }
  }
  if (!done) return "no complete component";
  if (root->name != "VCALENDAR") return "not a VCALENDAR";
  if (!root->Find("VERSION") || root->Find("VERSION")->value != "2.0") return "VERSION:2.0 missing";
  if (!root->Find("PRODID")) return "PRODID missing";
  std::map<std::string, int> tzids;
  for (const auto* tz : root->Children("VTIMEZONE")) {
    const IcsProp* id = tz->Find("TZID");
    if (!id) return "VTIMEZONE without TZID";
    if (tzids[id->value]++) return "two VTIMEZONEs for " + id->value;
    if (tz->children.empty()) return "VTIMEZONE " + id->value + " without observances";
    for (const auto& o : tz->children) {
      if (o.name != "STANDARD" && o.name != "DAYLIGHT") return "bad observance " + o.name;
      if (!o.Find("DTSTART") || !o.Find("TZOFFSETFROM") || !o.Find("TZOFFSETTO")) return "incomplete observance";
    }
  }
  for (const auto* ev : root->Children("VEVENT")) {
    if (!ev->Find("UID") || !ev->Find("DTSTAMP") || !ev->Find("DTSTART")) return "VEVENT without UID/DTSTAMP/DTSTART";
    for (const auto& p : ev->props) {
      auto it = p.params.find("TZID");
      if (it != p.params.end() && !tzids.count(it->second)) return "TZID " + it->second + " without a VTIMEZONE";
    }
  }
  return "";
}

// "20240506T090000" -> seconds (wall time); nullopt if malformed.
inline std::optional<int64_t> IcsWall(const std::string& v) {
  struct tm tm {};
  if (v.size() < 15 || v[8] != 'T' ||
      sscanf(v.c_str(), "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

// "+0100" / "-0530" / "+003412" -> seconds east.
inline int32_t IcsOffset(const std::string& v) {
  const int sign = v[0] == '-' ? -1 : 1;
  const int h = std::stoi(v.substr(1, 2)), m = std::stoi(v.substr(3, 2));
  const int s = v.size() >= 7 ? std::stoi(v.substr(5, 2)) : 0;
  return sign * (h * 3600 + m * 60 + s);
}

// The UTC instants at which the VTIMEZONE's observances start, up to `until_year`.
struct IcsOnset {
  int64_t utc;
  int32_t offset;
};
inline std::vector<IcsOnset> IcsOnsets(const IcsComponent& vtz, int until_year) {
  std::vector<IcsOnset> out;
  static const char* const kDays[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
  for (const auto& o : vtz.children) {
    const int64_t start = *IcsWall(o.Find("DTSTART")->value);
    const int32_t from = IcsOffset(o.Find("TZOFFSETFROM")->value), to = IcsOffset(o.Find("TZOFFSETTO")->value);
    const IcsProp* rrule = o.Find("RRULE");
    if (!rrule) {
      out.push_back({start - from, to});
      continue;
    }
    // FREQ=YEARLY;BYMONTH=m;BYDAY=[-]nDD only.
    int month = 0, nth = 0, wday = -1;
    std::string r = rrule->value + ";";
    for (size_t p = 0; p < r.size();) {
      const size_t e = r.find(';', p);
      const std::string part = r.substr(p, e - p);
      if (part.rfind("BYMONTH=", 0) == 0) month = std::stoi(part.substr(8));
      if (part.rfind("BYDAY=", 0) == 0) {
        const std::string d = part.substr(6);
        nth = std::stoi(d.substr(0, d.size() - 2));
        for (int i = 0; i < 7; ++i) {
          if (d.substr(d.size() - 2) == kDays[i]) wday = i;
        }
      }
      p = e + 1;
    }
    if (month == 0 || nth == 0 || wday < 0 || r.find("FREQ=YEARLY") == std::string::npos) continue;
    struct tm st {};
    time_t ts = static_cast<time_t>(start);
    gmtime_r(&ts, &st);
    const int64_t tod = start - (start / 86400) * 86400;
    for (int y = st.tm_year + 1900; y <= until_year; ++y) {
      // The nth (or last) weekday of the month.
      struct tm first {};
      first.tm_year = y - 1900;
      first.tm_mon = month - 1;
      first.tm_mday = 1;
      const int64_t d1 = static_cast<int64_t>(timegm(&first)) / 86400;
      struct tm next = first;
      next.tm_mon += 1;
      const int64_t dn = static_cast<int64_t>(timegm(&next)) / 86400;  // first day of the next month
      int64_t day;
      if (nth > 0) {
        day = d1 + ((wday - (d1 + 4) % 7) + 7) % 7 + 7 * (nth - 1);
      } else {
        day = dn - 1 - (((dn - 1 + 4) % 7 - wday + 7) % 7);
      }
      const int64_t local = day * 86400 + tod;
      if (local >= start) out.push_back({local - from, to});
    }
  }
  return out;
}

// Seconds east of UTC at `utc` per the VTIMEZONE; nullopt if no observance
// has started by then.
inline std::optional<int32_t> IcsOffsetAt(const IcsComponent& vtz, int64_t utc) {
  struct tm t {};
  time_t ts = static_cast<time_t>(utc);
  gmtime_r(&ts, &t);
  std::optional<IcsOnset> best;
  for (const auto& o : IcsOnsets(vtz, t.tm_year + 1900 + 1)) {
    if (o.utc <= utc && (!best || o.utc > best->utc)) best = o;
  }
  if (!best) return std::nullopt;
  return best->offset;
}

// A property's value (DATE-TIME, UTC, TZID or floating) as UTC seconds;
// floating is taken as UTC. nullopt when it cannot be evaluated.
inline std::optional<int64_t> IcsUtc(const IcsComponent& cal, const IcsProp& p) {
  std::string v = p.value;
  auto wall = IcsWall(v);
  if (!wall) return std::nullopt;
  if (v.back() == 'Z') return *wall;
  auto tzid = p.params.find("TZID");
  if (tzid == p.params.end()) return *wall;
  for (const auto* tz : cal.Children("VTIMEZONE")) {
    if (tz->Find("TZID")->value != tzid->second) continue;
    // The local time's UTC: try each offset the zone uses; the first match.
    std::optional<int64_t> best;
    for (const auto& o : IcsOnsets(*tz, 2200)) {
      const int64_t u = *wall - o.offset;
      if (IcsOffsetAt(*tz, u) == o.offset && (!best || u < *best)) best = u;
    }
    return best;
  }
  return std::nullopt;
}

// The start instants (UTC) of a VEVENT with a weekly RRULE whose BYDAY is
// DTSTART's weekday (INTERVAL, UNTIL or COUNT), stepping in local wall time;
// cap occurrences at most.
inline std::vector<int64_t> IcsWeeklyStarts(const IcsComponent& cal, const IcsComponent& ev, size_t cap = 500) {
  std::vector<int64_t> out;
  const IcsProp* dt = ev.Find("DTSTART");
  const IcsProp* rr = ev.Find("RRULE");
  if (!dt || !rr) return out;
  int interval = 1;
  size_t count = cap;
  std::optional<int64_t> until;
  std::string r = rr->value + ";";
  for (size_t p = 0; p < r.size();) {
    const size_t e = r.find(';', p);
    const std::string part = r.substr(p, e - p);
    if (part.rfind("INTERVAL=", 0) == 0) interval = std::stoi(part.substr(9));
    if (part.rfind("COUNT=", 0) == 0) count = std::stoul(part.substr(6));
    if (part.rfind("UNTIL=", 0) == 0) {
      IcsProp u{"UNTIL", {}, part.substr(6)};
      if (part.back() != 'Z') u.params = dt->params;  // floating/local UNTIL: DTSTART's zone
      until = IcsUtc(cal, u);
    }
    p = e + 1;
  }
  if (r.find("FREQ=WEEKLY") == std::string::npos) return out;
  for (size_t k = 0; k < count; ++k) {
    IcsProp occ = *dt;
    const auto wall = IcsWall(dt->value);
    if (!wall) break;
    const time_t t = static_cast<time_t>(*wall + static_cast<int64_t>(k) * 7 * 86400 * interval);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
    occ.value = std::string(buf) + (dt->value.back() == 'Z' ? "Z" : "");
    auto utc = IcsUtc(cal, occ);
    if (!utc || (until && *utc > *until)) break;
    out.push_back(*utc);
  }
  return out;
}

}  // namespace m365vault::icscheck
