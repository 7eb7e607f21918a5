// sync/engine/icalendar.cpp: Graph events -> RFC 5545 iCalendar.
#include "sync/engine/icalendar.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "sync/engine/safe_name.h"
#include "sync/engine/collector_support.h"
#include "sync/engine/time_zone.h"

namespace m365vault::sync {
namespace {

using json = nlohmann::json;



// Graph "2024-05-01T10:00:00.0000000" -> "20240501T100000".
std::string IcsLocal(const std::string& dt) {
  if (dt.size() < 19) return {};
  return dt.substr(0, 4) + dt.substr(5, 2) + dt.substr(8, 2) + "T" + dt.substr(11, 2) + dt.substr(14, 2) + dt.substr(17, 2);
}

// How the date-times of one VEVENT property family are written: UTC ("Z"),
// in a zone of the tz database (TZID + a VTIMEZONE), or floating (local time
// of a zone this code does not know, which cannot be converted).
struct Placement {
  enum class Form { kUtc, kZoned, kFloating } form = Form::kUtc;
  std::shared_ptr<const TimeZone> zone;  // kZoned
};

// The Graph zone name an event's start (or end) is to be shown in: for a
// series master the recurrence's zone (recurrence.range.recurrenceTimeZone;
// Graph: "if not specified, the time zone of the event"), else the zone the
// event was created in (originalStartTimeZone / originalEndTimeZone), else
// the zone Graph reported the time in.
std::string TargetZone(const json& ev, bool end) {
  if (auto rec = ev.find("recurrence"); rec != ev.end() && rec->is_object()) {
    if (auto z = JsonString(rec->value("range", json::object()), "recurrenceTimeZone"); !z.empty()) return z;
  }
  if (auto z = JsonString(ev, end ? "originalEndTimeZone" : "originalStartTimeZone"); !z.empty()) return z;
  return JsonString(ev.value(end ? "end" : "start", json::object()), "timeZone");
}

// A Graph dateTimeTimeZone as a UTC instant; nullopt when malformed or in a
// zone this code does not know. `*wall` receives the wall time as written.
std::optional<int64_t> ToUtc(const json& dt, int64_t* wall) {
  auto w = ParseWallTime(JsonString(dt, "dateTime"));
  if (!w) return std::nullopt;
  *wall = *w;
  const std::string tz = JsonString(dt, "timeZone");
  if (IsUtcZoneName(tz)) return *w;
  if (auto zone = ResolveGraphZone(tz)) return zone->LocalToUtc(*w);
  return std::nullopt;
}

// Collects the zones a calendar uses and the instants each must cover.
class ZoneSet {
 public:
  Placement Place(const std::string& graph_zone) {
    Placement p;
    if (IsUtcZoneName(graph_zone)) return p;
    if (auto zone = ResolveGraphZone(graph_zone)) {
      p.form = Placement::Form::kZoned;
      p.zone = std::move(zone);
    }
    return p;  // unknown: UTC, the name goes to an X- property
  }
  void Cover(const Placement& p, int64_t utc) {
    if (p.form != Placement::Form::kZoned) return;
    auto [it, added] = used_.try_emplace(p.zone->name(), Used{p.zone, utc, utc});
    if (!added) {
      it->second.from = std::min(it->second.from, utc);
      it->second.to = std::max(it->second.to, utc);
    }
  }
  // "NAME;TZID=Europe/Berlin:20240506T090000" / "NAME:20240506T070000Z".
  std::string At(const std::string& name, int64_t utc, const Placement& p) {
    if (p.form != Placement::Form::kZoned) return name + ":" + IcsDateTime(utc) + "Z";
    Cover(p, utc);
    return name + ";TZID=" + p.zone->name() + ":" + IcsDateTime(p.zone->UtcToLocal(utc));
  }
  // A Graph dateTimeTimeZone in placement `p` (floating when its own zone
  // is unknown: its wall time cannot be converted). Sets *utc when known.
  std::string Prop(const std::string& name, const json& dt, const Placement& p, std::optional<int64_t>* utc,
                   bool* floating) {
    int64_t wall = 0;
    *utc = ToUtc(dt, &wall);
    *floating = false;
    if (*utc) return At(name, **utc, p);
    if (!ParseWallTime(JsonString(dt, "dateTime"))) return {};
    *floating = true;
    return name + ":" + IcsDateTime(wall);
  }
  void AppendVTimezones(std::string* out) const {
    for (const auto& [tzid, u] : used_) {
      for (const auto& line : u.zone->VTimezoneLines(tzid, u.from, u.to)) IcsAppendLine(out, line);
    }
  }

