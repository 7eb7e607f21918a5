// tests/sync/icalendar_test.cpp: the pure Graph event -> iCalendar renderer.
#include <catch2/catch.hpp>

#include "sync/engine/icalendar.h"
#include "sync/engine/time_zone.h"
#include "tests/sync/ics_checker.h"

namespace m365vault::sync {
namespace {

using json = nlohmann::json;

// Unfolds RFC 5545 content lines; checks CRLF and the 75-octet limit.
std::vector<std::string> Lines(const std::string& ics) {
  std::vector<std::string> raw;
  size_t pos = 0;
  while (pos < ics.size()) {
    size_t e = ics.find("\r\n", pos);
    REQUIRE(e != std::string::npos);  // every line ends in CRLF
    raw.push_back(ics.substr(pos, e - pos));
    pos = e + 2;
  }
  std::vector<std::string> out;
  for (const auto& l : raw) {
    CHECK(l.size() <= 75);
    CHECK(l.find('\n') == std::string::npos);
    if (!l.empty() && l[0] == ' ') {
      REQUIRE_FALSE(out.empty());
      out.back() += l.substr(1);
    } else {
      out.push_back(l);
    }
  }
  return out;
}

bool Has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

json Master() {
  return json::parse(R"J({
    "id":"AAMk=/x+1","iCalUId":"040000008200E00074C5B7101A82E008ABCD","changeKey":"ck1","type":"seriesMaster",
    "subject":"Weekly; sync, \\ review","lastModifiedDateTime":"2024-04-01T08:00:00Z","createdDateTime":"2024-03-01T08:00:00Z",
    "body":{"contentType":"html","content":"<html><head><style>p{}</style></head><body><p>Agenda &amp; notes</p>line 2</body></html>"},
    "start":{"dateTime":"2024-05-06T09:00:00.0000000","timeZone":"UTC"},
    "end":{"dateTime":"2024-05-06T09:30:00.0000000","timeZone":"UTC"},
    "location":{"displayName":"Room 1/42 \"Fjord\""},
    "organizer":{"emailAddress":{"name":"Ann, Boss","address":"ann@contoso.test"}},
    "attendees":[{"type":"required","status":{"response":"accepted"},"emailAddress":{"name":"Team","address":"team@contoso.test"}},
                 {"type":"optional","status":{"response":"none"},"emailAddress":{"name":"Bob","address":"bob@contoso.test"}}],
    "recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["monday"],"firstDayOfWeek":"sunday","index":"first"},
                  "range":{"type":"endDate","startDate":"2024-05-06","endDate":"2024-07-08","recurrenceTimeZone":"UTC"}},
    "exceptionOccurrences":[{"id":"occ2","type":"exception","subject":"Weekly (moved)","originalStart":"2024-05-20T09:00:00Z",
      "lastModifiedDateTime":"2024-04-02T08:00:00Z",
      "start":{"dateTime":"2024-05-20T11:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2024-05-20T11:30:00.0000000","timeZone":"UTC"}}]
  })J");
}

TEST_CASE("ics: escaping and folding", "[sync][ics]") {
  CHECK(IcsEscape("a;b,c\\d\r\ne") == "a\\;b\\,c\\\\d\\ne");
  std::string out;
  IcsAppendLine(&out, "SUMMARY:" + std::string(200, 'x'));
  for (size_t i = 0, p = 0; p < out.size(); ++i) {
    size_t e = out.find("\r\n", p);
    CHECK(e - p <= 75);
    p = e + 2;
  }
  // Never splits a UTF-8 sequence.
  out.clear();
  std::string umlauts;
  for (int i = 0; i < 60; ++i) umlauts += "\xC3\xBC";
  IcsAppendLine(&out, "SUMMARY:" + umlauts);
  auto lines = Lines(out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "SUMMARY:" + umlauts);
  for (size_t p = 0; (p = out.find("\r\n ", p)) != std::string::npos; p += 3) {
    CHECK((static_cast<unsigned char>(out[p + 3]) & 0xC0) != 0x80);
  }
}

