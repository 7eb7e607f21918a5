'use strict';
// Calendar events in Windows time zones: the hand-coded DST rules against ICU, UTC times with
// originalStartTimeZone, and the W. Europe series whose exception falls after a DST change.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { startEmulator } = require('../testkit');
const { offsetAt, localToUtc } = require('../calendar');

const IANA = { 'W. Europe Standard Time': 'Europe/Berlin', 'Eastern Standard Time': 'America/New_York', 'AUS Eastern Standard Time': 'Australia/Sydney',
  'Tokyo Standard Time': 'Asia/Tokyo', 'India Standard Time': 'Asia/Kolkata' };

// Minutes east of UTC per ICU (Node's Intl), independent of the emulator's rules.
const formats = new Map();
function icuOffset(iana, t) {
  if (!formats.has(iana)) formats.set(iana, new Intl.DateTimeFormat('en-US', { timeZone: iana, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }));
  const f = formats.get(iana);
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return Math.round((Date.UTC(+p.year, p.month - 1, +p.day, +p.hour, +p.minute) - Math.floor(t / 60000) * 60000) / 60000);
}

test('zone rules agree with ICU every 3 hours of 2023-2026; local times round-trip', () => {
  for (const [win, iana] of Object.entries(IANA)) {
    let bad = 0;
    for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2027, 0, 1); t += 3 * 3600000) if (offsetAt(win, t) !== icuOffset(iana, t)) bad++;
    assert.strictEqual(bad, 0, win);
  }
  const w = 'W. Europe Standard Time';
  assert.strictEqual(localToUtc(w, Date.UTC(2024, 2, 18, 9)), Date.UTC(2024, 2, 18, 8));
  assert.strictEqual(localToUtc(w, Date.UTC(2024, 3, 1, 9)), Date.UTC(2024, 3, 1, 7));
  assert.strictEqual(localToUtc(w, Date.UTC(2024, 2, 31, 2, 30)), Date.UTC(2024, 2, 31, 1, 30)); // gap: the offset before
  assert.strictEqual(localToUtc(w, Date.UTC(2024, 9, 27, 2, 30)), Date.UTC(2024, 9, 27, 0, 30)); // overlap: the first
});

let emu, u;
before(async () => {
  emu = await startEmulator(['--users', '4', '--messages-per-user', '2', '--files-per-user', '2', '--events-per-user', '30', '--seed', '11']);
  u = (await emu.users())[0].id;
});
after(async () => { await emu.stop(); });

test('events: UTC times, Windows zone names, a weekly W. Europe series across the DST change', async () => {
  const cal = (await emu.follow(`users/${u}/calendars`)).items.find((c) => c.isDefaultCalendar);
  const events = (await emu.follow(`users/${u}/calendars/${encodeURIComponent(cal.id)}/events?$expand=exceptionOccurrences`)).items;
  assert.strictEqual(events.length, 30);
  for (const e of events) { assert.strictEqual(e.start.timeZone, 'UTC'); assert.strictEqual(e.end.timeZone, 'UTC'); }
  const zones = new Set(events.map((e) => e.originalStartTimeZone));
  assert.ok(zones.has('UTC')); assert.ok([...zones].filter((z) => IANA[z]).length >= 2, [...zones].join());
  // Zoned events start at 09:00 local.
  for (const e of events.filter((x) => IANA[x.originalStartTimeZone])) {
    const t = Date.parse(e.start.dateTime.slice(0, 19) + 'Z');
    assert.strictEqual(new Date(t + icuOffset(IANA[e.originalStartTimeZone], t) * 60000).getUTCHours(), 9, e.subject);
  }
  const s = events[1];
  assert.strictEqual(s.type, 'seriesMaster');
  assert.strictEqual(s.originalStartTimeZone, 'W. Europe Standard Time');
  assert.strictEqual(s.recurrence.range.recurrenceTimeZone, 'W. Europe Standard Time');
  assert.strictEqual(s.start.dateTime.slice(11, 19), '08:00:00'); // 09:00 CET
  assert.ok(s.start.dateTime.slice(0, 10) >= '2024-03-18' && s.start.dateTime.slice(0, 10) <= '2024-03-22');
  const inst = (await emu.follow(`users/${u}/events/${encodeURIComponent(s.id)}/instances?startDateTime=2024-03-01T00:00:00Z&endDateTime=2024-07-01T00:00:00Z`)).items;
  assert.strictEqual(inst.length, 9); // 10 planned, 1 cancelled
  const byK = inst.map((o) => [Math.round((Date.parse(o.originalStart) - Date.parse(s.start.dateTime.slice(0, 19) + 'Z')) / (7 * 86400000)), o]);
  for (const [k, o] of byK) {
    assert.strictEqual(o.originalStart.slice(11, 19), k < 2 ? '08:00:00' : '07:00:00', `k=${k}`); // 09:00 local: CET, then CEST
    if (o.type === 'exception') { assert.strictEqual(k, 2); assert.strictEqual(o.start.dateTime.slice(11, 19), '09:00:00'); }
  }
  assert.ok(!byK.some(([k]) => k === 4));
  assert.strictEqual(s.exceptionOccurrences.length, 1);
  assert.strictEqual(s.exceptionOccurrences[0].originalStart.slice(11, 19), '07:00:00');
  // Deterministic from the seed: the same listing again.
  const again = (await emu.follow(`users/${u}/calendars/${encodeURIComponent(cal.id)}/events`)).items;
  assert.deepStrictEqual(again.map((e) => [e.id, e.start.dateTime, e.originalStartTimeZone]), events.map((e) => [e.id, e.start.dateTime, e.originalStartTimeZone]));
  const truth = (await emu.truth('?kinds=calendar')).filter((x) => x.type === 'event' && x.id === s.id)[0];
  assert.strictEqual(truth.timeZone, 'W. Europe Standard Time');
  assert.strictEqual(truth.occurrenceStarts.length, 10);
  assert.strictEqual(truth.occurrenceStarts[2].slice(11), '07:00:00Z');
});
