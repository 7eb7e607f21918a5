'use strict';
// Calendars and events: single instances and weekly series masters (recurrence), with one
// exception (moved occurrence) and one cancelled occurrence per series, reachable via
// /events/{id}/instances?startDateTime=&endDateTime= and $expand=exceptionOccurrences.
// Time zones: like Graph without `Prefer: outlook.timezone`, start/end are always in UTC; the
// zone an event lives in is originalStartTimeZone/originalEndTimeZone (Windows names) and, for
// a series, recurrence.range.recurrenceTimeZone. Zoned events happen at 09:00 local and series
// repeat at local time, so their UTC times move across DST changes. Event 1 of calendar 0 (a
// weekly series) is in W. Europe and starts two weeks before the 2024-03-31 change; its
// exception (k=2) and cancelled occurrence (k=4) fall after it. Rules are coded by hand here
// (EU, US, south-east Australia), independently of the tz database the client uses.
const { gerr, rng, h32, iso, BASE_EPOCH, project, parseSelect } = require('./util');
const { encodeOid, decodeOid } = require('./ids');
const { ok, withContext, listing } = require('./collection');

const CALS = [[0, 'Calendar', true, 'auto'], [1, 'Team Events / Ops', false, 'lightBlue'], [2, 'Birthdays', false, 'lightGreen']];
const WEEK = 7 * 86400000;
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const OCC = 10; // occurrences per series

const DAY = 86400000, HOUR = 3600000;
// Sunday of `month` (0-based) of year y: nth (1-based) or last (-1), as a UTC midnight.
function sunday(y, month, nth) {
  if (nth > 0) { const d = Date.UTC(y, month, 1); return d + ((7 - new Date(d).getUTCDay()) % 7) * DAY + (nth - 1) * 7 * DAY; }
  const d = Date.UTC(y, month + 1, 0); return d - new Date(d).getUTCDay() * DAY;
}
// Windows name -> standard offset (minutes east) and DST rule.
const ZONES = {
  'W. Europe Standard Time': { std: 60, dst: 120, rule: 'eu' },
  'Eastern Standard Time': { std: -300, dst: -240, rule: 'us' },
  'AUS Eastern Standard Time': { std: 600, dst: 660, rule: 'au' },
  'Tokyo Standard Time': { std: 540 },
  'India Standard Time': { std: 330 },
  'tzone://Microsoft/Custom': { std: 0 }, // a legacy custom zone: no name a client can resolve
};
const ZONE_PICK = ['UTC', 'UTC', 'UTC', 'W. Europe Standard Time', 'Eastern Standard Time', 'Tokyo Standard Time',
  'AUS Eastern Standard Time', 'India Standard Time', 'tzone://Microsoft/Custom'];
function offsetAt(zone, t) {
  const z = ZONES[zone]; if (!z) return 0;
  if (!z.rule) return z.std;
  const y = new Date(t).getUTCFullYear(); let on, off;
  if (z.rule === 'eu') { on = sunday(y, 2, -1) + HOUR; off = sunday(y, 9, -1) + HOUR; return t >= on && t < off ? z.dst : z.std; }
  if (z.rule === 'us') { on = sunday(y, 2, 2) + 2 * HOUR - z.std * 60000; off = sunday(y, 10, 1) + 2 * HOUR - z.dst * 60000; return t >= on && t < off ? z.dst : z.std; }
  on = sunday(y, 9, 1) + 2 * HOUR - z.std * 60000; off = sunday(y, 3, 1) + 3 * HOUR - z.dst * 60000; // au: DST over the new year
  return t >= off && t < on ? z.std : z.dst;
}
// Local wall time (ms, as if UTC) -> UTC ms; the first of two, the offset before a gap.
function localToUtc(zone, wall) {
  const before = offsetAt(zone, wall - 2 * DAY), after = offsetAt(zone, wall + 2 * DAY);
  const a = wall - before * 60000, b = wall - after * 60000;
  const okA = offsetAt(zone, a) === before, okB = offsetAt(zone, b) === after;
  if (okA && okB) return Math.min(a, b);
  return okB && !okA ? b : a;
}
const utcToLocal = (zone, t) => t + offsetAt(zone, t) * 60000;