TEST_CASE("ics: recurrence patterns become RRULEs", "[sync][ics]") {
  auto rec = [](const char* pattern, const char* range) {
    return json{{"pattern", json::parse(pattern)}, {"range", json::parse(range)}};
  };
  const char* until = R"({"type":"endDate","startDate":"2024-01-01","endDate":"2024-12-31"})";
  CHECK(RecurrenceToRrule(rec(R"({"type":"daily","interval":2})", R"({"type":"numbered","startDate":"2024-01-01","numberOfOccurrences":5})")) ==
        "FREQ=DAILY;INTERVAL=2;COUNT=5");
  CHECK(RecurrenceToRrule(rec(R"({"type":"weekly","interval":1,"daysOfWeek":["monday","wednesday"],"firstDayOfWeek":"monday"})", until)) ==
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE;WKST=MO;UNTIL=20241231T235959Z");
  CHECK(RecurrenceToRrule(rec(R"({"type":"absoluteMonthly","interval":1,"dayOfMonth":15})", R"({"type":"noEnd","startDate":"2024-01-15"})")) ==
        "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15");
  CHECK(RecurrenceToRrule(rec(R"({"type":"relativeMonthly","interval":1,"daysOfWeek":["friday"],"index":"last"})", until)) ==
        "FREQ=MONTHLY;INTERVAL=1;BYDAY=FR;BYSETPOS=-1;UNTIL=20241231T235959Z");
  CHECK(RecurrenceToRrule(rec(R"({"type":"absoluteYearly","interval":1,"month":3,"dayOfMonth":9})", until)) ==
        "FREQ=YEARLY;INTERVAL=1;BYMONTH=3;BYMONTHDAY=9;UNTIL=20241231T235959Z");
  CHECK(RecurrenceToRrule(rec(R"({"type":"relativeYearly","interval":1,"month":11,"daysOfWeek":["thursday"],"index":"fourth"})", until)) ==
        "FREQ=YEARLY;INTERVAL=1;BYMONTH=11;BYDAY=TH;BYSETPOS=4;UNTIL=20241231T235959Z");
  CHECK(RecurrenceToRrule(json()).empty());
  CHECK(RecurrenceToRrule(rec(R"({"type":"hourly"})", until)).empty());
}

TEST_CASE("ics: expected occurrences and cancelled dates", "[sync][ics]") {
  const json weekly = Master()["recurrence"];
  auto dates = ExpectedOccurrenceDates(weekly);
  REQUIRE(dates.size() == 10);  // 2024-05-06 .. 2024-07-08, Mondays
  CHECK(dates.front() == "2024-05-06");
  CHECK(dates.back() == "2024-07-08");
  // Instances without 2024-06-03 (the 5th): cancelled. The moved exception
  // counts by its originalStart.
  std::vector<std::string> originals;
  for (const auto& d : dates) {
    if (d != "2024-06-03") originals.push_back(d + "T09:00:00.000Z");
  }
  CHECK(CancelledDates(dates, originals) == std::vector<std::string>{"2024-06-03"});

  json daily = {{"pattern", {{"type", "daily"}, {"interval", 3}}},
                {"range", {{"type", "numbered"}, {"startDate", "2024-02-27"}, {"numberOfOccurrences", 3}}}};
  CHECK(ExpectedOccurrenceDates(daily) == std::vector<std::string>{"2024-02-27", "2024-03-01", "2024-03-04"});
  json monthly = {{"pattern", {{"type", "absoluteMonthly"}, {"interval", 1}, {"dayOfMonth", 31}}},
                  {"range", {{"type", "endDate"}, {"startDate", "2024-01-31"}, {"endDate", "2024-05-31"}}}};
  CHECK(ExpectedOccurrenceDates(monthly) == std::vector<std::string>{"2024-01-31", "2024-03-31", "2024-05-31"});
  json rel = {{"pattern", {{"type", "relativeMonthly"}, {"interval", 1}, {"daysOfWeek", {"friday"}}, {"index", "last"}}},
              {"range", {{"type", "numbered"}, {"startDate", "2024-01-01"}, {"numberOfOccurrences", 2}}}};
  CHECK(ExpectedOccurrenceDates(rel) == std::vector<std::string>{"2024-01-26", "2024-02-23"});
  json yearly = {{"pattern", {{"type", "absoluteYearly"}, {"interval", 1}, {"month", 2}, {"dayOfMonth", 29}}},
                 {"range", {{"type", "numbered"}, {"startDate", "2024-02-29"}, {"numberOfOccurrences", 2}}}};
  CHECK(ExpectedOccurrenceDates(yearly) == std::vector<std::string>{"2024-02-29", "2028-02-29"});
  json noend = {{"pattern", {{"type", "daily"}, {"interval", 1}}}, {"range", {{"type", "noEnd"}, {"startDate", "2024-01-01"}}}};
  CHECK(ExpectedOccurrenceDates(noend, 50).size() == 50);
}

TEST_CASE("ics: a series master with an exception and a cancelled occurrence", "[sync][ics]") {
  const std::string ics = EventToICalendar(Master(), {"2024-06-03"});
  CHECK(ics.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 0) == 0);
  auto lines = Lines(ics);
  CHECK(lines.back() == "END:VCALENDAR");
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT") == 2);
  CHECK(std::count(lines.begin(), lines.end(), "UID:040000008200E00074C5B7101A82E008ABCD") == 2);
  CHECK(Has(lines, "DTSTART:20240506T090000Z"));
  CHECK(Has(lines, "DTEND:20240506T093000Z"));
  CHECK(Has(lines, "SUMMARY:Weekly\\; sync\\, \\\\ review"));
  CHECK(Has(lines, "DESCRIPTION:Agenda & notes\\nline 2"));
  CHECK(Has(lines, "LOCATION:Room 1/42 \"Fjord\""));
  CHECK(Has(lines, "ORGANIZER;CN=\"Ann, Boss\":mailto:ann@contoso.test"));
  CHECK(Has(lines, "ATTENDEE;CN=Team;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:team@contoso.test"));
  CHECK(Has(lines, "ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:bob@contoso.test"));
  CHECK(Has(lines, "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;WKST=SU;UNTIL=20240708T235959Z"));
  CHECK(Has(lines, "EXDATE:20240603T090000Z"));
  CHECK(Has(lines, "RECURRENCE-ID:20240520T090000Z"));
  CHECK(Has(lines, "DTSTART:20240520T110000Z"));
  CHECK(Has(lines, "SUMMARY:Weekly (moved)"));
  CHECK(Has(lines, "DTSTAMP:20240401T080000Z"));
  CHECK(Has(lines, "X-M365-ID:AAMk=/x+1"));
  // Only one RRULE (the master's), exceptions have none.
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("RRULE:", 0) == 0; }) == 1);
}

