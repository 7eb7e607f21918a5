'use strict';
// OneDrive model: per-user item tree generated from (seed, user), files whose bytes come from a
// deterministic stream, versions, and the mutable overlay (materialized drives stay pinned;
// untouched ones live in a small LRU).
const crypto = require('crypto');
const { h32, hf, rng, BASE_EPOCH, iso, guidFrom } = require('./util');
const { driveId, itemId } = require('./ids');
const { byteSource, bufferSource, QuickXor } = require('./content');

const LONG = 'é'.repeat(123) + '.txt'; // 250 UTF-8 bytes
const HOSTILE_FILES = ['..', 'trailing dot.', 'trailing space ', 'rtl \u202Efdp.exe', 'ctl\u0001\u0007chars.txt',
  'Caf\u00e9.txt', 'Cafe\u0301.txt', LONG, 'a\u2215b division slash.txt', 'full\uff0fwidth solidus.txt', '#hash %percent &amp;.txt', '日本語のファイル.docx'];
const EXT = [['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', false], ['.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', false],
  ['.pdf', 'application/pdf', false], ['.jpg', 'image/jpeg', false], ['.zip', 'application/x-zip-compressed', false],
  ['.txt', 'text/plain', true], ['.csv', 'text/csv', true], ['.log', 'text/plain', true], ['.md', 'text/markdown', true]];
const WORDS = 'budget plan report notes summary invoice draft final scan photo backup export minutes design spec roadmap'.split(' ');
const MiB = 1024 * 1024;
// A OneDrive's webUrl: the personal site's "Documents" library, as Graph reports it
// (https://contoso-my.sharepoint.com/personal/alice_contoso_com/Documents).
function driveWebUrl(upn) { return `https://contoso-my.sharepoint.com/personal/${upn.replace(/[@.]/g, '_')}/Documents`; }

function mimeOf(name) {
  const e = EXT.find(([x]) => name.toLowerCase().endsWith(x));
  return e ? e[1] : 'application/octet-stream';
}

