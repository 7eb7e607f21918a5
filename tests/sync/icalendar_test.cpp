// tests/sync/icalendar_test.cpp: the pure Graph event -> iCalendar renderer.
#include <catch2/catch.hpp>

#include "sync/engine/icalendar.h"

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

TEST_CASE("ics: time zones, all-day events, missing fields", "[sync][ics]") {
  json ev = {{"id", "E1"},
             {"subject", ""},
             {"start", {{"dateTime", "2024-05-06T09:00:00.0000000"}, {"timeZone", "W. Europe Standard Time"}}},
             {"end", {{"dateTime", "2024-05-06T10:00:00.0000000"}, {"timeZone", "W. Europe Standard Time"}}}};
  auto lines = Lines(EventToICalendar(ev));
  CHECK(Has(lines, "UID:E1"));  // no iCalUId: the id
  CHECK(Has(lines, "DTSTART;TZID=\"W. Europe Standard Time\":20240506T090000"));
  CHECK(Has(lines, "SUMMARY:"));
  CHECK(Has(lines, "DTSTAMP:19700101T000000Z"));
  ev["isAllDay"] = true;
  ev["body"] = {{"contentType", "text"}, {"content", "plain\nbody"}};
  lines = Lines(EventToICalendar(ev));
  CHECK(Has(lines, "DTSTART;VALUE=DATE:20240506"));
  CHECK(Has(lines, "DESCRIPTION:plain\\nbody"));
  CHECK(HtmlToText("<div>a&nbsp;b</div><br/>c &lt;d&gt;") == "a b\n\nc <d>");
}

}  // namespace
}  // namespace m365vault::sync