TEST_CASE("ics: all-day events, missing fields", "[sync][ics]") {
  json ev = {{"id", "E1"},
             {"subject", ""},
             {"start", {{"dateTime", "2024-05-06T09:00:00.0000000"}, {"timeZone", "W. Europe Standard Time"}}},
             {"end", {{"dateTime", "2024-05-06T10:00:00.0000000"}, {"timeZone", "W. Europe Standard Time"}}}};
  auto lines = Lines(EventToICalendar(ev));
  CHECK(Has(lines, "UID:E1"));  // no iCalUId: the id
  CHECK(Has(lines, "SUMMARY:"));
  CHECK(Has(lines, "DTSTAMP:19700101T000000Z"));
  ev["isAllDay"] = true;
  ev["body"] = {{"contentType", "text"}, {"content", "plain\nbody"}};
  lines = Lines(EventToICalendar(ev));
  CHECK(Has(lines, "DTSTART;VALUE=DATE:20240506"));
  CHECK(Has(lines, "DESCRIPTION:plain\\nbody"));
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VTIMEZONE") == 0);  // dates have no zone
  CHECK(HtmlToText("<div>a&nbsp;b</div><br/>c &lt;d&gt;") == "a b\n\nc <d>");
}

// A weekly 09:00 W. Europe series as Graph returns it by default: times in
// UTC, the zone in originalStartTimeZone and recurrenceTimeZone. It starts
// in winter (CET) and crosses the 2024-03-31 change to CEST.
json BerlinSeries() {
  return json::parse(R"J({
    "id":"S1","iCalUId":"UID-S1","type":"seriesMaster","subject":"Jour fixe","lastModifiedDateTime":"2024-03-01T08:00:00Z",
    "originalStartTimeZone":"W. Europe Standard Time","originalEndTimeZone":"W. Europe Standard Time",
    "start":{"dateTime":"2024-03-18T08:00:00.0000000","timeZone":"UTC"},
    "end":{"dateTime":"2024-03-18T08:30:00.0000000","timeZone":"UTC"},
    "recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["monday"],"firstDayOfWeek":"sunday","index":"first"},
                  "range":{"type":"endDate","startDate":"2024-03-18","endDate":"2024-05-20","recurrenceTimeZone":"W. Europe Standard Time"}},
    "exceptionOccurrences":[{"id":"X2","type":"exception","subject":"Jour fixe (moved)","originalStart":"2024-04-01T07:00:00Z",
      "originalStartTimeZone":"W. Europe Standard Time","originalEndTimeZone":"W. Europe Standard Time",
      "start":{"dateTime":"2024-04-01T09:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2024-04-01T09:30:00.0000000","timeZone":"UTC"}}]
  })J");
}

