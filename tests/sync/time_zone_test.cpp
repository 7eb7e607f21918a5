// tests/sync/time_zone_test.cpp: POSIX TZ rules, TZif zones, VTIMEZONE, Graph zone names.
#include <catch2/catch.hpp>

#include <cmath>

#include "sync/engine/time_zone.h"
#include "tests/sync/ics_checker.h"

namespace m365vault::sync {
namespace {

int64_t Utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0) { return DaysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60; }

TEST_CASE("tz: POSIX TZ strings", "[sync][tz]") {
  auto cet = PosixTz::Parse("CET-1CEST,M3.5.0,M10.5.0/3");
  REQUIRE(cet);
  CHECK(cet->std_offset == 3600);
  CHECK(cet->dst_offset == 7200);
  CHECK(cet->std_abbr == "CET");
  CHECK(cet->dst_abbr == "CEST");
  CHECK(cet->DstStartUtc(2024) == Utc(2024, 3, 31, 1));   // last Sunday of March, 02:00 CET
  CHECK(cet->DstEndUtc(2024) == Utc(2024, 10, 27, 1));    // last Sunday of October, 03:00 CEST
  CHECK(cet->OffsetAt(Utc(2024, 3, 31, 0, 59)) == 3600);
  CHECK(cet->OffsetAt(Utc(2024, 3, 31, 1)) == 7200);
  CHECK(cet->OffsetAt(Utc(2024, 10, 27, 0, 59)) == 7200);
  CHECK(cet->OffsetAt(Utc(2024, 10, 27, 1)) == 3600);

  auto us = PosixTz::Parse("EST5EDT,M3.2.0,M11.1.0");
  REQUIRE(us);
  CHECK(us->std_offset == -5 * 3600);
  CHECK(us->DstStartUtc(2024) == Utc(2024, 3, 10, 7));  // 2nd Sunday of March, 02:00 EST
  CHECK(us->DstEndUtc(2024) == Utc(2024, 11, 3, 6));    // 1st Sunday of November, 02:00 EDT

  // Southern hemisphere: DST spans the new year.
  auto syd = PosixTz::Parse("AEST-10AEDT,M10.1.0,M4.1.0/3");
  REQUIRE(syd);
  CHECK(syd->OffsetAt(Utc(2024, 1, 15)) == 11 * 3600);
  CHECK(syd->OffsetAt(Utc(2024, 7, 15)) == 10 * 3600);
  CHECK(syd->OffsetAt(Utc(2024, 12, 15)) == 11 * 3600);

  // Hours past 24 (Israel: the Friday before the last Sunday, "Thursday 26:00").
  auto il = PosixTz::Parse("IST-2IDT,M3.4.4/26,M10.5.0");
  REQUIRE(il);
  CHECK(il->DstStartUtc(2024) == Utc(2024, 3, 29, 0));
  auto nuuk = PosixTz::Parse("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  REQUIRE(nuuk);
  CHECK(nuuk->std_abbr == "-02");
  CHECK(nuuk->DstStartUtc(2024) == Utc(2024, 3, 31, 1));  // Saturday 23:00 local (-02)

  auto ist = PosixTz::Parse("IST-5:30");
  REQUIRE(ist);
  CHECK(ist->std_offset == 19800);
  CHECK_FALSE(ist->has_dst);
  auto julian = PosixTz::Parse("XST3XDT,J60/2,300");
  REQUIRE(julian);
  CHECK(julian->DstStartUtc(2024) == Utc(2024, 3, 1, 5));  // J60 = March 1, leap years too
  CHECK(julian->DstEndUtc(2024) == Utc(2024, 10, 27, 4));  // day 300 (0-based) of a leap year

  for (const char* bad : {"", "CET", "C1", "CET-1CEST", "CET-1CEST,M13.1.0,M1.1.0", "CET-1CEST,M3.6.0,M10.5.0",
                          "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,M10.5.0/", "<CET-1", "CET-200"}) {
    INFO(bad);
    CHECK_FALSE(PosixTz::Parse(bad));
  }
}

TEST_CASE("tz: TZif zones from the system tz database", "[sync][tz]") {
  auto berlin = TimeZone::Load("Europe/Berlin");
  REQUIRE(berlin.ok());
  CHECK(berlin->OffsetAt(Utc(2024, 1, 15)) == 3600);
  CHECK(berlin->OffsetAt(Utc(2024, 7, 15)) == 7200);
  CHECK(berlin->OffsetAt(Utc(1979, 7, 1)) == 3600);   // West Germany had no DST in 1979
  CHECK(berlin->OffsetAt(Utc(1980, 7, 1)) == 7200);
  CHECK(berlin->OffsetAt(Utc(2150, 7, 1)) == 7200);   // past the table: the footer
  // Spring gap: 02:30 does not exist; the offset before it (+01) applies.
  CHECK(berlin->LocalToUtc(Utc(2024, 3, 31, 2, 30)) == Utc(2024, 3, 31, 1, 30));
  // Autumn overlap: 02:30 happens twice; the first (CEST) wins.
  CHECK(berlin->LocalToUtc(Utc(2024, 10, 27, 2, 30)) == Utc(2024, 10, 27, 0, 30));
  CHECK(berlin->LocalToUtc(Utc(2024, 5, 6, 9)) == Utc(2024, 5, 6, 7));
  CHECK(berlin->UtcToLocal(Utc(2024, 1, 6, 8)) == Utc(2024, 1, 6, 9));

  auto sao = TimeZone::Load("America/Sao_Paulo");  // DST abolished in 2019: a fixed footer
  REQUIRE(sao.ok());
  CHECK_FALSE(sao->rule().has_dst);
  CHECK(sao->OffsetAt(Utc(2018, 12, 1)) == -2 * 3600);
  CHECK(sao->OffsetAt(Utc(2024, 12, 1)) == -3 * 3600);

  CHECK(TimeZone::Load("No/Such_Zone").status().code() == Status::Code::kNotFound);
  CHECK(TimeZone::Load("../../etc/passwd").status().code() == Status::Code::kNotFound);
  CHECK(TimeZone::Load("/etc/passwd").status().code() == Status::Code::kNotFound);
  CHECK(TimeZone::FromTzif("x", "not a tzif file at all, really not one.....").status().code() ==
        Status::Code::kCorruption);
  // A real file cut short is corruption, not a crash.
  std::string data;
  {
    FILE* f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    REQUIRE(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
    fclose(f);
  }
  REQUIRE(TimeZone::FromTzif("Europe/Berlin", data).ok());
  for (size_t cut : {size_t{10}, size_t{60}, data.size() / 2, data.size() - 5}) {
    INFO(cut);
    CHECK_FALSE(TimeZone::FromTzif("cut", data.substr(0, cut)).ok());
  }
}

TEST_CASE("tz: Windows zone names map to tz database zones", "[sync][tz]") {
  CHECK(WindowsZoneToIana("W. Europe Standard Time") == "Europe/Berlin");
  CHECK(WindowsZoneToIana("Pacific Standard Time") == "America/Los_Angeles");
  CHECK(WindowsZoneToIana("AUS Eastern Standard Time") == "Australia/Sydney");
  CHECK(WindowsZoneToIana("India Standard Time") == "Asia/Kolkata");
  CHECK_FALSE(WindowsZoneToIana("tzone://Microsoft/Custom"));
  CHECK_FALSE(WindowsZoneToIana("Mars Standard Time"));
  CHECK(IsUtcZoneName("UTC"));
  CHECK(IsUtcZoneName("tzone://Microsoft/Utc"));
  CHECK_FALSE(IsUtcZoneName("GMT Standard Time"));  // London: not UTC in summer
  // Every name in the table resolves against the installed tz database.
  for (const char* w : {"Dateline Standard Time", "Hawaiian Standard Time", "Eastern Standard Time",
                        "US Eastern Standard Time", "Greenland Standard Time", "GMT Standard Time",
                        "Morocco Standard Time", "FLE Standard Time", "Israel Standard Time", "Iran Standard Time",
                        "Nepal Standard Time", "China Standard Time", "Tokyo Standard Time", "Lord Howe Standard Time",
                        "New Zealand Standard Time", "Chatham Islands Standard Time", "Line Islands Standard Time"}) {
    INFO(w);
    CHECK(ResolveGraphZone(w) != nullptr);
  }
  CHECK(ResolveGraphZone("Europe/Paris") != nullptr);  // IANA names are accepted too
  CHECK(ResolveGraphZone("tzone://Microsoft/Custom") == nullptr);
  CHECK(ResolveGraphZone("Mars Standard Time") == nullptr);
}

// The VTIMEZONE text, read back by the independent checker, gives the same
// offsets as the tz database at every hour of the range it was made for.
void CheckVTimezone(const std::string& zone_name, int64_t from, int64_t to) {
  INFO(zone_name);
  auto zone = TimeZone::Load(zone_name);
  REQUIRE(zone.ok());
  std::string text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n";
  for (const auto& l : zone->VTimezoneLines(zone_name, from, to)) text += l + "\r\n";
  text += "END:VCALENDAR\r\n";
  icscheck::IcsComponent cal;
  REQUIRE(icscheck::ParseIcs(text, &cal) == "");
  auto tzs = cal.Children("VTIMEZONE");
  REQUIRE(tzs.size() == 1);
  CHECK(tzs[0]->Find("TZID")->value == zone_name);
  size_t mismatches = 0;
  for (int64_t t = from; t <= to; t += 3600) {
    auto off = icscheck::IcsOffsetAt(*tzs[0], t);
    if (!off || *off != zone->OffsetAt(t)) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("tz: VTIMEZONE observances match the tz database", "[sync][tz]") {
  const int64_t from = Utc(2023, 6, 1), to = Utc(2026, 6, 1);
  for (const char* z : {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Asia/Tokyo",
                        "Asia/Jerusalem", "America/Nuuk", "Africa/Casablanca", "America/Sao_Paulo",
                        "Australia/Lord_Howe", "Pacific/Chatham", "Etc/GMT+12"}) {
    CheckVTimezone(z, from, to);
  }
  // Ranges reaching back before today's rules: one-off observances.
  CheckVTimezone("America/New_York", Utc(2005, 1, 1), Utc(2009, 1, 1));  // the 2007 US change
  CheckVTimezone("America/Sao_Paulo", Utc(2017, 1, 1), Utc(2021, 1, 1));
  CheckVTimezone("Europe/Moscow", Utc(2010, 1, 1), Utc(2016, 1, 1));

  // The shape of a rule zone: two observances with yearly RRULEs.
  auto berlin = TimeZone::Load("Europe/Berlin");
  REQUIRE(berlin.ok());
  const auto lines = berlin->VTimezoneLines("Europe/Berlin", Utc(2024, 3, 18), Utc(2024, 5, 20));
  auto has = [&](const std::string& l) { return std::find(lines.begin(), lines.end(), l) != lines.end(); };
  CHECK(lines.front() == "BEGIN:VTIMEZONE");
  CHECK(lines.back() == "END:VTIMEZONE");
  CHECK(has("TZID:Europe/Berlin"));
  CHECK(has("BEGIN:DAYLIGHT"));
  CHECK(has("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"));
  CHECK(has("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"));
  CHECK(has("DTSTART:20230326T020000"));
  CHECK(has("DTSTART:20231029T030000"));
  CHECK(has("TZOFFSETFROM:+0100"));
  CHECK(has("TZOFFSETTO:+0200"));
  CHECK(has("TZNAME:CEST"));
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:STANDARD") == 1);
  auto kolkata = TimeZone::Load("Asia/Kolkata");
  REQUIRE(kolkata.ok());
  const auto ist = kolkata->VTimezoneLines("Asia/Kolkata", Utc(2024, 1, 1), Utc(2024, 2, 1));
  CHECK(std::count(ist.begin(), ist.end(), "TZOFFSETTO:+0530") == 1);
  CHECK(std::count(ist.begin(), ist.end(), "BEGIN:DAYLIGHT") == 0);
}

}  // namespace
}  // namespace m365vault::sync
