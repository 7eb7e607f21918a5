'use strict';
// Directory groups: generated from (seed, user count), like the users. A fixed set of named groups
// covers what trips up clients (hostile names with glob characters, nesting three levels deep, a
// group of devices only, an empty group, a distribution list nesting a Microsoft 365 group, users
// without a mailbox or drive as members); "Project N" groups add seeded variety, and "All
// Company" holds every user (hundreds in a big tenant, so member lists page). Memberships are
// built on first use (no cost at startup) and can be changed through the control API.
//
// Endpoints (Graph v1.0 semantics): /groups (paged, $top <= 999, $select), /groups/{id},
// /groups/{id}/members and /transitiveMembers (directoryObjects with @odata.type; transitive =
// a flat list of every nested member, nested groups included, each once), and the OData casts
// .../microsoft.graph.user|group|device, which Graph only serves as an advanced query
// (ConsistencyLevel: eventual and $count=true, else 400 Request_UnsupportedQuery).
const { h32, guidFrom, gerr, BASE_EPOCH, iso, project, parseSelect } = require('./util');
const { listing, ok, withContext } = require('./collection');

const DEVICES = 12;
// kind: 'm365' (Unified), 'security', 'mailsec' (mail-enabled security), 'dl' (distribution list)
// users(i, t): direct user membership; groups: nested group indexes; devices: device indexes
const FIXED = [
  { name: 'All Company', nick: 'allcompany', kind: 'm365', users: () => true },
  { name: 'Sales', nick: 'sales', kind: 'm365', users: (i, t) => h32(t.seed, 'g-sales', i) % 5 === 0, groups: [2] },
  { name: 'Sales \u2013 EMEA', nick: null, kind: 'security', users: (i, t) => h32(t.seed, 'g-emea', i) % 7 === 1, groups: [3] },
  { name: 'Sales EMEA Interns', nick: null, kind: 'security', users: (i, t) => i === 1 || i === 2 || h32(t.seed, 'g-int', i) % 11 === 2 },
  { name: 'Engineering', nick: 'engineering', kind: 'm365', users: (i, t) => h32(t.seed, 'g-eng', i) % 3 === 1, devices: [0, 1] },
  { name: 'Finance & Legal <Board> "Exec"', nick: 'finance.legal', kind: 'mailsec', users: (i, t) => h32(t.seed, 'g-fin', i) % 13 === 3 },
  { name: 'Zo\u00eb\'s *Team* [ops]?', nick: 'zoes-team', kind: 'm365', users: (i, t) => h32(t.seed, 'g-zoe', i) % 9 === 4 },
  { name: '\u6771\u4eac \u30c1\u30fc\u30e0 / \u00dcn\u00efc\u00f6d\u00e9', nick: 'tokyo-team', kind: 'm365', users: (i, t) => h32(t.seed, 'g-tyo', i) % 8 === 5 },
  { name: 'Empty Group', nick: null, kind: 'security', users: () => false },
  { name: 'Conference Room Devices', nick: null, kind: 'security', users: () => false, devices: [2, 3, 4, 5, 6, 7] },
  { name: 'Newsletter DL', nick: 'newsletter', kind: 'dl', users: (i, t) => h32(t.seed, 'g-news', i) % 6 === 0, groups: [4] },
];