TEST_CASE("ics: a series in a Windows zone keeps its local time across DST", "[sync][ics][tz]") {
  const std::string ics = EventToICalendar(BerlinSeries(), {"2024-04-15"});
  icscheck::IcsComponent cal;
  REQUIRE(icscheck::ParseIcs(ics, &cal) == "");  // every TZID has its VTIMEZONE
  auto lines = Lines(ics);
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VTIMEZONE") == 1);
  CHECK(Has(lines, "TZID:Europe/Berlin"));
  CHECK(Has(lines, "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"));
  CHECK(Has(lines, "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"));
  CHECK(Has(lines, "TZOFFSETFROM:+0100"));
  CHECK(Has(lines, "TZOFFSETTO:+0200"));
  // 08:00Z in March is 09:00 CET; the series repeats at 09:00 local.
  CHECK(Has(lines, "DTSTART;TZID=Europe/Berlin:20240318T090000"));
  CHECK(Has(lines, "DTEND;TZID=Europe/Berlin:20240318T093000"));
  CHECK(Has(lines, "X-M365-START-TIMEZONE:W. Europe Standard Time"));
  // UNTIL: the end date's last second in Berlin (CEST), in UTC.
  CHECK(Has(lines, "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;WKST=SU;UNTIL=20240520T215959Z"));
  // After the change: the exception's RECURRENCE-ID and the EXDATE are 09:00 local too.
  CHECK(Has(lines, "RECURRENCE-ID;TZID=Europe/Berlin:20240401T090000"));
  CHECK(Has(lines, "DTSTART;TZID=Europe/Berlin:20240401T110000"));
  CHECK(Has(lines, "EXDATE;TZID=Europe/Berlin:20240415T090000"));
  // Read back independently: the occurrences are 08:00Z before the change, 07:00Z after.
  auto events = cal.Children("VEVENT");
  REQUIRE(events.size() == 2);
  auto starts = icscheck::IcsWeeklyStarts(cal, *events[0]);
  REQUIRE(starts.size() == 10);
  CHECK(starts[0] == DaysFromCivil(2024, 3, 18) * 86400 + 8 * 3600);
  CHECK(starts[1] == DaysFromCivil(2024, 3, 25) * 86400 + 8 * 3600);
  CHECK(starts[2] == DaysFromCivil(2024, 4, 1) * 86400 + 7 * 3600);
  CHECK(starts[9] == DaysFromCivil(2024, 5, 20) * 86400 + 7 * 3600);
  auto rid = icscheck::IcsUtc(cal, *events[1]->Find("RECURRENCE-ID"));
  REQUIRE(rid);
  CHECK(*rid == starts[2]);
}

TEST_CASE("ics: start and end in their own zones, IANA names, zones given by Prefer", "[sync][ics][tz]") {
  // A flight: leaves New York, lands in Tokyo; Graph returned UTC.
  json ev = {{"id", "F1"}, {"subject", "Flight"}, {"originalStartTimeZone", "Eastern Standard Time"},
             {"originalEndTimeZone", "Asia/Tokyo"},
             {"start", {{"dateTime", "2024-07-01T16:00:00.0000000"}, {"timeZone", "UTC"}}},
             {"end", {{"dateTime", "2024-07-02T06:00:00.0000000"}, {"timeZone", "UTC"}}}};
  std::string ics = EventToICalendar(ev);
  icscheck::IcsComponent cal;
  REQUIRE(icscheck::ParseIcs(ics, &cal) == "");
  auto lines = Lines(ics);
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VTIMEZONE") == 2);
  CHECK(Has(lines, "DTSTART;TZID=America/New_York:20240701T120000"));
  CHECK(Has(lines, "DTEND;TZID=Asia/Tokyo:20240702T150000"));
  CHECK(Has(lines, "TZOFFSETTO:+0900"));
  CHECK(Has(lines, "TZOFFSETTO:-0400"));
  CHECK(EventStartDate(ev) == "2024-07-01");
  // The same instants, had Graph been asked for Pacific time (Prefer: outlook.timezone).
  ev["start"] = {{"dateTime", "2024-07-01T09:00:00.0000000"}, {"timeZone", "Pacific Standard Time"}};
  ev["end"] = {{"dateTime", "2024-07-01T23:00:00.0000000"}, {"timeZone", "Pacific Standard Time"}};
  CHECK(EventToICalendar(ev) == ics);
  // Tokyo 08:00 is the previous day in UTC: the file name uses the local date.
  json tokyo = {{"id", "T1"}, {"originalStartTimeZone", "Tokyo Standard Time"},
                {"start", {{"dateTime", "2024-07-01T23:00:00.0000000"}, {"timeZone", "UTC"}}},
                {"end", {{"dateTime", "2024-07-01T23:30:00.0000000"}, {"timeZone", "UTC"}}}};
  CHECK(EventStartDate(tokyo) == "2024-07-02");
  CHECK(Has(Lines(EventToICalendar(tokyo)), "DTSTART;TZID=Asia/Tokyo:20240702T080000"));
}

