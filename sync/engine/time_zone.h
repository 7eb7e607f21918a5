// sync/engine/time_zone.h
//
// Time zones for the iCalendar renderer: UTC offsets of a tz database zone
// over time, read from a TZif file (RFC 8536: the 64-bit v2+ data and the
// POSIX TZ string footer that extends it past the last transition), the
// RFC 5545 VTIMEZONE that describes a zone over a range of instants, and
// the names Graph uses for zones (Windows names such as "W. Europe Standard
// Time", Graph's default, or IANA names) resolved to tz database zones.
//
//   VTIMEZONE: the zone's current rule (the footer) becomes one STANDARD and
//   one DAYLIGHT observance with a yearly RRULE (BYMONTH + BYDAY), starting
//   in the year the tz database's transitions started following it; older
//   transitions the range needs become one-off observances (DTSTART only).
//   A fixed-offset zone is one STANDARD observance. Footers whose rules an
//   RRULE cannot say (Julian days, hours outside 0..24) become one-off
//   observances per year over the range.
//
// Thread safety: TimeZone is immutable after construction; ResolveGraphZone
// is thread-safe (a mutex-guarded cache of loaded zones).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/status.h"

namespace m365vault::sync {

// Days since 1970-01-01 <-> proleptic Gregorian civil date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int* y, unsigned* m, unsigned* d);
// 0 = Sunday.
int WeekdayOfDays(int64_t days);
// Seconds since the epoch (local or UTC wall time) <-> "YYYYMMDDTHHMMSS".
std::string IcsDateTime(int64_t seconds);
// "YYYY-MM-DDTHH:MM:SS[.fffffff][Z]" (Graph's dateTime) -> seconds, as wall
// time (the zone is the caller's business); nullopt if malformed.
std::optional<int64_t> ParseWallTime(std::string_view text);

// One rule of a POSIX TZ string (RFC 8536 3.3.1): "Mm.w.d[/time]", "Jn" or "n".
struct PosixDate {
  enum class Kind { kMonthWeekDay, kJulianNoLeap, kJulianZero } kind = Kind::kMonthWeekDay;
  int month = 0, week = 0, weekday = 0;  // kMonthWeekDay (week 5 = last)
  int day = 0;                           // the Julian forms
  int32_t time = 7200;                   // seconds after local midnight (may be < 0 or > 24 h)
};

// A POSIX TZ string, e.g. "CET-1CEST,M3.5.0,M10.5.0/3". Offsets are seconds
// east of UTC (the string's sign is the opposite).
struct PosixTz {
  std::string std_abbr, dst_abbr;
  int32_t std_offset = 0, dst_offset = 0;
  bool has_dst = false;
  PosixDate dst_start, dst_end;  // both in the local time in effect before them

  static std::optional<PosixTz> Parse(std::string_view text);
  // The UTC instants DST starts and ends in `year` (REQUIRES: has_dst).
  int64_t DstStartUtc(int year) const;
  int64_t DstEndUtc(int year) const;
  int32_t OffsetAt(int64_t utc) const;
};

class TimeZone {
 public:
  struct Transition {
    int64_t at = 0;  // UTC seconds
    int32_t offset = 0;
    bool dst = false;
    std::string abbr;
  };

  // Parses TZif bytes. Corruption for malformed data; NotSupported when the
  // file has no v2+ data or its footer is missing or unparsable.
  static Result<TimeZone> FromTzif(std::string name, std::string_view data);
  // Reads <zoneinfo_dir>/<name>. NotFound for names that are not a zone file
  // (or not a plain relative path).
  static Result<TimeZone> Load(const std::string& name, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  // A zone from a POSIX TZ string alone (tests, fixed-rule zones).
  static Result<TimeZone> FromPosix(std::string name, std::string_view posix);

  const std::string& name() const { return name_; }
  const PosixTz& rule() const { return footer_; }

  // Seconds east of UTC at the UTC instant.
  int32_t OffsetAt(int64_t utc) const;
  // Local wall time -> UTC. A time that does not exist (spring gap) uses the
  // offset before the gap, an ambiguous one (autumn overlap) the first
  // occurrence, as RFC 5545 3.3.5 says.
  int64_t LocalToUtc(int64_t local) const;
  int64_t UtcToLocal(int64_t utc) const { return utc + OffsetAt(utc); }

  // The VTIMEZONE (CRLF lines, unfolded; BEGIN to END) with TZID `tzid`
  // valid for instants in [from_utc, to_utc].
  std::vector<std::string> VTimezoneLines(const std::string& tzid, int64_t from_utc, int64_t to_utc) const;

 private:
  struct Type {
    int32_t offset;
    bool dst;
    std::string abbr;
  };
  TimeZone() = default;
  int32_t OffsetBefore(size_t i) const { return i == 0 ? initial_.offset : transitions_[i - 1].offset; }
  // The first transition index from which the TZif transitions follow the footer.
  size_t RuleSince() const;

  std::string name_;
  Type initial_{0, false, "UTC"};
  std::vector<Transition> transitions_;
  PosixTz footer_;
};

// The IANA zone for a Windows zone name (CLDR windowsZones, territory "001"),
// or nullopt when the name is not in the table.
std::optional<std::string> WindowsZoneToIana(std::string_view windows_name);

// True for the names Graph uses for UTC ("UTC", "Etc/UTC", "tzone://Microsoft/Utc", ...).
bool IsUtcZoneName(std::string_view name);

// A Graph zone name (Windows or IANA) as a loaded zone from the system tz
// database, or null when unknown (not in the table, no such zone file, or a
// footer this code cannot evaluate). Cached per name.
std::shared_ptr<const TimeZone> ResolveGraphZone(std::string_view name);

}  // namespace m365vault::sync
