'use strict';
// Contacts: default folder (/contacts) plus child folders (/contactFolders), per-folder delta.
const { gerr, project, parseSelect, rng, h32, iso, BASE_EPOCH } = require('./util');
const { ItemSet } = require('./tenant');
const { encodeOid, decodeOid } = require('./ids');
const { ok, withContext, listing, outlookDelta } = require('./collection');

// key, name, parent (null = child of the default folder, which is key 0)
const CFOLDERS = [[0, 'Contacts', null], [1, 'Family', 0], [2, 'Work / Partners', 0], [3, 'Deep\u202Enested', 2]];
const GIVEN = ['Anna', 'Ben', 'Çağla', 'Dmitri', 'Eve', 'François', '', 'Hannah', 'Ivan', 'Jasmin'];
const SUR = ['Smith', 'Özdemir', 'Nakamura', '', 'Weiß', 'Dubois', 'Kumar'];

class Contacts {
  constructor(tenant) { this.t = tenant; this.seed = tenant.seed; }
  set(u) {
    const s = this.t.us(u);
    if (!s.contacts) {
      const n = this.t.cfg.contactsPerUser; const a = Math.round(n * 0.6), b = Math.round(n * 0.8), c = Math.round(n * 0.9);
      s.contacts = new ItemSet(n, new Map([[0, [0, a]], [1, [a, b]], [2, [b, c]], [3, [c, n]]]));
    }
    return s.contacts;
  }
  folderId(u, k) { return encodeOid('K', false, u, k, 0); }
  folderJson(u, k) { const f = CFOLDERS[k]; return { id: this.folderId(u, k), displayName: f[1], parentFolderId: this.folderId(u, f[2] == null ? 99 : f[2]) }; }
  json(u, idx, folder, immutable) {
    const r = rng(this.seed, 'ct', u, idx, this.set(u).version(idx));
    const g = r.pick(GIVEN), s = r.pick(SUR); const o = this.set(u).state(idx);
    const created = BASE_EPOCH - (h32(this.seed, 'ctt', u, idx) % (86400000 * 900));
    const ck = Buffer.from(`EQAAABYAAAC${u}.${idx}.${this.set(u).version(idx)}`).toString('base64');
    return { '@odata.etag': `W/"${ck}"`, id: encodeOid('C', immutable, u, idx, immutable ? 0 : folder),
      createdDateTime: iso(created), lastModifiedDateTime: iso(o && o.mtime ? o.mtime : created + 1000), changeKey: ck, categories: [],
      parentFolderId: this.folderId(u, folder), birthday: r() < 0.3 ? '1980-02-29T00:00:00Z' : null, fileAs: '', displayName: `${g} ${s}`.trim(),
      givenName: g, initials: null, middleName: null, nickName: null, surname: s, title: null, yomiGivenName: null, yomiSurname: null, yomiCompanyName: null,
      generation: null, imAddresses: [], jobTitle: r() < 0.5 ? 'Buyer' : null, companyName: r() < 0.5 ? 'Fabrikam GmbH' : null, department: null,
      officeLocation: null, profession: null, businessHomePage: null, assistantName: null, manager: null, homePhones: [], mobilePhone: r() < 0.5 ? '+49 170 000000' : null,
      businessPhones: [], spouseName: null, personalNotes: r() < 0.2 ? 'Notes with émojis 🎉 and \u202E RTL' : '', children: [],
      emailAddresses: [{ name: `${g} ${s}`.trim(), address: `c${idx}.u${u}@fabrikam.test` }], homeAddress: {}, businessAddress: {}, otherAddress: {} };
  }
}

