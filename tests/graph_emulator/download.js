'use strict';
// The pre-authenticated download host (a second HTTPS port). URLs are HMAC-signed and expire;
// a request carrying Authorization is rejected with 401 (and counted as a client violation).
// Supports single Range requests (206 / 416).
const crypto = require('crypto');

class Download {
  constructor(ctx) { this.ctx = ctx; this.secret = crypto.randomBytes(32); this.base = null; }
  sig(payload) { return crypto.createHmac('sha256', this.secret).update(payload).digest('base64url').slice(0, 32); }
  // ttl: seconds the URL is valid (default the download_url_ttl knob); 0 = expired at once
  sign(u, idx, ver, ttl = this.ctx.knobs.download_url_ttl) {
    const exp = Math.floor(Date.now() / 1000) + (ttl > 0 ? ttl : -1);
    const payload = `${u}.${idx}.${ver}.${exp}`;
    return `${this.base}/personal/download.aspx?UniqueId=${payload}&tempauth=${this.sig(payload)}`;
  }
  // returns {status, headers, body|stream} or null to mean "handled"
  handle(req, url) {
    const ctx = this.ctx;
    const fail = (status, code, message) => ({ status, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify({ error: { code, message } })) });
    if (url.pathname !== '/personal/download.aspx') return fail(404, 'itemNotFound', 'The resource could not be found.');
    if (req.headers.authorization) {
      ctx.counters.violation('authorization_to_download_host');
      return fail(401, 'unauthenticated', 'Pre-authenticated URLs must not carry an Authorization header.');
    }
    const payload = url.searchParams.get('UniqueId') || ''; const sig = url.searchParams.get('tempauth') || '';
    const p = payload.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !Number.isFinite(x)) || sig.length !== 32 || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(this.sig(payload)))) return fail(401, 'invalidToken', 'Invalid tempauth token.');
    const [u, idx, ver, exp] = p;
    if (exp < Date.now() / 1000) return fail(401, 'tokenExpired', 'The pre-authenticated URL has expired.');
    if (!ctx.tenant.hasDrive(u)) return fail(404, 'itemNotFound', 'The resource could not be found.');
    const d = ctx.drives.get(u); const it = d.items[idx];
    if (!it || it.deleted || it.folder || ver > it.ver) return fail(404, 'itemNotFound', 'The resource could not be found.');
    const size = ctx.drives.size(d, it, ver);
    const src = ctx.drives.source(d, it, ver);
    const headers = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"{${ctx.drives.guid(d, idx)}},${ver}"`,
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(it.name)}` };
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== '' || m[2] !== '')) {
        let s, e;
        if (m[1] === '') { const n = parseInt(m[2], 10); s = Math.max(0, size - n); e = size - 1; }
        else { s = parseInt(m[1], 10); e = m[2] === '' ? size - 1 : Math.min(parseInt(m[2], 10), size - 1); }
        if (s >= size || s > e) return { status: 416, headers: { 'Content-Range': `bytes */${size}` }, body: Buffer.alloc(0) };
        headers['Content-Range'] = `bytes ${s}-${e}/${size}`; headers['Content-Length'] = String(e - s + 1);
        return { status: 206, headers, stream: () => src.stream(s, e + 1), bytes: e - s + 1 };
      }
    }
    headers['Content-Length'] = String(size);
    return { status: 200, headers, stream: () => src.stream(0, size), bytes: size };
  }
}

module.exports = { Download };
