'use strict';
// Graph request pipeline shared by direct HTTP requests and $batch inner requests:
// route match -> auth -> early-retry detection -> faults -> resource checks -> throttling ->
// latency -> handler.
const { gerr, parsePrefer, sleep, project, parseSelect } = require('./util');
const { listing, ok, withContext } = require('./collection');
const { driveId } = require('./ids');

// GET /users. Knobs: users_max_page caps the page size (Graph may page below $top);
// users_fail_page N makes page N fail: 403 Authorization_RequestDenied for the first page,
// 400 expired skip token for a later one (a listing that breaks midway).
function usersListing(ctx, req) {
  const tok = req.query.get('$skiptoken'); const cap = ctx.knobs.users_max_page; const failAt = ctx.knobs.users_fail_page;
  let page = 1;
  if (tok) { const st = ctx.links.get(tok); page = st && st.size ? Math.floor((st.pos || 0) / st.size) + 1 : 2; }
  if (failAt && page === failAt) {
    return page === 1 ? gerr(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
      : gerr(400, 'BadRequest', 'The skip token is invalid or has expired.');
  }
  if (cap && !tok) {
    const top = Number(req.query.get('$top') || 100);
    if (Number.isInteger(top) && top >= 1 && top <= 999) req.query.set('$top', String(Math.min(top, cap)));
  }
  return listing(ctx, req, { what: 'users', key: 'all', def: 100, max: 999, rejectTop: true, frag: 'users', path: 'users',
    build: (state) => {
      if (!state.live) state.live = ctx.tenant.liveUsers(); // the directory as the listing started
      return { list: { length: state.live.length, at: (i) => state.live[i] }, render: (i) => ctx.tenant.user(i) };
    } });
}

function directoryRoutes() {
  return [
    { p: 'users', svc: 'directory', kind: 'users', h: (ctx, req) => usersListing(ctx, req) },
    { p: 'users/:u', svc: 'directory', kind: 'users', h: (ctx, req, m) => ok(withContext(ctx, 'users/$entity', project(ctx.tenant.user(m.u), parseSelect(req.query)))) },
  ];
}

class Router {
  constructor(ctx, routeLists) {
    this.ctx = ctx;
    this.routes = [].concat(directoryRoutes(), ...routeLists).map((r) => ({ ...r, segs: r.p.split('/').map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { lit: s.toLowerCase() })) }));
  }
  match(segs) {
    let best = null, bestLit = -1;
    for (const r of this.routes) {
      if (r.segs.length !== segs.length) continue;
      const m = {}; let lit = 0; let okm = true;
      for (let i = 0; i < segs.length; i++) {
        const s = r.segs[i];
        if (s.lit !== undefined) { if (s.lit !== segs[i].toLowerCase()) { okm = false; break; } lit++; } else { m[s.param] = segs[i]; }
      }
      if (okm && lit > bestLit) { best = { r, m }; bestLit = lit; }
    }
    return best;
  }
  // ireq: {method, path (after /v1.0/), query: URLSearchParams, headers, body}
  // opts: {allowReset, releases?: []}
  async exec(ireq, opts) {
    const ctx = this.ctx; const counters = ctx.counters;
    const rawSegs = ireq.path.split('/').filter((s) => s !== '');
    const last = rawSegs.length ? rawSegs[rawSegs.length - 1] : '';
    const fn = /^delta\(token='([^']*)'\)$/.exec(last);
    if (fn) { rawSegs[rawSegs.length - 1] = 'delta'; ireq.query.set('token', decodeURIComponent(fn[1])); }
    let segs;
    try { segs = rawSegs.map(decodeURIComponent); } catch { return gerr(400, 'BadRequest', 'Malformed URL encoding.'); }
    if (segs[0] && segs[0].toLowerCase() === 'me') { counters.req('other'); return gerr(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'); }
    // users/{u}/drive/... -> drives/{driveId}/...
    if (segs.length >= 3 && segs[0].toLowerCase() === 'users' && segs[2].toLowerCase() === 'drive' && segs.length > 3) {
      const u = ctx.tenant.userIndex(segs[1]);
      if (u < 0) { counters.req('drive_meta'); return gerr(404, 'Request_ResourceNotFound', `Resource '${segs[1]}' does not exist or one of its queried reference-property objects are not present.`); }
      if (u >= 0 && !ctx.tenant.hasDrive(u)) { counters.req('drive_meta'); return gerr(404, 'ResourceNotFound', 'User\'s mysite not found.'); }
      if (u >= 0) { segs.splice(0, 3, 'drives', driveId(u)); rawSegs.splice(0, 3, 'drives', driveId(u)); }
    }
    // path addressing, only for upload sessions:
    // drives/{d}/items/{parent}:/{a/b/name}:/createUploadSession and drives/{d}/root:/{path}:/createUploadSession
    let relPath = null;
    if (segs.length >= 5 && segs[0].toLowerCase() === 'drives' && segs[segs.length - 1].toLowerCase() === 'createuploadsession' && segs[segs.length - 2].endsWith(':')) {
      const k = segs[2].toLowerCase() === 'root:' ? 2 : (segs[2].toLowerCase() === 'items' && segs.length >= 6 && segs[3].endsWith(':') ? 3 : -1);
      if (k > 0) {
        const parent = k === 2 ? 'root' : segs[3].slice(0, -1);
        relPath = segs.slice(k + 1, -1); relPath[relPath.length - 1] = relPath[relPath.length - 1].slice(0, -1);
        segs = ['drives', segs[1], 'items', parent, 'createUploadSession'];
      }
    }
    const hit = this.match(segs);
    if (!hit) { counters.req('unknown'); return gerr(400, 'BadRequest', `Resource not found for the segment '${segs[segs.length - 1] || ''}'.`); }
    const { r, m } = hit;
    counters.req(r.kind);
    if (!(r.methods || ['GET']).includes(ireq.method)) return gerr(405, 'Request_BadRequest', `The emulator supports only ${(r.methods || ['GET']).join(', ')} on this resource.`);
    const authErr = ctx.auth.check(ireq.headers);
    if (authErr) return authErr;
    const key = `${ireq.method} ${ireq.path}?${ireq.query.toString()}`;
    ctx.throttle.noteArrival(key);
    const f = ctx.throttle.injected(key, opts.allowReset);
    if (f) return f;
    const req = { ...ireq, relPath, prefer: parsePrefer(ireq.headers.prefer) };
    if (m.u !== undefined) {
      m.uRaw = encodeURIComponent(m.u);
      const u = ctx.tenant.userIndex(m.u);
      if (u < 0) return r.svc === 'outlook' ? gerr(404, 'ErrorInvalidUser', `The requested user '${m.u}' is invalid.`)
        : gerr(404, 'Request_ResourceNotFound', `Resource '${m.u}' does not exist or one of its queried reference-property objects are not present.`);
      m.u = u;
      if (r.svc === 'outlook' && !ctx.tenant.hasMailbox(u)) return gerr(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      // knob fail_mailbox_user = index + 1: that mailbox refuses every request (not retryable)
      if (r.svc === 'outlook' && ctx.knobs.fail_mailbox_user === u + 1) return gerr(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      if (r.needDrive && !ctx.tenant.hasDrive(u)) return gerr(404, 'ResourceNotFound', 'User\'s mysite not found.');
    }
    let release = null; const extraHeaders = {};
    if (r.svc === 'outlook') {
      const a = ctx.throttle.acquireMailbox(m.u, key);
      if (a.resp) return a.resp;
      release = a.release;
    } else if (r.svc === 'drive') {
      let ru = r.ru || 1;
      if (r.kind === 'drive_delta' && !req.query.get('token')) ru = 2; else if (r.kind === 'drive_delta') ru = 1;
      const c = ctx.throttle.chargeDrive(ru, key);
      if (c && c.status) return c;
      if (c) Object.assign(extraHeaders, c.headers);
    }
    try {
      const lat = ctx.knobs.latency_ms; if (lat > 0) await sleep(lat);
      let resp;
      try { resp = r.h(ctx, req, m); } catch (e) {
        console.error('handler error', ireq.path, e);
        resp = gerr(500, 'generalException', 'An unexpected error occurred in the emulator: ' + e.message);
      }
      Object.assign(resp.headers, extraHeaders);
      return resp;
    } finally {
      if (release) { if (opts.releases) opts.releases.push(release); else release(); }
    }
  }
}

module.exports = { Router };
