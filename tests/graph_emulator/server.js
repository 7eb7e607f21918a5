#!/usr/bin/env node
'use strict';
// Offline Microsoft Graph emulator. Usage:
//   node server.js --state-dir DIR [--seed N] [--users N] [--messages-per-user N]
//        [--files-per-user N] [--max-file-mb N] [--latency-ms N] [--token-ttl S] [--host 127.0.0.1]
// Writes DIR/emulator.json when ready (and prints it on one stdout line). See docs/graph-emulator.md.
const fs = require('fs');
const path = require('path');
const http = require('http');
const https = require('https');
const zlib = require('zlib');
const crypto = require('crypto');
const { ensureCerts } = require('./tls');
const { Tenant } = require('./tenant');
const { Mailboxes } = require('./mailbox');
const { Contacts } = require('./contacts');
const { Calendars } = require('./calendar');
const { Drives } = require('./drive');
const { Groups } = require('./groups');
const { Download } = require('./download');
const { Uploads } = require('./upload');
const { Auth } = require('./auth');
const { LinkTable } = require('./delta');
const { Throttle, Counters } = require('./throttle');
const { Router } = require('./router');
const { Control } = require('./control');
const { runBatch } = require('./batch');
const { setSeed } = require('./ids');
const { sleep } = require('./util');

function parseArgs(argv) {
  const o = { stateDir: null, seed: 1, users: 10, messagesPerUser: 60, filesPerUser: 30, contactsPerUser: 20, eventsPerUser: 15, maxFileMb: 32,
    latencyMs: 0, tokenTtl: 3599, host: '127.0.0.1', hashMaxMb: 8 };
  const map = { '--state-dir': 'stateDir', '--seed': 'seed', '--users': 'users', '--messages-per-user': 'messagesPerUser', '--files-per-user': 'filesPerUser',
    '--contacts-per-user': 'contactsPerUser', '--events-per-user': 'eventsPerUser', '--max-file-mb': 'maxFileMb', '--latency-ms': 'latencyMs',
    '--token-ttl': 'tokenTtl', '--host': 'host', '--hash-max-mb': 'hashMaxMb' };
  for (let i = 2; i < argv.length; i++) {
    let a = argv[i]; let v;
    const eq = a.indexOf('='); if (eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    const k = map[a];
    if (!k) { if (a === '--help' || a === '-h') { console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 6).join('\n')); process.exit(0); } console.error(`unknown argument ${a}`); process.exit(2); }
    if (v === undefined) v = argv[++i];
    if (v === undefined) { console.error(`missing value for ${a}`); process.exit(2); }
    o[k] = (k === 'stateDir' || k === 'host') ? v : Number(v);
    if (typeof o[k] === 'number' && !(o[k] >= 0)) { console.error(`bad value for ${a}: ${v}`); process.exit(2); }
  }
  if (!o.stateDir) { console.error('--state-dir DIR is required'); process.exit(2); }
  return o;
}