class Groups {
  constructor(tenant) { this.t = tenant; this.defs = null; this.byId = null; }
  build() {
    if (this.defs) return;
    const t = this.t; const n = t.userCount();
    this.defs = FIXED.map((f, g) => ({ ...f, g, direct: null }));
    const projects = Math.max(2, Math.ceil(n / 25));
    for (let p = 0; p < projects; p++) {
      const size = 2 + (h32(t.seed, 'g-proj-size', p) % 6);
      const start = h32(t.seed, 'g-proj', p) % n;
      const members = new Set(); for (let k = 0; k < size && k < n; k++) members.add((start + k * 3) % n);
      this.defs.push({ name: `Project ${p}`, nick: `project-${p}`, kind: 'm365', users: (i) => members.has(i), g: this.defs.length, direct: null });
    }
    this.byId = new Map(this.defs.map((d) => [this.id(d.g), d.g]));
  }
  count() { this.build(); return this.defs.length; }
  id(g) { return guidFrom(this.t.seed, 'group', g); }
  deviceId(d) { return guidFrom(this.t.seed, 'device', d); }
  index(id) { this.build(); const g = this.byId.get(String(id).toLowerCase()); return g === undefined ? -1 : g; }
  json(g) {
    this.build(); const d = this.defs[g]; const t = this.t;
    const mailEnabled = d.kind !== 'security';
    return {
      id: this.id(g),
      createdDateTime: iso(BASE_EPOCH - 86400000 * (200 + g)),
      description: d.kind === 'dl' ? 'Distribution list' : null,
      displayName: d.name,
      groupTypes: d.kind === 'm365' ? ['Unified'] : [],
      mail: mailEnabled ? `${d.nick}@${t.domain}` : null,
      mailEnabled,
      mailNickname: d.nick || `sg-${g}`,
      securityEnabled: d.kind === 'security' || d.kind === 'mailsec',
      visibility: d.kind === 'm365' ? (g % 2 ? 'Private' : 'Public') : null,
      resourceProvisioningOptions: [],
    };
  }
  // direct members: [{type:'user'|'group'|'device', i}], users first (by index), then groups, then devices
  direct(g) {
    this.build(); const d = this.defs[g];
    if (!d.direct) {
      const out = [];
      for (let i = 0; i < this.t.userCount(); i++) if (d.users(i, this.t)) out.push({ type: 'user', i });
      for (const x of d.groups || []) out.push({ type: 'group', i: x });
      for (const x of d.devices || []) out.push({ type: 'device', i: x % DEVICES });
      d.direct = out;
    }
    return d.direct;
  }
  // every nested member once (breadth first; nested groups included; cycles tolerated)
  transitive(g) {
    const out = []; const seen = new Set(); const queue = [g]; const visited = new Set([g]);
    while (queue.length) {
      const cur = queue.shift();
      for (const m of this.direct(cur)) {
        const key = `${m.type}:${m.i}`;
        if (seen.has(key) || (m.type === 'group' && m.i === g)) continue;
        seen.add(key); out.push(m);
        if (m.type === 'group' && !visited.has(m.i)) { visited.add(m.i); queue.push(m.i); }
      }
    }
    return out;
  }
  transitiveUsers(g) { return this.transitive(g).filter((m) => m.type === 'user').map((m) => m.i); }
  memberJson(m) {
    if (m.type === 'user') return { '@odata.type': '#microsoft.graph.user', ...this.t.user(m.i) };
    if (m.type === 'group') return { '@odata.type': '#microsoft.graph.group', ...this.json(m.i) };
    return { '@odata.type': '#microsoft.graph.device', id: this.deviceId(m.i), accountEnabled: true, deviceId: guidFrom(this.t.seed, 'device-hw', m.i),
      displayName: `ROOM-${String(m.i).padStart(3, '0')}`, operatingSystem: m.i % 2 ? 'Windows' : 'iOS' };
  }
  // control API: change direct user membership (the next listing shows it)
  setMember(g, u, add) {
    const list = this.direct(g); const p = list.findIndex((m) => m.type === 'user' && m.i === u);
    if (add && p < 0) { list.push({ type: 'user', i: u }); list.sort((a, b) => (a.type === b.type ? a.i - b.i : (a.type === 'user' ? -1 : b.type === 'user' ? 1 : 0))); return true; }
    if (!add && p >= 0) { list.splice(p, 1); return true; }
    return false;
  }
}

const CASTS = { 'microsoft.graph.user': 'user', 'microsoft.graph.group': 'group', 'microsoft.graph.device': 'device' };

