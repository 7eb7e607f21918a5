'use strict';
// The generated tenant: users and the per-user mutable overlay. Everything is derived from
// (seed, user index, item index, version); only mutations are stored. A global sequence number
// orders changes; per-user change logs feed the delta engine.
const { h32, hf, guidFrom, BASE_EPOCH } = require('./util');

const FIRST = ['Adele', 'Alex', 'Zoë', 'Łukasz', 'Björn', 'Chloé', 'Diego', 'Emma', 'Grady', 'Henrietta', 'Isaiah', 'Johanna', 'Lee', 'Lidia', 'Megan', 'Miriam', 'Nestor', 'Patti', 'Pradeep', 'Søren', '太郎', 'Мария', 'مريم', 'José'];
const LAST = ['Vance', 'Wilber', 'Brooks', 'Åkesson', 'Müller', 'García', 'Lee', 'Stewart', 'Sanders', 'Holt', 'Lopez', 'Zelenko', 'Schmidt', '山田', 'Иванова', 'O\'Brien', 'Nguyễn', 'Kowalski'];
const ASCII_FOLD = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z']/g, '').replace(/'/g, '').toLowerCase();

class ItemSet {
  // count base items, distributed over containers by contiguous ranges.
  constructor(count, ranges) {
    this.count = count; this.ranges = ranges; // Map key -> [start, end)
    this.overlay = null; this.members = null; this.next = count;
  }
  baseContainer(idx) {
    for (const [k, [s, e]] of this.ranges) if (idx >= s && idx < e) return k;
    return null;
  }
  state(idx) { return this.overlay && this.overlay.get(idx); }
  containerOf(idx) {
    const o = this.state(idx);
    if (o) return o.deleted ? null : o.c;
    return idx < this.count ? this.baseContainer(idx) : null;
  }
  version(idx) { const o = this.state(idx); return o ? o.v : 0; }
  list(key) {
    if (this.members) return this.members.get(key) || [];
    const r = this.ranges.get(key);
    if (!r) return [];
    const [s, e] = r;
    return { length: e - s, at: (i) => s + i };
  }
  materialize() {
    if (this.members) return;
    this.overlay = this.overlay || new Map();
    this.members = new Map();
    for (const [k, [s, e]] of this.ranges) {
      const a = new Array(e - s); for (let i = s; i < e; i++) a[i - s] = i; this.members.set(k, a);
    }
  }
  _remove(key, idx) { const a = this.members.get(key); if (!a) return; const p = a.indexOf(idx); if (p >= 0) a.splice(p, 1); }
  _add(key, idx) { if (!this.members.has(key)) this.members.set(key, []); this.members.get(key).push(idx); }
  add(key, now) { this.materialize(); const idx = this.next++; this.overlay.set(idx, { c: key, v: 1, mtime: now, ctime: now }); this._add(key, idx); return idx; }
  edit(idx, now, extra) {
    this.materialize(); const c = this.containerOf(idx); if (c === null) return false;
    const o = this.overlay.get(idx) || { c, v: 0 };
    o.v++; o.mtime = now; if (extra) Object.assign(o, extra); this.overlay.set(idx, o); return true;
  }
  move(idx, to, now) {
    this.materialize(); const c = this.containerOf(idx); if (c === null) return null;
    const o = this.overlay.get(idx) || { c, v: 0 };
    o.c = to; o.mtime = now; o.moves = (o.moves || 0) + 1; this.overlay.set(idx, o); this._remove(c, idx); this._add(to, idx); return c;
  }
  del(idx, now) {
    this.materialize(); const c = this.containerOf(idx); if (c === null) return null;
    const o = this.overlay.get(idx) || { c, v: 0 };
    o.deleted = true; o.mtime = now; this.overlay.set(idx, o); this._remove(c, idx); return c;
  }
}

class Tenant {
  constructor(cfg) {
    this.cfg = cfg; // {seed, users, messagesPerUser, filesPerUser, contactsPerUser, maxFileMb}
    this.seed = cfg.seed;
    this.tenantId = guidFrom(cfg.seed, 'tenant');
    this.clientId = guidFrom(cfg.seed, 'client');
    this.domain = 'm365vault-emu.onmicrosoft.com';
    this.userStates = new Map();
    this.seq = 0; // global change sequence
    this.mask = h32(cfg.seed, 'umask');
    this.deleted = new Set(); // user indexes deleted from the directory (control op delete_user)
  }
  nextSeq() { return ++this.seq; }

