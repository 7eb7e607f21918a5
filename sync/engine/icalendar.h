// sync/engine/icalendar.h
//
// Renders Graph calendar events as RFC 5545 iCalendar (.ics): a pure,
// stateless renderer used by the exchange collector's calendar traits.
//
//   VCALENDAR (VERSION 2.0, PRODID) with
//     one VEVENT for the event / series master: UID (iCalUId, else the id),
//       DTSTAMP, DTSTART/DTEND in the event's own zone (below; VALUE=DATE
//       for all-day),
//       SUMMARY, DESCRIPTION (body as text; HTML bodies are stripped),
//       LOCATION, ORGANIZER, ATTENDEE, CATEGORIES, CLASS, TRANSP, STATUS,
//       RRULE from the Graph recurrence pattern/range, EXDATE for cancelled
//       occurrences, X-M365-ID (the Graph id);
//     one VEVENT per exception occurrence (same UID, RECURRENCE-ID = its
//       originalStart in UTC).
//   one VTIMEZONE per TZID used (sync/engine/time_zone.h), covering every
//     instant written in it.
//   CRLF line endings, lines folded at 75 octets (on UTF-8 boundaries),
//   TEXT values escaped (\\ \; \, \n).
//
// Time zones. Graph returns start/end in UTC unless asked otherwise (we do
// not ask: `Prefer: outlook.timezone` names one zone per request), and names
// the zone an event lives in: originalStartTimeZone / originalEndTimeZone,
// and for a series recurrence.range.recurrenceTimeZone (the zone its dates
// and times repeat in). Those names (Windows names such as "W. Europe
// Standard Time", or IANA names) are resolved through the system tz
// database; DTSTART/DTEND are written as local time with TZID=<IANA name>,
// so that a weekly 09:00 meeting stays at 09:00 local across DST. The
// series' RRULE UNTIL is the UTC instant of its end date's last second in
// that zone, EXDATEs and RECURRENCE-IDs use the master's TZID. UTC events
// keep the "Z" form. A zone name that cannot be resolved is never written as
// a TZID: its times are written in UTC (converted), and Graph's names are
// kept in X-M365-START-TIMEZONE / X-M365-END-TIMEZONE (written whenever the
// zone is not UTC).
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
// range endDate -> ;UNTIL=<endDate>T235959Z (or ;UNTIL=<until> when
// `until` is given), numbered -> ;COUNT=n, noEnd -> -.
std::string RecurrenceToRrule(const nlohmann::json& recurrence, const std::string& until = "");

// The dates ("YYYY-MM-DD", in the recurrence's own calendar) of the
// occurrences the recurrence predicts, in order, at most `cap` (noEnd series
// are cut there). Empty for unknown patterns.
std::vector<std::string> ExpectedOccurrenceDates(const nlohmann::json& recurrence, size_t cap = 1000);

// Dates of `expected` that none of the instances' originalStart (Graph
// "YYYY-MM-DDTHH:MM:SS[.fff]Z" strings) falls on.
std::vector<std::string> CancelledDates(const std::vector<std::string>& expected,
                                        const std::vector<std::string>& instance_original_starts);

// The Graph zone name a series repeats in (recurrenceTimeZone, else
// originalStartTimeZone, else start.timeZone).
std::string SeriesTimeZone(const nlohmann::json& master);

// Graph's originalStart values (UTC) as dates ("YYYY-MM-DD") in the series'
// zone, the calendar ExpectedOccurrenceDates counts in (UTC when the zone is
// unknown; as given for all-day series). Malformed values are skipped.
std::vector<std::string> OriginalStartDates(const nlohmann::json& master,
                                            const std::vector<std::string>& original_starts);

// The event's start date ("YYYY-MM-DD") in its own zone (as written in
// DTSTART), for file names.
std::string EventStartDate(const nlohmann::json& event);

// The whole .ics for one event. `cancelled_dates` ("YYYY-MM-DD") become
// EXDATEs at the master's start time; exception occurrences come from
// event["exceptionOccurrences"] ($expand=exceptionOccurrences).
std::string EventToICalendar(const nlohmann::json& event, const std::vector<std::string>& cancelled_dates = {});

// "<p>a &amp; b</p>" -> "a & b" (tags dropped, block ends as newlines,
// basic entities decoded, surrounding whitespace trimmed).
std::string HtmlToText(std::string_view html);

}  // namespace m365vault::sync