function groupOf(ctx, m) {
  const g = ctx.groups.index(m.g);
  if (g < 0) return { err: gerr(404, 'Request_ResourceNotFound', `Resource '${m.g}' does not exist or one of its queried reference-property objects are not present.`) };
  return { g };
}

function unsupportedQuery(req) {
  for (const q of ['$filter', '$search', '$orderby', '$expand']) {
    if (req.query.get(q) != null) return gerr(400, 'Request_UnsupportedQuery', `The emulator does not support ${q} on directory objects.`);
  }
  return null;
}

function members(transitive) {
  return (ctx, req, m) => {
    const r = groupOf(ctx, m); if (r.err) return r.err;
    const bad = unsupportedQuery(req); if (bad) return bad;
    let cast = null;
    if (m.cast !== undefined) {
      cast = CASTS[m.cast.toLowerCase()];
      if (!cast) return gerr(400, 'BadRequest', `Resource not found for the segment '${m.cast}'.`);
      const cl = String(req.headers.consistencylevel || '').toLowerCase();
      // the nextLink carries the query ($count) in its token; the header must be sent on every page
      const counted = req.query.get('$skiptoken') || String(req.query.get('$count')).toLowerCase() === 'true';
      if (cl !== 'eventual' || !counted) {
        return gerr(400, 'Request_UnsupportedQuery', 'OData cast on a member collection is an advanced query: send ConsistencyLevel: eventual and $count=true.');
      }
    }
    const rel = transitive ? 'transitiveMembers' : 'members';
    const path = `groups/${ctx.groups.id(r.g)}/${rel}${cast ? `/${m.cast}` : ''}`;
    const resp = listing(ctx, req, { what: `group_${rel}`, key: `${r.g}:${cast || ''}`, def: 100, max: 999, rejectTop: true,
      frag: cast ? `${cast}s` : 'directoryObjects', path,
      build: () => {
        let list = transitive ? ctx.groups.transitive(r.g) : ctx.groups.direct(r.g);
        if (cast) list = list.filter((x) => x.type === cast);
        return { list: { length: list.length, at: (i) => list[i] }, render: (x) => ctx.groups.memberJson(x) };
      } });
    if (cast && resp.status === 200 && !req.query.get('$skiptoken')) {
      const all = transitive ? ctx.groups.transitive(r.g) : ctx.groups.direct(r.g);
      resp.json = { '@odata.context': resp.json['@odata.context'], '@odata.count': all.filter((x) => x.type === cast).length, ...resp.json };
    }
    return resp;
  };
}

function routes() {
  return [
    { p: 'groups', svc: 'directory', kind: 'groups', h: (ctx, req) => {
      const bad = unsupportedQuery(req); if (bad) return bad;
      return listing(ctx, req, { what: 'groups', key: 'all', def: 100, max: 999, rejectTop: true, frag: 'groups', path: 'groups',
        build: () => ({ list: { length: ctx.groups.count(), at: (i) => i }, render: (g) => ctx.groups.json(g) }) });
    } },
    { p: 'groups/:g', svc: 'directory', kind: 'groups', h: (ctx, req, m) => {
      const r = groupOf(ctx, m); if (r.err) return r.err;
      return ok(withContext(ctx, 'groups/$entity', project(ctx.groups.json(r.g), parseSelect(req.query))));
    } },
    { p: 'groups/:g/members', svc: 'directory', kind: 'group_members', h: members(false) },
    { p: 'groups/:g/transitiveMembers', svc: 'directory', kind: 'group_members', h: members(true) },
    { p: 'groups/:g/members/:cast', svc: 'directory', kind: 'group_members', h: members(false) },
    { p: 'groups/:g/transitiveMembers/:cast', svc: 'directory', kind: 'group_members', h: members(true) },
  ];
}

module.exports = { Groups, routes };