const JSON_CT = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = []; let n = 0;
    req.on('data', (c) => { n += c.length; if (n > limit) { reject(new Error('too large')); req.destroy(); return; } chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function writeResp(req, res, resp, counters) {
  const h = { 'request-id': crypto.randomUUID(), 'client-request-id': req.headers['client-request-id'] || crypto.randomUUID(),
    'x-ms-ags-diagnostic': '{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"EMU"}}',
    'Strict-Transport-Security': 'max-age=31536000', ...resp.headers };
  counters.status(resp.status);
  let body;
  if (resp.json !== undefined) { body = Buffer.from(JSON.stringify(resp.json)); h['Content-Type'] = h['Content-Type'] || JSON_CT; }
  else body = resp.body || Buffer.alloc(0);
  if (resp.kind === 'message_value') counters.c.bytes.value += body.length;
  const ae = req.headers['accept-encoding'] || '';
  if (body.length > 1400 && /\bgzip\b/.test(ae) && resp.json !== undefined) {
    zlib.gzip(body, { level: 1 }, (err, z) => {
      if (err) { h['Content-Length'] = body.length; res.writeHead(resp.status, h); res.end(body); return; }
      h['Content-Encoding'] = 'gzip'; h['Content-Length'] = z.length; h.Vary = 'Accept-Encoding';
      res.writeHead(resp.status, h); res.end(z);
    });
    return;
  }
  h['Content-Length'] = body.length;
  res.writeHead(resp.status, h); res.end(req.method === 'HEAD' ? undefined : body);
}

async function main() {
  const cfg = parseArgs(process.argv);
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const dir = path.resolve(cfg.stateDir);
  const tls = ensureCerts(dir);
  setSeed(cfg.seed);
  const tenant = new Tenant(cfg);
  const counters = new Counters();
  const ctx = {
    tenant, seed: cfg.seed, counters, links: new LinkTable(),
    gen: { mail: 1, drive: 1 },
    knobs: { rate_429: 0, rate_503: 0, rate_reset: 0, latency_ms: cfg.latencyMs, retry_after: '2', mailbox_concurrency: 4, drive_ru_per_minute: 0,
      mailbox_requests_per_10min: 0, empty_page_rate: 0.05, replay_rate: 0.1, token_ttl: cfg.tokenTtl, token_storm_per_10s: 20, download_url_ttl: 3600, listing_url_ttl: 3600,
      rate_509: 0, upload_session_ttl: 3600, upload_max_mb: 256, users_max_page: 0, users_fail_page: 0, fail_mailbox_user: 0 },
  };
  ctx.mail = new Mailboxes(tenant); ctx.contacts = new Contacts(tenant); ctx.calendars = new Calendars(tenant); ctx.drives = new Drives(tenant); ctx.groups = new Groups(tenant);
  ctx.download = new Download(ctx); ctx.auth = new Auth(ctx, tls); ctx.throttle = new Throttle(ctx); ctx.uploads = new Uploads(ctx);
  ctx.router = new Router(ctx, [require('./mail').routes(), require('./contacts').routes(), require('./calendar').routes(), require('./drive_routes').routes(), require('./groups').routes()]);
  const control = new Control(ctx);

  // client secret: stable per state dir
  const secretFile = path.join(dir, 'client_secret');
  if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, `emu~${crypto.randomBytes(24).toString('base64url')}`, { mode: 0o600 });
  fs.chmodSync(secretFile, 0o600);
  ctx.auth.secret = fs.readFileSync(secretFile, 'utf8').trim();

  const tokenRe = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
  const graph = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 65000, headersTimeout: 70000 }, async (req, res) => {
    try {
      const q = req.url.indexOf('?');
      const pathname = q >= 0 ? req.url.slice(0, q) : req.url;
      const query = new URLSearchParams(q >= 0 ? req.url.slice(q + 1) : '');
      const tm = tokenRe.exec(pathname);
      if (tm) {
        counters.req('token');
        if (req.method !== 'POST') return writeResp(req, res, { status: 405, headers: {}, json: { error: 'invalid_request', error_description: 'AADSTS900561: The endpoint only accepts POST requests.' } }, counters);
        const body = await readBody(req, 1 << 20);
        return writeResp(req, res, ctx.auth.tokenRequest(decodeURIComponent(tm[1]), req.headers, body), counters);
      }
      if (!pathname.startsWith('/v1.0/')) {
        counters.req('unknown');
        return writeResp(req, res, { status: 404, headers: {}, json: { error: { code: 'BadRequest', message: `Invalid version: ${pathname.split('/')[1] || ''}` } } }, counters);
      }
      const sub = pathname.slice(6);
      if (sub === '$batch' && req.method === 'POST') {
        counters.req('batch');
        const body = await readBody(req, 4 << 20);
        if (ctx.knobs.latency_ms) await sleep(ctx.knobs.latency_ms);
        return writeResp(req, res, await runBatch(ctx, req.headers, body), counters);
      }
      let body;
      if (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') body = await readBody(req, 64 << 20).catch(() => null);
      const resp = await ctx.router.exec({ method: req.method === 'HEAD' ? 'GET' : req.method, path: sub, query, headers: req.headers, body }, { allowReset: true });
      if (resp === 'reset') { req.socket.destroy(); return; }
      writeResp(req, res, resp, counters);
    } catch (e) {
      console.error('graph error', e);
      if (!res.headersSent) writeResp(req, res, { status: 500, headers: {}, json: { error: { code: 'generalException', message: String(e.message) } } }, counters);
    }
  });

  const dl = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 65000, headersTimeout: 70000 }, async (req, res) => {
    try {
      const url = new URL(req.url, 'https://x');
      if (url.pathname === '/personal/upload.aspx') {
        counters.req('upload');
        const key = `UP ${req.method} ${req.url} ${req.headers['content-range'] || ''}`;
        const cl = Number(req.headers['content-length'] || 0);
        if (cl > 64 << 20) { res.setHeader('Connection', 'close'); return writeResp(req, res, { status: 413, headers: {}, json: { error: { code: 'invalidRange', message: 'A fragment must be smaller than 60 MiB.' } } }, counters); }
        const body = req.method === 'PUT' || req.method === 'POST' ? await readBody(req, 64 << 20) : Buffer.alloc(0);
        ctx.throttle.noteArrival(key);
        const f = ctx.throttle.injected(key, true);
        if (f === 'reset') { req.socket.destroy(); return; }
        if (f) return writeResp(req, res, f, counters);
        const resp = ctx.uploads.handle(req, url, body);
        if (ctx.knobs.latency_ms) await sleep(ctx.knobs.latency_ms);
        return writeResp(req, res, resp, counters);
      }
      counters.req('download');
      const key = `DL ${req.url}`;
      ctx.throttle.noteArrival(key);
      const f = ctx.throttle.injected(key, true, true);
      if (f === 'reset') { req.socket.destroy(); return; }
      if (f) return writeResp(req, res, f, counters);
      let resp = ctx.download.handle(req, url);
      if (resp.status < 300) {
        const c = ctx.throttle.chargeDrive(1, key);
        if (c && c.status) resp = c; else if (c) Object.assign(resp.headers, c.headers);
      }
      if (ctx.knobs.latency_ms) await sleep(ctx.knobs.latency_ms);
      if (!resp.stream) return writeResp(req, res, resp, counters);
      counters.status(resp.status);
      res.writeHead(resp.status, { 'request-id': crypto.randomUUID(), ...resp.headers });
      if (req.method === 'HEAD') { res.end(); return; }
      const s = resp.stream();
      s.on('data', (c) => { counters.c.bytes.download += c.length; });
      s.pipe(res);
      res.on('close', () => s.destroy());
    } catch (e) {
      console.error('download error', e);
      if (!res.headersSent) writeResp(req, res, { status: 500, headers: {}, json: { error: { code: 'generalException', message: String(e.message) } } }, counters);
    }
  });

  const ctl = http.createServer(async (req, res) => {
    try { const body = req.method === 'POST' ? await readBody(req, 16 << 20) : Buffer.alloc(0); await control.handle(req, res, body); }
    catch (e) { console.error('control error', e); if (!res.headersSent) { res.writeHead(500); res.end(String(e)); } }
  });

  const listen = (srv) => new Promise((resolve, reject) => { srv.once('error', reject); srv.listen(0, cfg.host, () => resolve(srv.address().port)); });
  const [pg, pd, pc] = [await listen(graph), await listen(dl), await listen(ctl)];
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  ctx.graphBase = `https://${host}:${pg}`; ctx.loginUrl = ctx.graphBase; ctx.download.base = `https://${host}:${pd}`;
  const info = { graph_url: ctx.graphBase, login_url: ctx.loginUrl, download_url: ctx.download.base, control_url: `http://${host}:${pc}`,
    ca_file: path.join(dir, 'ca.pem'), tenant_id: tenant.tenantId, client_id: tenant.clientId, client_secret: ctx.auth.secret,
    client_secret_file: secretFile, client_cert_file: path.join(dir, 'client.pem'), pid: process.pid };
  const out = path.join(dir, 'emulator.json');
  fs.writeFileSync(out + '.tmp', JSON.stringify(info, null, 1) + '\n');
  fs.renameSync(out + '.tmp', out);
  process.stdout.write(JSON.stringify(info) + '\n');

  let stopping = false;
  const stop = () => {
    if (stopping) return; stopping = true;
    try { const cur = JSON.parse(fs.readFileSync(out, 'utf8')); if (cur.pid === process.pid) fs.rmSync(out, { force: true }); } catch { /* ignore */ }
    for (const s of [graph, dl, ctl]) { s.close(); if (s.closeAllConnections) s.closeAllConnections(); }
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', stop); process.on('SIGINT', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