class Calendars {
  constructor(tenant) { this.t = tenant; this.seed = tenant.seed; }
  count(cal) { const n = this.t.cfg.eventsPerUser; return cal === 0 ? n : cal === 1 ? Math.ceil(n / 3) : 0; }
  // event idx space: calendar 0 -> [0,n), calendar 1 -> [1000000, ...)
  eventsOf(cal) { const n = this.count(cal); const b = cal * 1000000; return { length: n, at: (i) => b + i }; }
  calOfEvent(e) { return Math.floor(e / 1000000); }
  isMaster(e) { return e % 5 === 1; }
  zone(u, e) { return e === 1 ? 'W. Europe Standard Time' : ZONE_PICK[h32(this.seed, 'tz', u, e) % ZONE_PICK.length]; }
  // UTC start (ms). Zoned events: 09:00 local; event 1: a Monday..Friday two weeks before the EU DST change.
  start(u, e) {
    const utc = Math.floor((BASE_EPOCH - 86400000 * 60 + (h32(this.seed, 'ev', u, e) % 90) * 86400000) / 3600000) * 3600000 + 9 * 3600000 % 86400000;
    const z = this.zone(u, e); if (z === 'UTC') return utc;
    const day = e === 1 ? Date.UTC(2024, 2, 18) + (h32(this.seed, 'dst', u) % 5) * DAY : Math.floor(utc / DAY) * DAY;
    return localToUtc(z, day + 9 * HOUR);
  }
  // UTC start of occurrence k as the series planned it: same local time, k weeks later.
  occStart(u, e, k) { const z = this.zone(u, e); return localToUtc(z, utcToLocal(z, this.start(u, e)) + WEEK * k); }
  calId(u, c) { return encodeOid('L', false, u, c, 0); }
  eventId(u, e) { return encodeOid('E', false, u, e, 0); }
  occId(u, e, k) { return encodeOid('O', false, u, e, k); }
  calJson(u, c) {
    const [k, name, def, color] = CALS[c]; const me = this.t.user(u);
    return { id: this.calId(u, k), name, color, hexColor: '', isDefaultCalendar: def, changeKey: `cal${k}`, canShare: true, canViewPrivateItems: true, canEdit: true,
      allowedOnlineMeetingProviders: ['teamsForBusiness'], defaultOnlineMeetingProvider: 'teamsForBusiness', isTallyingResponses: true, isRemovable: !def,
      owner: { name: me.displayName, address: me.userPrincipalName } };
  }
  subject(u, e) {
    const i = e % 1000000;
    if (i === 0) return '';
    if (i === 2) return 'Planung — Überprüfung 日本 \ud800';
    const r = rng(this.seed, 'evs', u, e);
    return r.pick(['Standup', 'Weekly sync', '1:1', 'Design review', 'Offsite', 'Lunch & learn']) + (this.isMaster(e) ? ' (weekly)' : '');
  }
  base(u, e, type) {
    const st = this.start(u, e); const dur = 1800000 * (1 + (e % 3)); const me = this.t.user(u);
    const ck = Buffer.from(`DwAAABYAAAD${u}.${e}`).toString('base64');
    return { '@odata.etag': `W/"${ck}"`, id: this.eventId(u, e), createdDateTime: iso(st - WEEK * 4), lastModifiedDateTime: iso(st - WEEK * 3), changeKey: ck,
      categories: [], transactionId: null, originalStartTimeZone: this.zone(u, e), originalEndTimeZone: this.zone(u, e), iCalUId: `040000008200E00074C5B7101A82E008${(h32(this.seed, 'ical', u, e) >>> 0).toString(16).toUpperCase().padStart(8, '0')}`,
      reminderMinutesBeforeStart: 15, isReminderOn: true, hasAttachments: false, subject: this.subject(u, e), bodyPreview: 'Agenda: review the plan',
      importance: 'normal', sensitivity: 'normal', isAllDay: false, isCancelled: false, isOrganizer: true, responseRequested: true, seriesMasterId: null,
      showAs: 'busy', type, webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(this.eventId(u, e))}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null, isOnlineMeeting: false, onlineMeetingProvider: 'unknown', allowNewTimeProposals: true, isDraft: false, hideAttendees: false,
      recurrence: null, responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
      body: { contentType: 'html', content: '<html><body>Agenda: review the plan</body></html>' },
      start: { dateTime: iso(st).replace('Z', '.0000000'), timeZone: 'UTC' }, end: { dateTime: iso(st + dur).replace('Z', '.0000000'), timeZone: 'UTC' },
      location: { displayName: 'Room 1/42 "Fjord"', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} }, locations: [],
      attendees: [{ type: 'required', status: { response: 'none', time: '0001-01-01T00:00:00Z' }, emailAddress: { name: 'Team', address: 'team@contoso.test' } }],
      organizer: { emailAddress: { name: me.displayName, address: me.userPrincipalName } } };
  }
  eventJson(u, e) {
    if (!this.isMaster(e)) return this.base(u, e, 'singleInstance');
    const o = this.base(u, e, 'seriesMaster'); const z = this.zone(u, e); const local = utcToLocal(z, this.start(u, e));
    // Pattern and range dates are in the recurrence's zone.
    o.recurrence = { pattern: { type: 'weekly', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: [DAYS[new Date(local).getUTCDay()]], firstDayOfWeek: 'sunday', index: 'first' },
      range: { type: 'endDate', startDate: iso(local).slice(0, 10), endDate: iso(local + WEEK * (OCC - 1)).slice(0, 10), recurrenceTimeZone: z, numberOfOccurrences: 0 } };
    return o;
  }
  // occurrence k of series e (k=2 exception moved +2h, k=4 cancelled -> null)
  occurrence(u, e, k) {
    if (k === 4 || k < 0 || k >= OCC) return null;
    const o = this.base(u, e, k === 2 ? 'exception' : 'occurrence');
    const st = this.occStart(u, e, k) + (k === 2 ? 7200000 : 0); const dur = 1800000 * (1 + (e % 3));
    o.id = this.occId(u, e, k); o.seriesMasterId = this.eventId(u, e);
    o.start = { dateTime: iso(st).replace('Z', '.0000000'), timeZone: 'UTC' }; o.end = { dateTime: iso(st + dur).replace('Z', '.0000000'), timeZone: 'UTC' };
    o.originalStart = iso(this.occStart(u, e, k));
    if (k === 2) o.subject = this.subject(u, e) + ' (moved)';
    return o;
  }
  exceptions(u, e) { return this.isMaster(e) ? [this.occurrence(u, e, 2)] : []; }
}

