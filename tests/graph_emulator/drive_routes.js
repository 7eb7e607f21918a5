'use strict';
// Graph OneDrive endpoints: drive, items, children, /content (302 to the download host),
// versions, and root/delta with both link forms, token=latest, deleted items and 410 resync.
const { gerr, project, parseSelect, iso } = require('./util');
const { decodeDriveId, decodeItemId, itemId } = require('./ids');
const { ok, withContext, listing, parseTop } = require('./collection');
const { newRound, roundPage, roundId, addReplays } = require('./delta');

function driveOf(ctx, m) {
  const u = decodeDriveId(m.d);
  if (u == null || u >= ctx.tenant.cfg.users || ctx.tenant.isDeleted(u) || !ctx.tenant.hasDrive(u)) return { err: gerr(404, 'itemNotFound', 'The resource could not be found.') };
  return { d: ctx.drives.get(u), u };
}
function itemOf(ctx, d, s) {
  if (s === 'root') return { idx: 0 };
  const x = decodeItemId(s);
  if (!x || x.user !== d.u || !ctx.drives.alive(d, x.idx)) return { err: gerr(404, 'itemNotFound', 'The resource could not be found.') };
  return { idx: x.idx };
}
function render(ctx, d, idx, delta) {
  const o = ctx.drives.itemJson(d, idx, { delta });
  const it = d.items[idx];
  if (!it.folder && !it.deleted) o['@microsoft.graph.downloadUrl'] = ctx.download.sign(d.u, idx, it.ver, ctx.knobs.listing_url_ttl);
  return o;
}

function routes() {
  const R = [];
  R.push({ p: 'users/:u/drive', svc: 'drive', kind: 'drive_meta', ru: 1, needDrive: true, h: (ctx, req, m) => ok(withContext(ctx, 'drives/$entity', project(ctx.drives.driveJson(m.u), parseSelect(req.query)))) });
  R.push({ p: 'users/:u/drives', svc: 'drive', kind: 'drive_meta', ru: 2, needDrive: true, h: (ctx, req, m) => ok(withContext(ctx, 'drives', { value: [ctx.drives.driveJson(m.u)] })) });
  R.push({ p: 'drives/:d', svc: 'drive', kind: 'drive_meta', ru: 1, h: (ctx, req, m) => { const r = driveOf(ctx, m); if (r.err) return r.err; return ok(withContext(ctx, 'drives/$entity', ctx.drives.driveJson(r.u))); } });
  const item = (ctx, req, m) => {
    const r = driveOf(ctx, m); if (r.err) return r.err; const i = itemOf(ctx, r.d, m.i || 'root'); if (i.err) return i.err;
    return ok(withContext(ctx, 'driveItem/$entity', project(render(ctx, r.d, i.idx, false), parseSelect(req.query))));
  };
  R.push({ p: 'drives/:d/root', svc: 'drive', kind: 'drive_meta', ru: 1, h: item });
  R.push({ p: 'drives/:d/items/:i', svc: 'drive', kind: 'drive_meta', ru: 1, h: item });
  const children = (ctx, req, m) => {
    const r = driveOf(ctx, m); if (r.err) return r.err; const i = itemOf(ctx, r.d, m.i || 'root'); if (i.err) return i.err;
    return listing(ctx, req, { what: 'children', key: `${r.u}:${i.idx}`, def: 200, max: 999, frag: 'driveItems',
      path: `drives/${m.d}/items/${itemId(r.u, i.idx)}/children`,
      build: () => ({ list: ctx.drives.children(r.d, i.idx), render: (c) => (ctx.drives.alive(r.d, c) ? render(ctx, r.d, c, false) : null) }) });
  };
  R.push({ p: 'drives/:d/root/children', svc: 'drive', kind: 'drive_meta', ru: 2, h: children });
  R.push({ p: 'drives/:d/items/:i/children', svc: 'drive', kind: 'drive_meta', ru: 2, h: children });
  const content = (ctx, req, m) => {
    const r = driveOf(ctx, m); if (r.err) return r.err; const i = itemOf(ctx, r.d, m.i); if (i.err) return i.err;
    const it = r.d.items[i.idx];
    if (it.folder) return gerr(404, 'itemNotFound', 'The resource could not be found.');
    let ver = it.ver;
    if (m.v) { ver = parseInt(m.v, 10); if (!(ver >= 1 && ver <= it.ver) || m.v !== `${ver}.0`) return gerr(404, 'itemNotFound', 'The resource could not be found.'); }
    const inm = req.headers['if-none-match'];
    const g = ctx.drives.guid(r.d, i.idx);
    if (!m.v && inm && (inm === `"{${g}},${it.ver}"` || inm === `"c:{${g}},${it.ver}"`)) return { status: 304, headers: {}, body: Buffer.alloc(0) };
    return { status: 302, headers: { Location: ctx.download.sign(r.u, i.idx, ver) }, body: Buffer.alloc(0) };
  };
  R.push({ p: 'drives/:d/items/:i/content', svc: 'drive', kind: 'drive_content', ru: 1, h: content });
  R.push({ p: 'drives/:d/items/:i/versions/:v/content', svc: 'drive', kind: 'drive_content', ru: 1, h: content });
  const versionJson = (ctx, d, it, v) => ({ '@microsoft.graph.downloadUrl': ctx.download.sign(d.u, it.idx, v, ctx.knobs.listing_url_ttl), id: `${v}.0`,
    lastModifiedDateTime: iso(it.mtime - (it.ver - v) * 86400000), size: ctx.drives.size(d, it, v), lastModifiedBy: ctx.drives.owner(d) });
  R.push({ p: 'drives/:d/items/:i/versions', svc: 'drive', kind: 'drive_meta', ru: 2, h: (ctx, req, m) => {
    const r = driveOf(ctx, m); if (r.err) return r.err; const i = itemOf(ctx, r.d, m.i); if (i.err) return i.err;
    const it = r.d.items[i.idx]; if (it.folder) return gerr(400, 'invalidRequest', 'Versions are not supported on folders.');
    const value = []; for (let v = it.ver; v >= 1; v--) value.push(versionJson(ctx, r.d, it, v));
    return ok(withContext(ctx, 'driveItemVersions', { value }));
  } });
  R.push({ p: 'drives/:d/items/:i/versions/:v', svc: 'drive', kind: 'drive_meta', ru: 1, h: (ctx, req, m) => {
    const r = driveOf(ctx, m); if (r.err) return r.err; const i = itemOf(ctx, r.d, m.i); if (i.err) return i.err;
    const it = r.d.items[i.idx]; const v = parseInt(m.v, 10);
    if (it.folder || !(v >= 1 && v <= it.ver) || m.v !== `${v}.0`) return gerr(404, 'itemNotFound', 'The resource could not be found.');
    return ok(withContext(ctx, 'driveItemVersion/$entity', versionJson(ctx, r.d, it, v)));
  } });
  // upload sessions: parent-relative path form (router rewrites it, req.relPath set) or an existing file's id (replace)
  R.push({ p: 'drives/:d/items/:i/createUploadSession', svc: 'drive', kind: 'drive_upload', ru: 2, methods: ['POST'], h: (ctx, req, m) => {
    const r = driveOf(ctx, m); if (r.err) return r.err; const i = itemOf(ctx, r.d, m.i); if (i.err) return i.err;
    return ctx.uploads.create(req, { u: r.u, d: r.d, idx: i.idx, relPath: req.relPath });
  } });
  R.push({ p: 'drives/:d/root/delta', svc: 'drive', kind: 'drive_delta', ru: 2, h: delta });
  return R;
}