class Drives {
  constructor(tenant) { this.t = tenant; this.seed = tenant.seed; this.lru = new Map(); this.hashCache = new Map(); }
  cfg() { return this.t.cfg; }
  get(u) {
    const s = this.t.userStates.get(u);
    if (s && s.drive) return s.drive;
    let d = this.lru.get(u);
    if (d) { this.lru.delete(u); this.lru.set(u, d); return d; }
    d = this.generate(u);
    this.lru.set(u, d);
    if (this.lru.size > 64) this.lru.delete(this.lru.keys().next().value);
    return d;
  }
  pin(u) { const d = this.get(u); this.t.us(u).drive = d; this.lru.delete(u); return d; }
  sizeFor(u, idx, ver) {
    const c = this.cfg(); const max = c.maxFileMb * MiB;
    const r = rng(this.seed, 'size', u, idx, ver);
    const k = r();
    let s;
    if (k < 0.05) s = 0;
    else if (k < 0.65) s = 1 + r.int(64 * 1024);
    else if (k < 0.92) s = 64 * 1024 + r.int(4 * MiB - 64 * 1024);
    else if (k < 0.99) s = 4 * MiB + r.int(Math.max(1, Math.min(64 * MiB, max) - 4 * MiB));
    else s = r.int(max + 1);
    return Math.min(s, max);
  }
  generate(u) {
    const F = this.cfg().filesPerUser; const r = rng(this.seed, 'tree', u);
    const items = []; const kids = new Map();
    const base = BASE_EPOCH - 86400000 * 30;
    const add = (it) => { it.idx = items.length; items.push(it); if (it.parent != null) { if (!kids.has(it.parent)) kids.set(it.parent, new Set()); kids.get(it.parent).add(it.idx); } return it.idx; };
    const t0 = (i) => base - (h32(this.seed, 'mt', u, i) % (86400000 * 700));
    add({ name: 'root', parent: null, folder: true, ver: 1, ctime: base - 86400000 * 800, mtime: base });
    const nFolders = Math.max(4, Math.ceil(F / 6));
    const fixed = [['Documents', 0], ['Projects', 1], ['Deep', 2], ['Hostile names', 0], ['Deeper still', 3]];
    const folders = [];
    for (let k = 0; k < nFolders; k++) {
      let name, parent;
      if (k < fixed.length) [name, parent] = fixed[k];
      else { parent = r() < 0.3 ? 0 : folders[r.int(folders.length)]; name = `${r.pick(WORDS)} ${r.pick(WORDS)} ${k}`; }
      const i = items.length; const ct = t0(i);
      folders.push(add({ name, parent, folder: true, ver: 1, ctime: ct, mtime: ct + 3600000 }));
    }
    const hostileFolder = folders[3];
    for (let k = 0; k < F; k++) {
      const i = items.length; let name, parent, text, ver = 1 + (h32(this.seed, 'ver', u, i) % 3);
      if (k < HOSTILE_FILES.length && F >= 16) { name = HOSTILE_FILES[k]; parent = hostileFolder; text = true; }
      else {
        const e = EXT[h32(this.seed, 'ext', u, i) % EXT.length];
        name = `${r.pick(WORDS)}-${r.pick(WORDS)}-${k}${e[0]}`; text = e[2];
        parent = folders[h32(this.seed, 'par', u, i) % folders.length];
        if (h32(this.seed, 'par', u, i) % 7 === 0) parent = 0;
      }
      const ct = t0(i);
      const it = { name, parent, folder: false, ver, text, ctime: ct, mtime: ct + (ver - 1) * 86400000 };
      if (u === 0 && k === F - 1) it.sizeOverride = this.cfg().maxFileMb * MiB;
      if (u === 0 && k === F - 2) it.sizeOverride = 0;
      add(it);
    }
    return { u, items, kids, id: driveId(u), sizes: new Map() };
  }
  size(d, it, ver) {
    if (it.folder) return 0;
    const v = ver || it.ver;
    if (v === it.ver && it.sizeOverride !== undefined) return it.sizeOverride;
    if (it.sizes && it.sizes[v] !== undefined) return it.sizes[v];
    return this.sizeFor(d.u, it.idx, v);
  }
  source(d, it, ver) {
    const v = ver || it.ver;
    if (it.blobs && it.blobs[v]) return bufferSource(it.blobs[v]);
    const locked = it.lockedFrom !== undefined && v >= it.lockedFrom;
    return byteSource([this.seed, 'file', d.u, it.idx, v, locked ? 1 : 0], it.text && !locked);
  }
  hashes(d, it, withSha) {
    const size = this.size(d, it);
    const key = `${d.u}:${it.idx}:${it.ver}:${it.lockedFrom || 0}`;
    let h = this.hashCache.get(key);
    if (h && (!withSha || h.sha256)) return h;
    const qx = new QuickXor(); const sh = withSha ? crypto.createHash('sha256') : null;
    for (const c of this.source(d, it).chunks(0, size)) { qx.update(c); if (sh) sh.update(c); }
    h = { quickXorHash: qx.digest(), sha256: sh ? sh.digest('hex') : null };
    this.hashCache.set(key, h);
    if (this.hashCache.size > 200000) this.hashCache.delete(this.hashCache.keys().next().value);
    return h;
  }
  alive(d, idx) { const it = d.items[idx]; return it && !it.deleted; }
  childCount(d, idx) { const k = d.kids.get(idx); if (!k) return 0; let n = 0; for (const c of k) if (!d.items[c].deleted) n++; return n; }
  children(d, idx) { const k = d.kids.get(idx); return k ? [...k].filter((c) => !d.items[c].deleted) : []; }
  path(d, idx) { const p = []; for (let i = idx; i !== 0 && i != null; i = d.items[i].parent) p.unshift(d.items[i].name); return p; }
  guid(d, idx) { return guidFrom(this.seed, 'etag', d.u, idx).toUpperCase(); }
  owner(d) { const us = this.t.user(d.u); return { user: { email: us.userPrincipalName, id: us.id, displayName: us.displayName } }; }
  driveJson(u) {
    const d = this.get(u); const us = this.t.user(u);
    let used = 0; for (const it of d.items) if (!it.deleted && !it.folder) used += this.size(d, it);
    return { createdDateTime: iso(d.items[0].ctime), description: '', id: d.id, lastModifiedDateTime: iso(d.items[0].mtime), name: 'OneDrive',
      webUrl: driveWebUrl(us.userPrincipalName),
      driveType: 'business', createdBy: { user: { displayName: 'System Account' } }, lastModifiedBy: this.owner(d),
      owner: this.owner(d), quota: { deleted: 0, remaining: 1099511627776 - used, state: 'normal', total: 1099511627776, used } };
  }
  // downloadUrl is injected by the caller (it signs with the download host secret)
  itemJson(d, idx, opts) {
    const it = d.items[idx]; const id = itemId(d.u, idx); const g = this.guid(d, idx);
    const parentRef = { driveType: 'business', driveId: d.id };
    if (it.deleted) {
      const o = { id, parentReference: { ...parentRef, id: itemId(d.u, it.parent) }, deleted: { state: 'deleted' }, lastModifiedDateTime: iso(it.mtime) };
      if (it.folder) o.folder = { childCount: 0 }; else o.file = {};
      return o;
    }
    const o = { '@odata.type': undefined };
    delete o['@odata.type'];
    o.createdDateTime = iso(it.ctime); o.eTag = `"{${g}},${it.ver}"`; o.id = id; o.lastModifiedDateTime = iso(it.mtime);
    o.name = it.name;
    const us = this.t.user(d.u);
    o.webUrl = `${driveWebUrl(us.userPrincipalName)}/${this.path(d, idx).map(encodeURIComponent).join('/')}`;
    if (!opts.delta && !it.folder) o.cTag = `"c:{${g}},${it.ver}"`;
    o.size = it.folder ? this.folderSize(d, idx) : this.size(d, it);
    o.createdBy = this.owner(d); o.lastModifiedBy = this.owner(d);
    if (idx !== 0) {
      o.parentReference = { ...parentRef, id: itemId(d.u, it.parent) };
      if (!opts.delta) o.parentReference.path = '/drive/root:' + (this.path(d, it.parent).length ? '/' + this.path(d, it.parent).join('/') : '');
    } else o.parentReference = { ...parentRef };
    o.fileSystemInfo = { createdDateTime: iso(it.fsCtime !== undefined ? it.fsCtime : it.ctime), lastModifiedDateTime: iso(it.fsMtime !== undefined ? it.fsMtime : it.mtime) };
    if (it.folder) o.folder = { childCount: this.childCount(d, idx) };
    else {
      o.file = { mimeType: it.lockedFrom ? 'application/octet-stream' : mimeOf(it.name) };
      if (o.size <= this.cfg().hashMaxMb * MiB) o.file.hashes = { quickXorHash: this.hashes(d, it).quickXorHash };
    }
    if (idx === 0) o.root = {};
    return o;
  }
  folderSize(d, idx) {
    if (d.items.length > 5000) return 0;
    let s = 0; const st = [idx];
    while (st.length) { const i = st.pop(); for (const c of this.children(d, i)) { const it = d.items[c]; if (it.folder) st.push(c); else s += this.size(d, it); } }
    return s;
  }
  // DFS order, parents first
  allAlive(d) {
    const out = []; const st = [0];
    while (st.length) { const i = st.pop(); out.push(i); const ch = this.children(d, i); for (let k = ch.length - 1; k >= 0; k--) st.push(ch[k]); }
    return out;
  }

