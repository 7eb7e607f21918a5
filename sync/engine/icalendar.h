// sync/engine/icalendar.h
//
// Renders Graph calendar events as RFC 5545 iCalendar (.ics): a pure,
// stateless renderer used by the exchange collector's calendar traits.
//
//   VCALENDAR (VERSION 2.0, PRODID) with
//     one VEVENT for the event / series master: UID (iCalUId, else the id),
//       DTSTAMP, DTSTART/DTEND (UTC "Z" form when Graph's timeZone is UTC,
//       else TZID=<Graph's zone name> local form; VALUE=DATE for all-day),
//       SUMMARY, DESCRIPTION (body as text; HTML bodies are stripped),
//       LOCATION, ORGANIZER, ATTENDEE, CATEGORIES, CLASS, TRANSP, STATUS,
//       RRULE from the Graph recurrence pattern/range, EXDATE for cancelled
//       occurrences, X-M365-ID (the Graph id);
//     one VEVENT per exception occurrence (same UID, RECURRENCE-ID = its
//       originalStart in UTC).
//   CRLF line endings, lines folded at 75 octets (on UTF-8 boundaries),
//   TEXT values escaped (\\ \; \, \n).
//
// Cancelled occurrences are not a Graph v1.0 property the emulator serves:
// they are the occurrences the recurrence pattern predicts
// (ExpectedOccurrenceDates) that /events/{id}/instances does not return.
//
// Thread safety: all functions are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace m365vault::sync {

// TEXT escaping (RFC 5545 3.3.11): backslash, ';', ',' escaped, newlines
// as "\n", CR dropped.
std::string IcsEscape(std::string_view text);

// Appends `line` folded at 75 octets (continuation lines start with a
// space), never splitting a UTF-8 sequence, followed by CRLF.
void IcsAppendLine(std::string* out, std::string_view line);

// The RRULE value (without "RRULE:") for a Graph `recurrence` object, or ""
// when there is none or the pattern type is unknown.
//   daily             FREQ=DAILY;INTERVAL=n
//   weekly            FREQ=WEEKLY;INTERVAL=n;BYDAY=MO,WE;WKST=SU
//   absoluteMonthly   FREQ=MONTHLY;INTERVAL=n;BYMONTHDAY=d
//   relativeMonthly   FREQ=MONTHLY;INTERVAL=n;BYDAY=MO;BYSETPOS=1 (last: -1)
//   absoluteYearly    FREQ=YEARLY;INTERVAL=n;BYMONTH=m;BYMONTHDAY=d
//   relativeYearly    FREQ=YEARLY;INTERVAL=n;BYMONTH=m;BYDAY=..;BYSETPOS=..
// range endDate -> ;UNTIL=<endDate>T235959Z, numbered -> ;COUNT=n, noEnd -> -.
std::string RecurrenceToRrule(const nlohmann::json& recurrence);

// The dates ("YYYY-MM-DD", in the recurrence's own calendar) of the
// occurrences the recurrence predicts, in order, at most `cap` (noEnd series
// are cut there). Empty for unknown patterns.
std::vector<std::string> ExpectedOccurrenceDates(const nlohmann::json& recurrence, size_t cap = 1000);

// Dates of `expected` that none of the instances' originalStart (Graph
// "YYYY-MM-DDTHH:MM:SS[.fff]Z" strings) falls on.
std::vector<std::string> CancelledDates(const std::vector<std::string>& expected,
                                        const std::vector<std::string>& instance_original_starts);

// The whole .ics for one event. `cancelled_dates` ("YYYY-MM-DD") become
// EXDATEs at the master's start time; exception occurrences come from
// event["exceptionOccurrences"] ($expand=exceptionOccurrences).
std::string EventToICalendar(const nlohmann::json& event, const std::vector<std::string>& cancelled_dates = {});

// "<p>a &amp; b</p>" -> "a & b" (tags dropped, block ends as newlines,
// basic entities decoded, surrounding whitespace trimmed).
std::string HtmlToText(std::string_view html);

}  // namespace m365vault::sync