function delta(ctx, req, m) {
  const r = driveOf(ctx, m); if (r.err) return r.err;
  const u = r.u; const d = r.d; const dr = ctx.drives; const scope = `dd:${u}`;
  const base = `${ctx.graphBase}/v1.0/drives/${d.id}/root/delta`;
  const formA = (t) => `${base}?token=${t}`; const formB = (t) => `${base}(token='${t}')`;
  const fresh = () => {
    const entries = dr.allAlive(d); addReplays(ctx, entries, `${scope}:init:${ctx.tenant.seq}`, null);
    const round = newRound({ id: roundId(), scope, entries, startSeq: ctx.tenant.seq, gen: ctx.gen.drive, top: 0, select: null });
    return { t: 'round', round, pageNo: 0, pos: 0 };
  };
  const resync = () => {
    const loc = (round => (round.round.id % 2 ? formA : formB)(ctx.links.put(round)))(fresh());
    return gerr(410, 'resyncRequired', 'Resync required. Replace any local items with the server\'s version (including deletes) if you\'re sure that the service was up to date with your local changes when you last sync\'d. Upload any local changes that the server doesn\'t know about.', { Location: loc }, 'resyncChangesApplyDifferences');
  };
  const tok = req.query.get('token');
  let page;
  if (tok === 'latest') {
    const l = ctx.links.put({ t: 'delta', scope, seq: ctx.tenant.seq, gen: ctx.gen.drive, top: 0, select: req.query.get('$select') });
    return ok(withContext(ctx, 'Collection(driveItem)', { value: [], '@odata.deltaLink': formB(l) }));
  }
  if (tok) {
    const st = ctx.links.get(tok);
    if (!st || (st.t === 'round' ? st.round.scope : st.scope) !== scope) return resync();
    if (st.t === 'round') { if (st.round.gen !== ctx.gen.drive) return resync(); page = st; }
    else {
      if (st.gen !== ctx.gen.drive) return resync();
      // changed items since seq, last occurrence wins; ancestors of changed items are re-emitted
      const last = new Map();
      for (const e of ctx.tenant.eventsSince(u, st.seq, 'drive')) { last.delete(e.idx); last.set(e.idx, e); }
      const entries = []; const seen = new Set();
      for (const idx of last.keys()) {
        const anc = [];
        if (!d.items[idx].deleted) for (let p = d.items[idx].parent; p != null; p = d.items[p].parent) { if (!seen.has(p) && !d.items[p].deleted) anc.unshift(p); }
        for (const a of anc) { seen.add(a); entries.push(a); }
        entries.push(idx); seen.add(idx);
      }
      addReplays(ctx, entries, `${scope}:${st.seq}:${ctx.tenant.seq}`, entries.length ? 0 : null);
      const round = newRound({ id: roundId(), scope, entries, startSeq: ctx.tenant.seq, gen: ctx.gen.drive, top: st.top, select: st.select });
      page = { t: 'round', round, pageNo: 0, pos: 0 };
    }
  } else {
    const t = parseTop(req, 999, false); if (t.err) return t.err;
    page = fresh(); page.round.top = t.top; page.round.select = req.query.get('$select');
  }
  const round = page.round; const size = round.top || 200;
  const sel = round.select ? parseSelect(new URLSearchParams({ $select: round.select })) : null;
  const [mkNext, mkDelta] = round.id % 2 ? [formA, formB] : [formB, formA];
  const res = roundPage(ctx, page, size, (idx) => project(render(ctx, d, idx, true), sel), mkNext, mkDelta, { scope, top: round.top, select: round.select });
  if (res.stale) return resync();
  return ok(withContext(ctx, 'Collection(driveItem)', res.body));
}

module.exports = { routes };