  // ---- mutations (each logs a drive event) ----
  log(d, idx) { return this.t.log(d.u, { kind: 'drive', idx }); }
  touchParents(d, idx, now) { for (let p = d.items[idx].parent; p != null; p = d.items[p].parent) d.items[p].mtime = now; }
  newFile(u, parent, name, size, text, now) {
    const d = this.pin(u); const idx = d.items.length;
    const it = { idx, name, parent, folder: false, ver: 1, text: !!text, ctime: now, mtime: now, sizes: { 1: size } };
    d.items.push(it); if (!d.kids.has(parent)) d.kids.set(parent, new Set()); d.kids.get(parent).add(idx);
    this.touchParents(d, idx, now); this.log(d, idx); return idx;
  }
  // uploaded content (upload sessions): the bytes are kept in memory per version
  newUploadedFile(u, parent, name, buf, now) {
    const d = this.pin(u); const idx = d.items.length;
    const it = { idx, name, parent, folder: false, ver: 1, text: false, ctime: now, mtime: now, sizes: { 1: buf.length }, blobs: { 1: buf } };
    d.items.push(it); if (!d.kids.has(parent)) d.kids.set(parent, new Set()); d.kids.get(parent).add(idx);
    this.touchParents(d, idx, now); this.log(d, idx); return idx;
  }
  replaceContent(u, idx, buf, now) {
    const d = this.pin(u); const it = d.items[idx];
    it.sizes = it.sizes || {}; const nv = it.ver + 1;
    if (it.sizeOverride !== undefined) { it.sizes[it.ver] = it.sizeOverride; delete it.sizeOverride; }
    it.sizes[nv] = buf.length; it.blobs = it.blobs || {}; it.blobs[nv] = buf;
    delete it.fsCtime; delete it.fsMtime;
    it.ver = nv; it.mtime = now; this.touchParents(d, idx, now); this.log(d, idx); return true;
  }
  newFolder(u, parent, name, now) {
    const d = this.pin(u); const idx = d.items.length;
    d.items.push({ idx, name, parent, folder: true, ver: 1, ctime: now, mtime: now });
    if (!d.kids.has(parent)) d.kids.set(parent, new Set()); d.kids.get(parent).add(idx);
    this.log(d, idx); return idx;
  }
  editFile(u, idx, size, now) {
    const d = this.pin(u); const it = d.items[idx]; if (!it || it.deleted || it.folder) return false;
    it.sizes = it.sizes || {}; const nv = it.ver + 1;
    it.sizes[nv] = size != null ? size : this.sizeFor(u, idx, nv);
    if (it.sizeOverride !== undefined) { it.sizes[it.ver] = it.sizeOverride; delete it.sizeOverride; }
    it.ver = nv; it.mtime = now; this.touchParents(d, idx, now); this.log(d, idx); return true;
  }
  move(u, idx, parent, name, now) {
    const d = this.pin(u); const it = d.items[idx]; if (!it || it.deleted || idx === 0) return false;
    for (let p = parent; p != null; p = d.items[p].parent) if (p === idx) return false;
    d.kids.get(it.parent).delete(idx); it.parent = parent; if (!d.kids.has(parent)) d.kids.set(parent, new Set()); d.kids.get(parent).add(idx);
    if (name) it.name = name; it.mtime = now; this.touchParents(d, idx, now); this.log(d, idx); return true;
  }
  rename(u, idx, name, now) { const d = this.pin(u); const it = d.items[idx]; if (!it || it.deleted || idx === 0) return false; it.name = name; it.mtime = now; this.log(d, idx); return true; }
  remove(u, idx, now) {
    const d = this.pin(u); const it = d.items[idx]; if (!it || it.deleted || idx === 0) return false;
    const st = [idx]; const order = [];
    while (st.length) { const i = st.pop(); order.push(i); for (const c of this.children(d, i)) st.push(c); }
    for (const i of order.reverse()) { d.items[i].deleted = true; d.items[i].mtime = now; this.log(d, i); }
    this.touchParents(d, idx, now); return true;
  }
  ransomware(u, now) {
    const d = this.pin(u); let n = 0;
    for (const it of d.items) {
      if (it.deleted || it.folder) continue;
      const size = this.size(d, it);
      it.sizes = it.sizes || {}; if (it.sizeOverride !== undefined) { it.sizes[it.ver] = it.sizeOverride; delete it.sizeOverride; }
      it.ver++; it.sizes[it.ver] = size; it.lockedFrom = it.ver; it.name += '.locked'; it.mtime = now;
      this.log(d, it.idx); n++;
    }
    return n;
  }
  resolvePath(d, p) {
    if (p == null) return null;
    const parts = String(p).split('/').filter((x) => x !== '');
    let cur = 0;
    for (const part of parts) { const c = this.children(d, cur).find((i) => d.items[i].name === part); if (c === undefined) return null; cur = c; }
    return cur;
  }
}

module.exports = { Drives, mimeOf, HOSTILE_FILES, driveWebUrl };
