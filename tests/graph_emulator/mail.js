'use strict';
// Graph mail endpoints: mailFolders (tree, hidden, search folders), messages (list, get, $value,
// attachments) and per-folder messages delta.
const { gerr, project, parseSelect } = require('./util');
const { decodeOid } = require('./ids');
const { FOLDERS } = require('./mailbox');
const { ok, withContext, listing, outlookDelta } = require('./collection');

function folderKeyOf(ctx, u, s) {
  const wk = ctx.mail.resolveFolder(u, s);
  if (wk != null) return { key: wk };
  const d = decodeOid(s);
  if (!d || d.type !== 'F') return { err: gerr(400, 'ErrorInvalidIdMalformed', 'Id is malformed.') };
  if (d.user !== u || !FOLDERS.some((f) => f.key === d.a)) return { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') };
  return { key: d.a };
}
function messageOf(ctx, u, s) {
  const d = decodeOid(s);
  if (!d || d.type !== 'M') return { err: gerr(400, 'ErrorInvalidIdMalformed', 'Id is malformed.') };
  const set = ctx.mail.set(u); const c = set.containerOf(d.a);
  if (d.user !== u || c == null || (!d.immutable && c !== d.b)) return { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') };
  return { idx: d.a, folder: c };
}

function searchList(ctx, u) {
  const l = ctx.mail.set(u).list(1); const out = [];
  for (let i = 0; i < l.length && out.length < 50; i++) if (!ctx.mail.isRead(u, l.at(i))) out.push(l.at(i));
  return out;
}

function routes() {
  const R = [];
  const folderList = (ctx, req, u, parentKey, path) => {
    return listing(ctx, req, {
      what: 'mailFolders', key: `${u}:${parentKey}`, def: 10, max: 1000, outlook: true,
      params: { hidden: /^true$/i.test(req.query.get('includeHiddenFolders') || '') },
      frag: `users('${ctx.tenant.userGuid(u)}')/mailFolders`, path,
      build: (state) => {
        const list = ctx.mail.children(u, parentKey).filter((k) => state.hidden || !ctx.mail.folderMeta(u, k).hidden);
        return { list, render: (k) => ctx.mail.folderJson(u, k) };
      },
    });
  };
  R.push({ p: 'users/:u/mailFolders', svc: 'outlook', kind: 'mail_folders', h: (ctx, req, m) => folderList(ctx, req, m.u, 0, `users/${m.uRaw}/mailFolders`) });
  R.push({ p: 'users/:u/mailFolders/delta', svc: 'outlook', kind: 'mail_folders_delta', h: (ctx, req, m) => {
    const u = m.u; const scope = `mf:${u}`;
    const all = () => FOLDERS.filter((f) => f.key !== 0).map((f) => f.key);
    return outlookDelta(ctx, req, { scope, path: `users/${m.uRaw}/mailFolders/delta`, frag: 'Collection(mailFolder)', def: 100,
      snapshot: all,
      since: (seq) => [...new Set(ctx.tenant.eventsSince(u, seq, 'mailfolder').map((e) => e.key))],
      firstCurrent: () => 1,
      render: (k) => ctx.mail.folderJson(u, k) });
  } });
  R.push({ p: 'users/:u/mailFolders/:f', svc: 'outlook', kind: 'mail_folders', h: (ctx, req, m) => {
    const f = folderKeyOf(ctx, m.u, m.f); if (f.err) return f.err;
    return ok(withContext(ctx, 'mailFolders/$entity', project(ctx.mail.folderJson(m.u, f.key), parseSelect(req.query))));
  } });
  R.push({ p: 'users/:u/mailFolders/:f/childFolders', svc: 'outlook', kind: 'mail_folders', h: (ctx, req, m) => {
    const f = folderKeyOf(ctx, m.u, m.f); if (f.err) return f.err;
    return folderList(ctx, req, m.u, f.key, `users/${m.uRaw}/mailFolders/${encodeURIComponent(m.f)}/childFolders`);
  } });
  const msgList = (ctx, req, m, key, path) => listing(ctx, req, {
    what: 'messages', key: `${m.u}:${key}`, def: 10, max: 1000, outlook: true, frag: `users('${ctx.tenant.userGuid(m.u)}')/messages`, path,
    build: (state) => {
      const u = m.u; const mb = ctx.mail;
      const sel = state.select ? state.select.split(',').map((x) => x.trim()) : null;
      const withBody = !sel || sel.includes('body') || sel.includes('bodyPreview');
      if (key === 'all') {
        const lists = FOLDERS.filter((f) => !f.search).map((f) => [f.key, mb.set(u).list(f.key)]);
        const flat = []; for (const [k, l] of lists) for (let i = 0; i < l.length; i++) flat.push([k, l.at(i)]);
        return { list: flat, render: ([k, idx]) => mb.messageJson(u, idx, k, req.prefer.immutable, withBody) };
      }
      if (FOLDERS.find((f) => f.key === key).search) return { list: searchList(ctx, u), render: (idx) => mb.messageJson(u, idx, 1, req.prefer.immutable, withBody) };
      return { list: mb.set(u).list(key), render: (idx) => mb.messageJson(u, idx, key, req.prefer.immutable, withBody) };
    },
  });
  R.push({ p: 'users/:u/mailFolders/:f/messages', svc: 'outlook', kind: 'messages_list', h: (ctx, req, m) => {
    const f = folderKeyOf(ctx, m.u, m.f); if (f.err) return f.err;
    return msgList(ctx, req, m, f.key, `users/${m.uRaw}/mailFolders/${encodeURIComponent(m.f)}/messages`);
  } });
  R.push({ p: 'users/:u/messages', svc: 'outlook', kind: 'messages_list', h: (ctx, req, m) => msgList(ctx, req, m, 'all', `users/${m.uRaw}/messages`) });
  R.push({ p: 'users/:u/mailFolders/:f/messages/delta', svc: 'outlook', kind: 'messages_delta', h: (ctx, req, m) => {
    const f = folderKeyOf(ctx, m.u, m.f); if (f.err) return f.err;
    const u = m.u, F = f.key, mb = ctx.mail, set = mb.set(u);
    const search = FOLDERS.find((x) => x.key === F).search;
    return outlookDelta(ctx, req, { scope: `md:${u}:${F}`, path: `users/${m.uRaw}/mailFolders/${encodeURIComponent(mb.folderId(u, F))}/messages/delta`,
      frag: `users('${ctx.tenant.userGuid(u)}')/mailFolders('${mb.folderId(u, F)}')/messages`,
      snapshot: () => { if (search) return searchList(ctx, u); const l = set.list(F); const a = new Array(l.length); for (let i = 0; i < l.length; i++) a[i] = l.at(i); return a; },
      since: (seq) => {
        if (search) return [];
        const last = new Map();
        for (const e of ctx.tenant.eventsSince(u, seq, 'mail')) if (e.from === F || e.to === F) { last.delete(e.idx); last.set(e.idx, e); }
        return [...last.keys()];
      },
      firstCurrent: () => { const l = set.list(F); return l.length ? l.at(0) : null; },
      render: (idx) => {
        const c = set.containerOf(idx);
        if (c === F || search) return mb.messageJson(u, idx, search ? 1 : F, req.prefer.immutable);
        const ids = mb.messageIds(u, idx, F);
        return { '@odata.type': '#microsoft.graph.message', id: req.prefer.immutable ? ids.immutableId : ids.id, '@removed': { reason: 'deleted' } };
      } });
  } });
  const getMsg = (ctx, req, m) => {
    const r = messageOf(ctx, m.u, m.m); if (r.err) return r.err;
    return ok(withContext(ctx, `users('${ctx.tenant.userGuid(m.u)}')/messages/$entity`, project(ctx.mail.messageJson(m.u, r.idx, r.folder, req.prefer.immutable), parseSelect(req.query))),
      req.prefer.immutable ? { 'Preference-Applied': 'IdType="ImmutableId"' } : {});
  };
  const getValue = (ctx, req, m) => {
    const r = messageOf(ctx, m.u, m.m); if (r.err) return r.err;
    return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: ctx.mail.mime(m.u, r.idx) };
  };
  R.push({ p: 'users/:u/messages/:m', svc: 'outlook', kind: 'message_get', h: getMsg });
  R.push({ p: 'users/:u/mailFolders/:f/messages/:m', svc: 'outlook', kind: 'message_get', h: getMsg });
  R.push({ p: 'users/:u/messages/:m/$value', svc: 'outlook', kind: 'message_value', h: getValue });
  R.push({ p: 'users/:u/mailFolders/:f/messages/:m/$value', svc: 'outlook', kind: 'message_value', h: getValue });
  const attJson = (a) => {
    const o = { '@odata.type': '#microsoft.graph.fileAttachment', '@odata.mediaContentType': a.contentType,
      id: Buffer.from(`ATT${a.id}.......`).toString('base64'), lastModifiedDateTime: '2024-01-01T00:00:00Z', name: a.name,
      contentType: a.contentType, size: a.size, isInline: a.inline, contentId: a.contentId || null, contentLocation: null };
    o.contentBytes = a.bytes().toString('base64');
    return o;
  };
  R.push({ p: 'users/:u/messages/:m/attachments', svc: 'outlook', kind: 'attachments', h: (ctx, req, m) => {
    const r = messageOf(ctx, m.u, m.m); if (r.err) return r.err;
    return ok(withContext(ctx, 'attachments', { value: ctx.mail.attachments(m.u, r.idx).map(attJson) }));
  } });
  const findAtt = (ctx, m) => {
    const r = messageOf(ctx, m.u, m.m); if (r.err) return r;
    const a = ctx.mail.attachments(m.u, r.idx).find((x) => Buffer.from(`ATT${x.id}.......`).toString('base64') === m.a);
    return a ? { a } : { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') };
  };
  R.push({ p: 'users/:u/messages/:m/attachments/:a', svc: 'outlook', kind: 'attachments', h: (ctx, req, m) => {
    const r = findAtt(ctx, m); if (r.err) return r.err; return ok(withContext(ctx, 'attachments/$entity', attJson(r.a)));
  } });
  R.push({ p: 'users/:u/messages/:m/attachments/:a/$value', svc: 'outlook', kind: 'attachments', h: (ctx, req, m) => {
    const r = findAtt(ctx, m); if (r.err) return r.err; return { status: 200, headers: { 'Content-Type': r.a.contentType }, body: r.a.bytes() };
  } });
  return R;
}

module.exports = { routes, folderKeyOf, messageOf };