function calOf(ctx, u, s) {
  const d = decodeOid(s);
  if (!d || d.type !== 'L') return { err: gerr(400, 'ErrorInvalidIdMalformed', 'Id is malformed.') };
  if (d.user !== u || d.a >= CALS.length) return { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') };
  return { cal: d.a };
}
function eventOf(ctx, u, s) {
  const d = decodeOid(s);
  if (!d || (d.type !== 'E' && d.type !== 'O')) return { err: gerr(400, 'ErrorInvalidIdMalformed', 'Id is malformed.') };
  const c = ctx.calendars.calOfEvent(d.a);
  if (d.user !== u || c >= CALS.length || d.a % 1000000 >= ctx.calendars.count(c)) return { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') };
  if (d.type === 'O') { const o = ctx.calendars.occurrence(u, d.a, d.b); return o ? { occ: o } : { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') }; }
  return { e: d.a };
}

function routes() {
  const R = [];
  const expandEx = (req) => /exceptionOccurrences/i.test(req.query.get('$expand') || '');
  const render = (ctx, req, u) => (e) => { const o = ctx.calendars.eventJson(u, e); if (expandEx(req)) o.exceptionOccurrences = ctx.calendars.exceptions(u, e); return o; };
  R.push({ p: 'users/:u/calendars', svc: 'outlook', kind: 'calendar', h: (ctx, req, m) => listing(ctx, req, { what: 'cals', key: `${m.u}`, def: 10, max: 1000, outlook: true, frag: 'calendars',
    path: `users/${m.uRaw}/calendars`, build: () => ({ list: [0, 1, 2], render: (c) => ctx.calendars.calJson(m.u, c) }) }) });
  R.push({ p: 'users/:u/calendar', svc: 'outlook', kind: 'calendar', h: (ctx, req, m) => ok(withContext(ctx, 'calendars/$entity', ctx.calendars.calJson(m.u, 0))) });
  R.push({ p: 'users/:u/calendars/:c', svc: 'outlook', kind: 'calendar', h: (ctx, req, m) => { const c = calOf(ctx, m.u, m.c); if (c.err) return c.err; return ok(withContext(ctx, 'calendars/$entity', ctx.calendars.calJson(m.u, c.cal))); } });
  const events = (ctx, req, m, cal, path) => listing(ctx, req, { what: 'events', key: `${m.u}:${cal}`, def: 10, max: 1000, outlook: true, frag: 'events', path,
    build: () => ({ list: ctx.calendars.eventsOf(cal), render: render(ctx, req, m.u) }) });
  R.push({ p: 'users/:u/calendars/:c/events', svc: 'outlook', kind: 'events', h: (ctx, req, m) => { const c = calOf(ctx, m.u, m.c); if (c.err) return c.err; return events(ctx, req, m, c.cal, `users/${m.uRaw}/calendars/${encodeURIComponent(m.c)}/events`); } });
  R.push({ p: 'users/:u/events', svc: 'outlook', kind: 'events', h: (ctx, req, m) => events(ctx, req, m, 0, `users/${m.uRaw}/events`) });
  const one = (ctx, req, m) => {
    const r = eventOf(ctx, m.u, m.e); if (r.err) return r.err;
    return ok(withContext(ctx, 'events/$entity', project(r.occ || render(ctx, req, m.u)(r.e), parseSelect(req.query))));
  };
  R.push({ p: 'users/:u/events/:e', svc: 'outlook', kind: 'events', h: one });
  R.push({ p: 'users/:u/calendars/:c/events/:e', svc: 'outlook', kind: 'events', h: one });
  const instances = (ctx, req, m) => {
    const r = eventOf(ctx, m.u, m.e); if (r.err) return r.err;
    const s = Date.parse(req.query.get('startDateTime') || ''), en = Date.parse(req.query.get('endDateTime') || '');
    if (!isFinite(s) || !isFinite(en)) return gerr(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
    const cals = ctx.calendars; const list = [];
    if (r.e !== undefined && cals.isMaster(r.e)) {
      for (let k = 0; k < OCC; k++) { const o = cals.occurrence(m.u, r.e, k); if (!o) continue; const t = Date.parse(o.start.dateTime.slice(0, 19) + 'Z'); if (t >= s && t < en) list.push(k); }
    }
    return listing(ctx, req, { what: 'instances', key: `${m.u}:${m.e}:${s}:${en}`, def: 10, max: 1000, outlook: true, frag: 'events',
      path: `users/${m.uRaw}/events/${encodeURIComponent(m.e)}/instances`, build: () => ({ list, render: (k) => cals.occurrence(m.u, r.e, k) }) });
  };
  R.push({ p: 'users/:u/events/:e/instances', svc: 'outlook', kind: 'events', h: instances });
  R.push({ p: 'users/:u/calendars/:c/events/:e/instances', svc: 'outlook', kind: 'events', h: instances });
  return R;
}

module.exports = { Calendars, routes, offsetAt, localToUtc, ZONES, OCC };
