'use strict';
// OneDrive resumable upload sessions (graph-facts section 4.4). createUploadSession (Graph host)
// returns a pre-authenticated uploadUrl on the download host; fragments are PUT there with
// Content-Range: in order, multiples of 320 KiB except the last, a fixed total, < 60 MiB each.
// Intermediate fragments -> 202 + nextExpectedRanges, the last -> 201 (new) / 200 (replaced) +
// driveItem. GET = status, DELETE = cancel (204), POST = commit when deferCommit was set.
// Bytes are buffered in memory (bounded by upload_max_mb per session and MAX_SESSIONS).
const crypto = require('crypto');
const { gerr, isoMs } = require('./util');

const FRAG = 320 * 1024;
const MAX_FRAGMENT = 60 * 1024 * 1024;
const MAX_SESSIONS = 256;
const BAD_NAME = /["*:<>?/\\|]/;

function parseBody(b) {
  if (b === undefined || b === null) return {};
  if (Buffer.isBuffer(b)) { if (!b.length) return {}; return JSON.parse(b.toString('utf8')); }
  if (typeof b === 'string') return b.trim() ? JSON.parse(b) : {};
  return b;
}

class Uploads {
  constructor(ctx) { this.ctx = ctx; this.sessions = new Map(); this.secret = crypto.randomBytes(32); }
  sig(sid) { return crypto.createHmac('sha256', this.secret).update(sid).digest('base64url').slice(0, 32); }
  expireAll() { const n = this.sessions.size; for (const s of this.sessions.values()) s.expires = 0; return n; }
  conflictName(d, parent, name) {
    const lower = name.toLowerCase();
    return this.ctx.drives.children(d, parent).find((c) => d.items[c].name.toLowerCase() === lower);
  }
  // Graph side. t: {u, d, idx (parent folder, or the file to replace), relPath: [..] | null}
  create(req, t) {
    const ctx = this.ctx; const dr = ctx.drives; const d = t.d;
    let body;
    try { body = parseBody(req.body); } catch { return gerr(400, 'invalidRequest', 'The request body is not valid JSON.'); }
    const item = (body && body.item) || {};
    const cb = item['@microsoft.graph.conflictBehavior'] || req.query.get('@microsoft.graph.conflictBehavior') || 'fail';
    if (!['fail', 'replace', 'rename'].includes(cb)) return gerr(400, 'invalidRequest', `Invalid conflictBehavior '${cb}'.`);
    let fileSize = null;
    if (item.fileSize !== undefined) {
      if (!Number.isSafeInteger(item.fileSize) || item.fileSize < 0) return gerr(400, 'invalidRequest', 'fileSize must be a non-negative integer.');
      fileSize = item.fileSize;
    }
    const maxBytes = ctx.knobs.upload_max_mb * 1024 * 1024;
    if (fileSize !== null && fileSize > maxBytes) return gerr(507, 'quotaLimitReached', 'Insufficient Space Available', {}, 'maxFileSizeExceeded');
    const s = { u: t.u, cb, fileSize, total: fileSize, next: 0, parts: [], deferCommit: !!body.deferCommit, complete: false };
    const fsi = item.fileSystemInfo || {};
    for (const [k, f] of [['createdDateTime', 'fsCtime'], ['lastModifiedDateTime', 'fsMtime']]) {
      if (fsi[k] === undefined) continue;
      const ms = Date.parse(fsi[k]); if (!Number.isFinite(ms)) return gerr(400, 'invalidRequest', `Invalid fileSystemInfo.${k}.`);
      s[f] = ms;
    }
    if (t.relPath) {
      // new file (or conflict) under folder t.idx; intermediate path components must exist
      let parent = t.idx;
      for (const part of t.relPath.slice(0, -1)) {
        const c = this.conflictName(d, parent, part);
        if (c === undefined || !d.items[c].folder) return gerr(404, 'itemNotFound', 'The resource could not be found.');
        parent = c;
      }
      if (!d.items[parent].folder) return gerr(400, 'invalidRequest', 'The parent item is not a folder.');
      const name = t.relPath[t.relPath.length - 1];
      if (!name || BAD_NAME.test(name) || Buffer.byteLength(name) > 400) return gerr(400, 'invalidRequest', 'The provided name contains invalid characters or is too long.');
      if (item.name !== undefined && item.name !== name) return gerr(400, 'invalidRequest', 'The name in the request body does not match the name in the URL.');
      const ex = this.conflictName(d, parent, name);
      if (ex !== undefined && (cb === 'fail' || (cb === 'replace' && d.items[ex].folder))) return gerr(409, 'nameAlreadyExists', 'The specified item name already exists.');
      Object.assign(s, { parent, name });
    } else {
      // replace the content of an existing file
      const it = d.items[t.idx];
      if (it.folder) return gerr(400, 'invalidRequest', 'Cannot upload content to a folder.');
      const im = req.headers['if-match'];
      const g = dr.guid(d, t.idx);
      if (im && im !== '*' && im !== `"{${g}},${it.ver}"` && im !== `"c:{${g}},${it.ver}"`) return gerr(412, 'resourceModified', 'ETag does not match the current item.');
      Object.assign(s, { target: t.idx, parent: it.parent, name: it.name, cb: 'replace' });
    }
    const sid = crypto.randomBytes(18).toString('base64url');
    s.expires = Date.now() + ctx.knobs.upload_session_ttl * 1000;
    this.sessions.set(sid, s);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value);
    const uploadUrl = `${ctx.download.base}/personal/upload.aspx?UploadSession=${sid}&tempauth=${this.sig(sid)}`;
    return { status: 200, headers: {}, json: { '@odata.context': `${ctx.graphBase}/v1.0/$metadata#microsoft.graph.uploadSession`,
      uploadUrl, expirationDateTime: isoMs(s.expires), nextExpectedRanges: ['0-'] } };
  }
  ranges(s) { return s.complete ? [] : [s.total == null ? `${s.next}-` : `${s.next}-${s.total - 1}`]; }
  status(s) { return { expirationDateTime: isoMs(s.expires), nextExpectedRanges: this.ranges(s) }; }
  // download-host side; body is a Buffer for PUT
  handle(req, url, body) {
    const ctx = this.ctx;
    const err = (status, code, message, inner, extra) => { const r = gerr(status, code, message, {}, inner); Object.assign(r.json.error, extra || {}); return r; };
    if (req.headers.authorization) {
      ctx.counters.violation('authorization_to_download_host');
      return err(401, 'unauthenticated', 'Pre-authenticated upload URLs must not carry an Authorization header.');
    }
    const sid = url.searchParams.get('UploadSession') || ''; const sig = url.searchParams.get('tempauth') || '';
    const gone = () => err(404, 'itemNotFound', 'The upload session was not found or has expired.', 'uploadSessionNotFound');
    if (sig.length !== 32 || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(this.sig(sid)))) return gone();
    const s = this.sessions.get(sid);
    if (!s) return gone();
    if (s.expires <= Date.now()) { this.sessions.delete(sid); return gone(); }
    const m = req.method;
    if (m === 'GET') return { status: 200, headers: {}, json: this.status(s) };
    if (m === 'DELETE') { this.sessions.delete(sid); return { status: 204, headers: {}, body: Buffer.alloc(0) }; }
    if (m === 'POST') {
      if (!s.deferCommit || !s.complete) return err(400, 'invalidRequest', 'The upload is not complete or was not created with deferCommit.');
      return this.commit(sid, s);
    }
    if (m !== 'PUT') return err(405, 'notSupported', 'Only GET, PUT, POST and DELETE are supported on an upload session.');
    const cr = req.headers['content-range'];
    if (!cr) return err(400, 'invalidRequest', 'A Content-Range header is required.');
    const mm = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(cr).trim());
    if (!mm) return err(400, 'invalidRange', `Invalid Content-Range '${cr}': expected 'bytes start-end/total'.`);
    const a = Number(mm[1]), b = Number(mm[2]), total = Number(mm[3]);
    if (b < a || b >= total) return err(400, 'invalidRange', `Invalid Content-Range '${cr}'.`);
    if (body.length !== b - a + 1) return err(400, 'invalidRange', `The Content-Range length ${b - a + 1} does not match the ${body.length} bytes sent.`);
    if (s.total != null && total !== s.total) return err(400, 'invalidRange', `The declared total ${total} differs from the session's total ${s.total}.`);
    if (total > ctx.knobs.upload_max_mb * 1024 * 1024) return err(507, 'quotaLimitReached', 'Insufficient Space Available', 'maxFileSizeExceeded');
    if (body.length > MAX_FRAGMENT) return err(400, 'invalidRange', 'A fragment must be smaller than 60 MiB.');
    if (s.complete) return err(416, 'invalidRange', 'All bytes have already been received.', 'fragmentOverlap', { nextExpectedRanges: [] });
    if (a < s.next) return err(416, 'invalidRange', 'The fragment overlaps bytes that were already received.', 'fragmentOverlap', { nextExpectedRanges: this.ranges(s) });
    if (a > s.next) return err(416, 'invalidRange', `Fragments must be sent in order; expected a fragment starting at ${s.next}.`, 'fragmentOutOfOrder', { nextExpectedRanges: this.ranges(s) });
    if (b + 1 !== total && body.length % FRAG !== 0) return err(400, 'invalidRange', 'The fragment size must be a multiple of 320 KiB (327680 bytes) except for the last fragment.');
    s.total = total; s.parts.push(Buffer.from(body)); s.next = b + 1;
    s.expires = Date.now() + ctx.knobs.upload_session_ttl * 1000;
    if (s.next < total) return { status: 202, headers: {}, json: this.status(s) };
    s.complete = true;
    if (s.deferCommit) return { status: 202, headers: {}, json: this.status(s) };
    return this.commit(sid, s);
  }
  commit(sid, s) {
    const ctx = this.ctx; const dr = ctx.drives; const now = Date.now();
    this.sessions.delete(sid);
    const d = dr.pin(s.u);
    const buf = s.parts.length === 1 ? s.parts[0] : Buffer.concat(s.parts); s.parts = [];
    const total = s.total == null ? 0 : s.total;
    if (buf.length !== total) return gerr(400, 'invalidRange', 'The upload is incomplete.');
    if (!d.items[s.parent] || d.items[s.parent].deleted) return gerr(404, 'itemNotFound', 'The parent folder no longer exists.');
    let idx = s.target; let created = false;
    if (idx !== undefined) {
      if (!dr.alive(d, idx)) return gerr(404, 'itemNotFound', 'The resource could not be found.');
    } else {
      const ex = this.conflictName(d, s.parent, s.name);
      let name = s.name;
      if (ex !== undefined) {
        if (s.cb === 'fail' || (s.cb === 'replace' && d.items[ex].folder)) return gerr(409, 'nameAlreadyExists', 'The specified item name already exists.');
        if (s.cb === 'replace') idx = ex;
        else {
          const dot = name.lastIndexOf('.'); const stem = dot > 0 ? name.slice(0, dot) : name; const ext = dot > 0 ? name.slice(dot) : '';
          for (let n = 1; ; n++) { name = `${stem} ${n}${ext}`; if (this.conflictName(d, s.parent, name) === undefined) break; }
        }
      }
      if (idx === undefined) { idx = dr.newUploadedFile(s.u, s.parent, name, buf, now); created = true; }
    }
    if (!created) dr.replaceContent(s.u, idx, buf, now);
    const it = d.items[idx];
    if (s.fsCtime !== undefined) it.fsCtime = s.fsCtime;
    if (s.fsMtime !== undefined) it.fsMtime = s.fsMtime;
    const o = dr.itemJson(d, idx, { delta: false });
    o['@microsoft.graph.downloadUrl'] = ctx.download.sign(s.u, idx, it.ver, ctx.knobs.listing_url_ttl);
    return { status: created ? 201 : 200, headers: {}, json: { '@odata.context': `${ctx.graphBase}/v1.0/$metadata#driveItem/$entity`, ...o } };
  }
}

module.exports = { Uploads, FRAG };