 private:
  struct Used {
    std::shared_ptr<const TimeZone> zone;
    int64_t from, to;
  };
  std::map<std::string, Used> used_;
};

// The master's DTSTART as the exceptions and EXDATEs must repeat it.
struct SeriesStart {
  Placement placement;
  bool floating = false;
  std::optional<int64_t> utc;
  int64_t wall = 0;
};

// "2024-05-01T10:00:00Z" (or with fraction) -> "20240501T100000Z".
std::string UtcStamp(const std::string& t) {
  const std::string l = IcsLocal(t);
  return l.empty() ? std::string() : l + "Z";
}

// A parameter value: quoted when it holds ':', ';' or ','; DQUOTE is not
// allowed inside (RFC 5545 3.2), control characters neither.
std::string ParamValue(const std::string& v) {
  std::string out;
  bool quote = false;
  for (unsigned char c : v) {
    if (c == '"') {
      out.push_back('\'');
    } else if (c < 0x20 || c == 0x7F) {
      out.push_back(' ');
    } else {
      if (c == ':' || c == ';' || c == ',') quote = true;
      out.push_back(static_cast<char>(c));
    }
  }
  return quote ? "\"" + out + "\"" : out;
}

std::string CalAddress(const char* prop, const json& email, const std::string& params) {
  const std::string addr = JsonString(email, "address");
  const std::string name = JsonString(email, "name");
  std::string line = prop;
  if (!name.empty()) line += ";CN=" + ParamValue(name);
  line += params;
  line += ":mailto:" + (addr.empty() ? std::string("unknown@invalid") : addr);
  return line;
}

std::string PartStat(const std::string& response) {
  if (response == "accepted" || response == "organizer") return "ACCEPTED";
  if (response == "declined") return "DECLINED";
  if (response == "tentativelyAccepted") return "TENTATIVE";
  return "NEEDS-ACTION";
}

std::string Description(const json& ev) {
  auto body = ev.find("body");
  if (body == ev.end() || !body->is_object()) return JsonString(ev, "bodyPreview");
  const std::string content = JsonString(*body, "content");
  std::string type = JsonString(*body, "contentType");
  std::transform(type.begin(), type.end(), type.begin(), ::tolower);
  return type == "html" ? HtmlToText(content) : content;
}

// "YYYY-MM-DD" -> days since the epoch (nullopt if malformed).
std::optional<int64_t> DateDays(const std::string& date) {
  auto t = ParseWallTime(date.substr(0, 10) + "T00:00:00");
  if (!t) return std::nullopt;
  return *t / 86400;
}

int64_t SecondsOfDay(int64_t t) { return ((t % 86400) + 86400) % 86400; }

// RRULE, with UNTIL in the form DTSTART needs (RFC 5545 3.3.10: UTC when
// DTSTART has a TZID, a DATE for all-day, floating for floating), and the
// series' end covered by its zone's VTIMEZONE.
std::string SeriesRrule(const json& rec, const SeriesStart& series, bool all_day, ZoneSet* zones) {
  const json range = rec.value("range", json::object());
  std::string until;
  const auto end_days = JsonString(range, "type") == "endDate" ? DateDays(JsonString(range, "endDate")) : std::nullopt;
  if (end_days) {
    const int64_t last = *end_days * 86400 + 86399;  // the end date's last second, in the series' zone
    const std::string date = IcsDateTime(last).substr(0, 8);
    if (all_day) {
      until = date;
    } else if (series.floating) {
      until = date + "T235959";
    } else if (series.placement.form == Placement::Form::kZoned) {
      const int64_t utc = series.placement.zone->LocalToUtc(last);
      zones->Cover(series.placement, utc);
      until = IcsDateTime(utc) + "Z";
    }
  }
  if (series.placement.form == Placement::Form::kZoned && series.utc) {
    // Cover the last occurrence too (numbered and noEnd series).
    const auto dates = ExpectedOccurrenceDates(rec, 1000);
    if (!dates.empty()) {
      if (auto d = DateDays(dates.back())) {
        const int64_t tod = SecondsOfDay(series.placement.zone->UtcToLocal(*series.utc));
        zones->Cover(series.placement, series.placement.zone->LocalToUtc(*d * 86400 + tod));
      }
    }
  }
  return RecurrenceToRrule(rec, until);
}

// One VEVENT: the master / single event (`series` = null; its start is
// stored in *master_start), or an exception occurrence of `series`.
void AppendVevent(std::string* out, const json& ev, const std::string& uid, const SeriesStart* series,
                  SeriesStart* master_start, const std::vector<std::string>& cancelled, ZoneSet* zones) {
  IcsAppendLine(out, "BEGIN:VEVENT");
  IcsAppendLine(out, "UID:" + IcsEscape(uid));
  std::string stamp = UtcStamp(JsonString(ev, "lastModifiedDateTime"));
  if (stamp.empty()) stamp = "19700101T000000Z";
  IcsAppendLine(out, "DTSTAMP:" + stamp);
  if (auto c = UtcStamp(JsonString(ev, "createdDateTime")); !c.empty()) IcsAppendLine(out, "CREATED:" + c);
  IcsAppendLine(out, "LAST-MODIFIED:" + stamp);
  const bool all_day = ev.value("isAllDay", false);
  if (series) {
    // RECURRENCE-ID: the occurrence's original start (UTC in Graph), in the
    // master's DTSTART form.
    const std::string orig = JsonString(ev, "originalStart");
    if (!orig.empty()) {
      const auto orig_utc = ParseWallTime(orig);
      if (all_day) {
        IcsAppendLine(out, "RECURRENCE-ID;VALUE=DATE:" + IcsLocal(orig).substr(0, 8));
      } else if (orig_utc && series->placement.form == Placement::Form::kZoned) {
        IcsAppendLine(out, zones->At("RECURRENCE-ID", *orig_utc, series->placement));
      } else {
        IcsAppendLine(out, "RECURRENCE-ID:" + UtcStamp(orig));
      }
    }
  }
  const std::string start_zone = TargetZone(ev, false), end_zone = TargetZone(ev, true);
  const json start = ev.value("start", json::object());
  SeriesStart own;
  own.placement = zones->Place(start_zone);
  if (all_day) {
    if (auto l = IcsLocal(JsonString(start, "dateTime")); !l.empty()) IcsAppendLine(out, "DTSTART;VALUE=DATE:" + l.substr(0, 8));
    if (auto l = IcsLocal(JsonString(ev.value("end", json::object()), "dateTime")); !l.empty()) {
      IcsAppendLine(out, "DTEND;VALUE=DATE:" + l.substr(0, 8));
    }
  } else {
    if (auto line = zones->Prop("DTSTART", start, own.placement, &own.utc, &own.floating); !line.empty()) {
      IcsAppendLine(out, line);
    }
    own.wall = ParseWallTime(JsonString(start, "dateTime")).value_or(0);
    std::optional<int64_t> end_utc;
    bool end_floating = false;
    if (auto line = zones->Prop("DTEND", ev.value("end", json::object()), zones->Place(end_zone), &end_utc,
                                &end_floating);
        !line.empty()) {
      IcsAppendLine(out, line);
    }
  }
  // Graph's zone names, kept for restores (and the only record of a zone
  // this code does not know: its times are then written in UTC).
  if (!IsUtcZoneName(start_zone)) IcsAppendLine(out, "X-M365-START-TIMEZONE:" + IcsEscape(start_zone));
  if (!IsUtcZoneName(end_zone)) IcsAppendLine(out, "X-M365-END-TIMEZONE:" + IcsEscape(end_zone));
  if (!series) {
    if (master_start) *master_start = own;
    if (auto it = ev.find("recurrence"); it != ev.end() && it->is_object()) {
      if (auto rrule = SeriesRrule(*it, own, all_day, zones); !rrule.empty()) IcsAppendLine(out, "RRULE:" + rrule);
      // EXDATEs at the master's local start time, in DTSTART's form.
      for (const auto& date : cancelled) {
        const auto days = DateDays(date);
        if (!days) continue;
        if (all_day || (!own.utc && !own.floating)) {
          IcsAppendLine(out, "EXDATE;VALUE=DATE:" + IcsDateTime(*days * 86400).substr(0, 8));
        } else if (own.floating) {
          IcsAppendLine(out, "EXDATE:" + IcsDateTime(*days * 86400 + SecondsOfDay(own.wall)));
        } else if (own.placement.form == Placement::Form::kZoned) {
          const TimeZone& zone = *own.placement.zone;
          const int64_t local = *days * 86400 + SecondsOfDay(zone.UtcToLocal(*own.utc));
          IcsAppendLine(out, zones->At("EXDATE", zone.LocalToUtc(local), own.placement));
        } else {
          IcsAppendLine(out, "EXDATE:" + IcsDateTime(*days * 86400 + SecondsOfDay(*own.utc)) + "Z");
        }
      }
    }
  }
  IcsAppendLine(out, "SUMMARY:" + IcsEscape(JsonString(ev, "subject")));
  if (auto d = Description(ev); !d.empty()) IcsAppendLine(out, "DESCRIPTION:" + IcsEscape(d));
  if (auto loc = ev.find("location"); loc != ev.end() && loc->is_object()) {
    if (auto l = JsonString(*loc, "displayName"); !l.empty()) IcsAppendLine(out, "LOCATION:" + IcsEscape(l));
  }
  if (auto org = ev.find("organizer"); org != ev.end() && org->is_object() && org->contains("emailAddress")) {
    IcsAppendLine(out, CalAddress("ORGANIZER", (*org)["emailAddress"], ""));
  }
  for (const auto& a : ev.value("attendees", json::array())) {
    if (!a.is_object() || !a.contains("emailAddress")) continue;
    const std::string type = JsonString(a, "type");
    std::string params = type == "optional"   ? ";ROLE=OPT-PARTICIPANT"
                         : type == "resource" ? ";CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT"
                                              : ";ROLE=REQ-PARTICIPANT";
    params += ";PARTSTAT=" + PartStat(JsonString(a.value("status", json::object()), "response"));
    IcsAppendLine(out, CalAddress("ATTENDEE", a["emailAddress"], params));
  }
  std::string cats;
  for (const auto& c : ev.value("categories", json::array())) {
    if (!c.is_string()) continue;
    cats += (cats.empty() ? "" : ",") + IcsEscape(RepairUtf8(c.get<std::string>()));
  }
  if (!cats.empty()) IcsAppendLine(out, "CATEGORIES:" + cats);
  const std::string sensitivity = JsonString(ev, "sensitivity");
  if (sensitivity == "private") IcsAppendLine(out, "CLASS:PRIVATE");
  if (sensitivity == "confidential") IcsAppendLine(out, "CLASS:CONFIDENTIAL");
  IcsAppendLine(out, std::string("TRANSP:") + (JsonString(ev, "showAs") == "free" ? "TRANSPARENT" : "OPAQUE"));
  if (ev.value("isCancelled", false)) IcsAppendLine(out, "STATUS:CANCELLED");
  if (auto id = JsonString(ev, "id"); !id.empty()) IcsAppendLine(out, "X-M365-ID:" + IcsEscape(id));
  IcsAppendLine(out, "END:VEVENT");
}

}  // namespace

std::string IcsEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == ';' || c == ',') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      continue;
    } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
      out.push_back(' ');  // CONTROL characters are not allowed in TEXT
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void IcsAppendLine(std::string* out, std::string_view line) {
  size_t pos = 0, limit = 75;
  while (line.size() - pos > limit) {
    size_t end = pos + limit;
    while (end > pos && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;  // UTF-8 boundary
    out->append(line.substr(pos, end - pos));
    *out += "\r\n ";
    pos = end;
    limit = 74;  // the leading space counts
  }
  out->append(line.substr(pos));
  *out += "\r\n";
}

std::string EventToICalendar(const json& event, const std::vector<std::string>& cancelled_dates) {
  std::string uid = JsonString(event, "iCalUId");
  if (uid.empty()) uid = JsonString(event, "id");
  ZoneSet zones;
  std::string events;
  SeriesStart master;
  AppendVevent(&events, event, uid, nullptr, &master, cancelled_dates, &zones);
  if (auto ex = event.find("exceptionOccurrences"); ex != event.end() && ex->is_array()) {
    for (const auto& occ : *ex) {
      if (occ.is_object()) AppendVevent(&events, occ, uid, &master, nullptr, {}, &zones);
    }
  }
  std::string out;
  IcsAppendLine(&out, "BEGIN:VCALENDAR");
  IcsAppendLine(&out, "VERSION:2.0");
  IcsAppendLine(&out, "PRODID:-//m365vault//m365vault backup//EN");
  IcsAppendLine(&out, "CALSCALE:GREGORIAN");
  zones.AppendVTimezones(&out);  // every TZID the events use, covering their instants
  out += events;
  IcsAppendLine(&out, "END:VCALENDAR");
  return out;
}

std::string SeriesTimeZone(const json& master) { return TargetZone(master, false); }

std::vector<std::string> OriginalStartDates(const json& master, const std::vector<std::string>& original_starts) {
  const std::string name = SeriesTimeZone(master);
  // All-day occurrences carry their date as such (midnight): no conversion.
  const bool all_day = master.is_object() && master.value("isAllDay", false);
  std::shared_ptr<const TimeZone> zone = all_day || IsUtcZoneName(name) ? nullptr : ResolveGraphZone(name);
  std::vector<std::string> out;
  for (const auto& s : original_starts) {
    auto utc = ParseWallTime(s);
    if (!utc) continue;
    const std::string t = IcsDateTime(zone ? zone->UtcToLocal(*utc) : *utc);
    out.push_back(t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2));
  }
  return out;
}