function folderOf(ctx, u, s) {
  if (/^contacts$/i.test(s)) return { key: 0 };
  const d = decodeOid(s);
  if (!d || d.type !== 'K') return { err: gerr(400, 'ErrorInvalidIdMalformed', 'Id is malformed.') };
  if (d.user !== u || d.a >= CFOLDERS.length) return { err: gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') };
  return { key: d.a };
}

function routes() {
  const R = [];
  const list = (ctx, req, m, parent, path) => listing(ctx, req, { what: 'cfolders', key: `${m.u}:${parent}`, def: 10, max: 1000, outlook: true, frag: 'contactFolders', path,
    build: () => ({ list: CFOLDERS.filter((f) => f[2] === parent).map((f) => f[0]), render: (k) => ctx.contacts.folderJson(m.u, k) }) });
  R.push({ p: 'users/:u/contactFolders', svc: 'outlook', kind: 'contacts', h: (ctx, req, m) => list(ctx, req, m, 0, `users/${m.uRaw}/contactFolders`) });
  R.push({ p: 'users/:u/contactFolders/:cf', svc: 'outlook', kind: 'contacts', h: (ctx, req, m) => {
    const f = folderOf(ctx, m.u, m.cf); if (f.err) return f.err; return ok(withContext(ctx, 'contactFolders/$entity', ctx.contacts.folderJson(m.u, f.key)));
  } });
  R.push({ p: 'users/:u/contactFolders/:cf/childFolders', svc: 'outlook', kind: 'contacts', h: (ctx, req, m) => {
    const f = folderOf(ctx, m.u, m.cf); if (f.err) return f.err; return list(ctx, req, m, f.key, `users/${m.uRaw}/contactFolders/${encodeURIComponent(m.cf)}/childFolders`);
  } });
  const items = (ctx, req, m, key, path) => listing(ctx, req, { what: 'contacts', key: `${m.u}:${key}`, def: 10, max: 1000, outlook: true, frag: 'contacts', path,
    build: () => ({ list: ctx.contacts.set(m.u).list(key), render: (idx) => ctx.contacts.json(m.u, idx, key, req.prefer.immutable) }) });
  const delta = (ctx, req, m, key, path) => {
    const u = m.u; const set = ctx.contacts.set(u);
    return outlookDelta(ctx, req, { scope: `cd:${u}:${key}`, path, frag: 'contacts',
      snapshot: () => { const l = set.list(key); const a = []; for (let i = 0; i < l.length; i++) a.push(l.at(i)); return a; },
      since: (seq) => { const last = new Map(); for (const e of ctx.tenant.eventsSince(u, seq, 'contact')) if (e.from === key || e.to === key) { last.delete(e.idx); last.set(e.idx, e); } return [...last.keys()]; },
      firstCurrent: () => { const l = set.list(key); return l.length ? l.at(0) : null; },
      render: (idx) => set.containerOf(idx) === key ? ctx.contacts.json(u, idx, key, req.prefer.immutable)
        : { '@odata.type': '#microsoft.graph.contact', id: encodeOid('C', req.prefer.immutable, u, idx, req.prefer.immutable ? 0 : key), '@removed': { reason: 'deleted' } } });
  };
  R.push({ p: 'users/:u/contacts', svc: 'outlook', kind: 'contacts', h: (ctx, req, m) => items(ctx, req, m, 0, `users/${m.uRaw}/contacts`) });
  R.push({ p: 'users/:u/contacts/delta', svc: 'outlook', kind: 'contacts_delta', h: (ctx, req, m) => delta(ctx, req, m, 0, `users/${m.uRaw}/contacts/delta`) });
  R.push({ p: 'users/:u/contactFolders/:cf/contacts', svc: 'outlook', kind: 'contacts', h: (ctx, req, m) => {
    const f = folderOf(ctx, m.u, m.cf); if (f.err) return f.err; return items(ctx, req, m, f.key, `users/${m.uRaw}/contactFolders/${encodeURIComponent(m.cf)}/contacts`);
  } });
  R.push({ p: 'users/:u/contactFolders/:cf/contacts/delta', svc: 'outlook', kind: 'contacts_delta', h: (ctx, req, m) => {
    const f = folderOf(ctx, m.u, m.cf); if (f.err) return f.err;
    return delta(ctx, req, m, f.key, `users/${m.uRaw}/contactFolders/${encodeURIComponent(ctx.contacts.folderId(m.u, f.key))}/contacts/delta`);
  } });
  R.push({ p: 'users/:u/contacts/:c', svc: 'outlook', kind: 'contacts', h: (ctx, req, m) => {
    const d = decodeOid(m.c); if (!d || d.type !== 'C') return gerr(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    const c = ctx.contacts.set(m.u).containerOf(d.a);
    if (d.user !== m.u || c == null || (!d.immutable && c !== d.b)) return gerr(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    return ok(withContext(ctx, 'contacts/$entity', project(ctx.contacts.json(m.u, d.a, c, req.prefer.immutable), parseSelect(req.query))));
  } });
  return R;
}

module.exports = { Contacts, CFOLDERS, routes };