  // ---- users ----
  userCount() { return this.cfg.users; }
  isDeleted(i) { return this.deleted.has(i); }
  // indexes of the users in the directory, in order
  liveUsers() { const out = []; for (let i = 0; i < this.cfg.users; i++) if (!this.deleted.has(i)) out.push(i); return out; }
  userGuid(i) {
    const g = guidFrom(this.seed, 'user', i);
    const tail = ((i ^ this.mask) >>> 0).toString(16).padStart(8, '0');
    return g.slice(0, 28) + tail;
  }
  // -1 for unknown users and, unless includeDeleted, deleted ones (Graph: 404)
  userIndex(idOrUpn, includeDeleted = false) {
    const i = this.anyUserIndex(idOrUpn);
    return i >= 0 && !includeDeleted && this.deleted.has(i) ? -1 : i;
  }
  anyUserIndex(idOrUpn) {
    if (idOrUpn == null) return -1;
    const s = String(idOrUpn);
    if (/^[0-9a-f-]{36}$/i.test(s)) {
      const i = (parseInt(s.slice(28), 16) ^ this.mask) >>> 0;
      if (i < this.cfg.users && this.userGuid(i) === s.toLowerCase()) return i;
      return -1;
    }
    const m = /^[a-z.]*?(\d+)@/i.exec(s);
    if (m) { const i = parseInt(m[1], 10); if (i < this.cfg.users && this.user(i).userPrincipalName.toLowerCase() === s.toLowerCase()) return i; }
    if (/^\d+$/.test(s)) { const i = parseInt(s, 10); if (i < this.cfg.users) return i; }
    return -1;
  }
  hasMailbox(i) { if (i === 0) return true; if (i === 1) return false; return hf(this.seed, 'mbx', i) >= 0.05; }
  hasDrive(i) { if (i === 0) return true; if (i === 2) return false; return hf(this.seed, 'drv', i) >= 0.05; }
  user(i) {
    const fn = FIRST[h32(this.seed, 'fn', i) % FIRST.length];
    const ln = LAST[h32(this.seed, 'ln', i) % LAST.length];
    const upn = `${ASCII_FOLD(fn) || 'user'}.${ASCII_FOLD(ln) || 'x'}${i}@${this.domain}`;
    const mbx = this.hasMailbox(i);
    return {
      businessPhones: i % 3 === 0 ? [] : [`+1 425 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`],
      displayName: `${fn} ${ln}`,
      givenName: fn,
      jobTitle: i % 4 === 0 ? null : ['Engineer', 'Paralegal', 'Product Manager', 'Director'][i % 4],
      mail: mbx ? upn : null,
      mobilePhone: null,
      officeLocation: i % 5 === 0 ? null : `${10 + (i % 30)}/${1000 + i}`,
      preferredLanguage: 'en-US',
      surname: ln,
      userPrincipalName: upn,
      id: this.userGuid(i),
      accountEnabled: h32(this.seed, 'dis', i) % 50 !== 0,
      userType: 'Member',
      createdDateTime: new Date(BASE_EPOCH - 86400000 * (400 + (i % 300))).toISOString().replace('.000', ''),
    };
  }

  // ---- per-user mutable state ----
  us(i) {
    let s = this.userStates.get(i);
    if (!s) {
      s = { log: [], mail: null, contacts: null, folderRenames: new Map(), drive: null };
      this.userStates.set(i, s);
    }
    return s;
  }
  log(i, ev) { ev.seq = this.nextSeq(); this.us(i).log.push(ev); return ev.seq; }
  // events since seq for user i, filtered
  eventsSince(i, seq, kind) {
    const s = this.userStates.get(i); if (!s) return [];
    const out = []; const L = s.log;
    // binary search first event with seq > seq
    let lo = 0, hi = L.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (L[m].seq <= seq) lo = m + 1; else hi = m; }
    for (let k = lo; k < L.length; k++) if (L[k].kind === kind) out.push(L[k]);
    return out;
  }
}

module.exports = { Tenant, ItemSet };