std::string EventStartDate(const json& event) {
  const json start = event.value("start", json::object());
  const std::string when = JsonString(start, "dateTime");
  if (when.size() < 10) return {};
  if (event.value("isAllDay", false)) return when.substr(0, 10);
  int64_t wall = 0;
  const auto utc = ToUtc(start, &wall);
  if (!utc) return when.substr(0, 10);  // a zone this code does not know: its own date
  const std::string target = TargetZone(event, false);
  auto zone = IsUtcZoneName(target) ? nullptr : ResolveGraphZone(target);
  const std::string t = IcsDateTime(zone ? zone->UtcToLocal(*utc) : *utc);
  return t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2);
}

std::string HtmlToText(std::string_view html) {
  std::string out;
  for (size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      const size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      std::string tag(html.substr(i + 1, close - i - 1));
      std::transform(tag.begin(), tag.end(), tag.begin(), ::tolower);
      if (tag.rfind("br", 0) == 0 || tag == "/p" || tag == "/div" || tag == "/li" || tag == "/tr" ||
          tag.rfind("/h", 0) == 0) {
        out.push_back('\n');
      }
      if (tag.rfind("style", 0) == 0 || tag.rfind("script", 0) == 0 || tag.rfind("head", 0) == 0) {
        const std::string end = "</" + tag.substr(0, tag.find_first_of(" \t\r\n/"));
        size_t e = i;
        for (; e < html.size(); ++e) {
          if (html[e] == '<' && html.size() - e >= end.size()) {
            std::string w(html.substr(e, end.size()));
            std::transform(w.begin(), w.end(), w.begin(), ::tolower);
            if (w == end) break;
          }
        }
        const size_t ec = html.find('>', e);
        i = ec == std::string_view::npos ? html.size() : ec + 1;
        continue;
      }
      i = close + 1;
    } else if (c == '&') {
      static const std::pair<const char*, const char*> kEntities[] = {
          {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
      bool matched = false;
      for (const auto& [ent, rep] : kEntities) {
        const std::string_view e(ent);
        if (html.substr(i, e.size()) == e) {
          out += rep;
          i += e.size();
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.push_back('&');
        ++i;
      }
    } else if (c == '\r') {
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  const size_t b = out.find_first_not_of(" \t\n");
  if (b == std::string::npos) return {};
  const size_t e = out.find_last_not_of(" \t\n");
  return out.substr(b, e - b + 1);
}

}  // namespace m365vault::sync
