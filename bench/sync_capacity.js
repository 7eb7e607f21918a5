#!/usr/bin/env node
'use strict';
// The emulator's own capacity for the work a first backup does, measured against a running
// emulator (the same tenant, the same latency knob): `--mailboxes N` mailboxes/drives at a time,
// 4 concurrent keep-alive HTTPS requests each (the per-mailbox limit), for `--seconds S`.
//   mail:  GET /users/{u}/messages/{id}/$value over the tenant's messages
//   drive: GET /users/{u}/drive/items/{id}/content -> 302 -> download host (no Authorization)
//   drive-url: GET the @microsoft.graph.downloadUrl of each file straight from the download host
//         (as the backup does; the URLs come from a delta listing before the clock starts)
// Usage: node bench/sync_capacity.js EMULATOR_JSON --kind mail|drive|drive-url [--mailboxes 4] [--seconds 10]
// Prints one JSON line: {"kind","mailboxes","seconds","items","items_per_s","MB_per_s","errors"}.
const fs = require('fs');
const https = require('https');
const http = require('http');

const info = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const args = Object.fromEntries(process.argv.slice(3).reduce((a, x, i, arr) => (x.startsWith('--') ? a.concat([[x.slice(2), arr[i + 1]]]) : a), []));
const KIND = args.kind || 'mail';
const MAILBOXES = Number(args.mailboxes || 4);
const SECONDS = Number(args.seconds || 10);
const PER = 4;
const ca = fs.readFileSync(info.ca_file);
const agent = new https.Agent({ keepAlive: true, maxSockets: 256, ca });

function req(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const r = mod.request(url, { method, headers, agent: url.startsWith('https:') ? agent : undefined }, (res) => {
      const chunks = []; let n = 0;
      res.on('data', (c) => { n += c.length; if (chunks.length < 64) chunks.push(c); });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes: n, text: () => Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

async function token() {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: info.client_id, client_secret: info.client_secret,
    scope: 'https://graph.microsoft.com/.default' }).toString();
  const r = await req(`${info.login_url}/${info.tenant_id}/oauth2/v2.0/token`, { method: 'POST', body,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  return JSON.parse(r.text()).access_token;
}

// drive-url: every file's downloadUrl from the drive's delta listing, per user
async function downloadUrls(auth, boxes) {
  const out = [];
  for (const [user] of boxes) {
    const urls = [];
    let next = `${info.graph_url}/v1.0/users/${encodeURIComponent(user)}/drive/root/delta`;
    while (next) {
      const r = await req(next, { headers: auth });
      if (r.status !== 200) throw new Error(`delta listing: HTTP ${r.status}`);
      const page = JSON.parse(r.text());
      for (const it of page.value) if (it.file && it['@microsoft.graph.downloadUrl']) urls.push(it['@microsoft.graph.downloadUrl']);
      next = page['@odata.nextLink'];
    }
    out.push([user, urls]);
  }
  return out;
}

async function truth() {
  const kinds = KIND === 'mail' ? 'users,mail' : 'users,drive';
  const r = await new Promise((resolve, reject) => {
    http.get(`${info.control_url}/control/truth?kinds=${kinds}&hashes=0`, (res) => {
      let s = ''; res.setEncoding('utf8'); res.on('data', (d) => { s += d; }); res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  const per = new Map();
  for (const line of r.split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (KIND === 'mail' && o.type === 'message') { if (!per.has(o.user)) per.set(o.user, []); per.get(o.user).push(o.immutableId || o.id); }
    if (KIND.startsWith('drive') && o.type === 'drive_item' && !o.folder && o.path.length) { if (!per.has(o.user)) per.set(o.user, []); per.get(o.user).push(o.id); }
  }
  return [...per.entries()].slice(0, MAILBOXES);
}

(async () => {
  const tok = await token();
  const auth = { Authorization: `Bearer ${tok}`, Prefer: 'IdType="ImmutableId"' };
  const boxes = KIND === 'drive-url' ? await downloadUrls(auth, await truth()) : await truth();
  let items = 0, bytes = 0, errors = 0;
  const end = Date.now() + SECONDS * 1000; const t0 = process.hrtime.bigint();
  await Promise.all(boxes.flatMap(([user, ids]) => Array.from({ length: PER }, async (_, w) => {
    for (let i = w; Date.now() < end; i += PER) {
      const id = ids[i % ids.length];
      const u = encodeURIComponent(user), e = encodeURIComponent(id);
      if (KIND === 'mail') {
        const r = await req(`${info.graph_url}/v1.0/users/${u}/messages/${e}/$value`, { headers: auth });
        if (r.status !== 200) { errors++; continue; }
        bytes += r.bytes;
      } else if (KIND === 'drive-url') {
        const d = await req(id);
        if (d.status !== 200) { errors++; continue; }
        bytes += d.bytes;
      } else {
        const r = await req(`${info.graph_url}/v1.0/users/${u}/drive/items/${e}/content`, { headers: auth });
        if (r.status !== 302) { errors++; continue; }
        const d = await req(r.headers.location);
        if (d.status !== 200) { errors++; continue; }
        bytes += d.bytes;
      }
      items++;
    }
  })));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  console.log(JSON.stringify({ kind: KIND, mailboxes: boxes.length, seconds: +s.toFixed(2), items, items_per_s: +(items / s).toFixed(1),
    MB_per_s: +(bytes / s / 1048576).toFixed(2), errors }));
})().catch((e) => { console.error(e); process.exit(1); });
