'use strict';
// Shared request plumbing for Graph collections: $top / Prefer page sizes, plain paging via
// $skiptoken, and Outlook-style per-container delta rounds ($skiptoken / $deltatoken).
const { gerr, project, parseSelect } = require('./util');
const { pageOf, newRound, roundPage, roundId, addReplays } = require('./delta');

function ok(json, headers) { return { status: 200, headers: headers || {}, json }; }
function withContext(ctx, frag, body) { return { '@odata.context': `${ctx.graphBase}/v1.0/$metadata#${frag}`, ...body }; }

// page size from $top (stored in state) and the current request's Prefer header
function pageSize(req, stateSize, def, max, honorPrefer) {
  let size = stateSize || def; const applied = {};
  if (honorPrefer && req.prefer.maxpagesize) { size = Math.min(req.prefer.maxpagesize, max); applied.maxpagesize = size; }
  return { size, applied };
}
function preferApplied(req, applied, outlook) {
  const p = [];
  if (applied.maxpagesize) p.push(`odata.maxpagesize=${applied.maxpagesize}`);
  if (outlook && req.prefer.immutable) p.push('IdType="ImmutableId"');
  return p.length ? { 'Preference-Applied': p.join(', ') } : {};
}
function parseTop(req, max, reject) {
  const t = req.query.get('$top');
  if (t == null) return { top: 0 };
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1) return { err: gerr(400, 'BadRequest', `Invalid page size specified: '${t}'.`) };
  if (n > max) { if (reject) return { err: gerr(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${t}'. Must be between 1 and ${max} inclusive.`) }; return { top: max }; }
  return { top: n };
}

// Plain paged listing. opts: {what, params, def, max, rejectTop, outlook, frag, path, build(state,req)->{list,render}}
function listing(ctx, req, opts) {
  let state; const tok = req.query.get('$skiptoken');
  if (tok) {
    state = ctx.links.get(tok);
    if (!state || state.what !== opts.what || state.key !== opts.key) return gerr(400, opts.outlook ? 'ErrorInvalidUrlQuery' : 'BadRequest', 'The skip token is invalid or has expired.');
  } else {
    const { top, err } = parseTop(req, opts.max, opts.rejectTop); if (err) return err;
    state = { what: opts.what, key: opts.key, size: top || opts.def, select: req.query.get('$select'), pos: 0, ...(opts.params || {}) };
  }
  const { size, applied } = pageSize(req, state.size, opts.def, opts.max, opts.outlook);
  const sel = state.select ? parseSelect(new URLSearchParams({ $select: state.select })) : null;
  const { list, render } = opts.build(state, req);
  const body = pageOf(ctx, list, state, size, (x) => project(render(x), sel), (t) => `${ctx.graphBase}/v1.0/${opts.path}?$skiptoken=${t}`);
  return ok(withContext(ctx, opts.frag, body), preferApplied(req, applied, opts.outlook));
}

// Outlook per-container delta. opts: {kind, u, key, path, frag, snapshot()->idx[], since(seq)->idx[],
// render(idx)->obj (current state or @removed), firstCurrent()->idx|null}
function outlookDelta(ctx, req, opts) {
  const skip = req.query.get('$skiptoken'); const dtok = req.query.get('$deltatoken');
  const gone = () => gerr(410, 'SyncStateNotFound', `The sync state generation is not found; generation=${ctx.gen[opts.genKind || 'mail']}.`);
  const gen = ctx.gen[opts.genKind || 'mail'];
  let page;
  const base = `${ctx.graphBase}/v1.0/${opts.path}`;
  if (skip) {
    page = ctx.links.get(skip);
    if (!page || page.t !== 'round' || page.round.scope !== opts.scope) return gone();
    if (page.round.gen !== gen) return gone();
  } else {
    let entries, startSeq = ctx.tenant.seq, top = 0, select = req.query.get('$select');
    if (dtok) {
      const d = ctx.links.get(dtok);
      if (!d || d.t !== 'delta' || d.scope !== opts.scope || d.gen !== gen) return gone();
      entries = opts.since(d.seq); top = d.top; select = d.select;
      addReplays(ctx, entries, `${opts.scope}:${d.seq}:${startSeq}`, opts.firstCurrent());
    } else {
      const t = parseTop(req, 1000, false); if (t.err) return t.err; top = t.top;
      entries = opts.snapshot();
      addReplays(ctx, entries, `${opts.scope}:init:${startSeq}`, null);
    }
    const round = newRound({ id: roundId(), scope: opts.scope, entries, startSeq, gen, top, select });
    page = { t: 'round', round, pageNo: 0, pos: 0 };
  }
  const r = page.round;
  const { size, applied } = pageSize(req, r.top, opts.def || 10, 1000, true);
  const sel = r.select ? parseSelect(new URLSearchParams({ $select: r.select })) : null;
  const res = roundPage(ctx, page, size, (idx) => project(opts.render(idx), sel),
    (t) => `${base}?$skiptoken=${t}`, (t) => `${base}?$deltatoken=${t}`, { scope: opts.scope, top: r.top, select: r.select });
  if (res.stale) return gone();
  return ok(withContext(ctx, opts.frag, res.body), preferApplied(req, applied, true));
}

module.exports = { ok, withContext, listing, outlookDelta, parseTop, pageSize, preferApplied };