TEST_CASE("ics: unknown zones are written in UTC, never as an undefined TZID", "[sync][ics][tz]") {
  json ev = {{"id", "C1"}, {"subject", "Custom"}, {"originalStartTimeZone", "tzone://Microsoft/Custom"},
             {"originalEndTimeZone", "tzone://Microsoft/Custom"},
             {"start", {{"dateTime", "2024-07-01T16:00:00.0000000"}, {"timeZone", "UTC"}}},
             {"end", {{"dateTime", "2024-07-01T17:00:00.0000000"}, {"timeZone", "UTC"}}}};
  std::string ics = EventToICalendar(ev);
  icscheck::IcsComponent cal;
  REQUIRE(icscheck::ParseIcs(ics, &cal) == "");
  auto lines = Lines(ics);
  CHECK(Has(lines, "DTSTART:20240701T160000Z"));
  CHECK(Has(lines, "DTEND:20240701T170000Z"));
  CHECK(Has(lines, "X-M365-START-TIMEZONE:tzone://Microsoft/Custom"));
  CHECK(ics.find("TZID") == std::string::npos);
  // Known time, unknown target: converted to UTC.
  ev["start"] = {{"dateTime", "2024-07-01T18:00:00.0000000"}, {"timeZone", "W. Europe Standard Time"}};
  CHECK(Has(Lines(EventToICalendar(ev)), "DTSTART:20240701T160000Z"));
  // A time in a zone nobody knows cannot be converted: floating, the name kept.
  ev["start"] = {{"dateTime", "2024-07-01T18:00:00.0000000"}, {"timeZone", "Mars Standard Time"}};
  ev.erase("originalStartTimeZone");
  ics = EventToICalendar(ev);
  REQUIRE(icscheck::ParseIcs(ics, &cal) == "");
  CHECK(Has(Lines(ics), "DTSTART:20240701T180000"));
  CHECK(Has(Lines(ics), "X-M365-START-TIMEZONE:Mars Standard Time"));
  CHECK(ics.find("TZID") == std::string::npos);
}

TEST_CASE("ics: cancelled occurrences are found in the series' zone", "[sync][ics][tz]") {
  // Sydney 08:00 on Mondays is Sunday 21:00/22:00 UTC: originalStart dates in
  // UTC are a day early; in the series' zone they match the pattern's dates.
  json master = {{"originalStartTimeZone", "AUS Eastern Standard Time"},
                 {"recurrence", {{"pattern", {{"type", "weekly"}, {"interval", 1}, {"daysOfWeek", {"monday"}}}},
                                 {"range", {{"type", "numbered"}, {"startDate", "2024-03-25"}, {"numberOfOccurrences", 3}}}}}};
  const auto expected = ExpectedOccurrenceDates(master["recurrence"]);
  REQUIRE(expected == std::vector<std::string>{"2024-03-25", "2024-04-01", "2024-04-08"});
  // 2024-04-07 03:00 local is the end of Sydney's DST: 08:00 is +11 before, +10 after.
  const std::vector<std::string> originals = {"2024-03-24T21:00:00Z", "2024-04-07T22:00:00Z"};
  CHECK(OriginalStartDates(master, originals) == std::vector<std::string>{"2024-03-25", "2024-04-08"});
  CHECK(CancelledDates(expected, OriginalStartDates(master, originals)) == std::vector<std::string>{"2024-04-01"});
  CHECK(SeriesTimeZone(master) == "AUS Eastern Standard Time");
  // All-day series: the dates are dates, not instants to convert.
  master["isAllDay"] = true;
  CHECK(OriginalStartDates(master, {"2024-04-01T00:00:00Z"}) == std::vector<std::string>{"2024-04-01"});
}

}  // namespace
}  // namespace m365vault::sync
