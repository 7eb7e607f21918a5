'use strict';
// /content redirects and the download host (no Authorization, Range, expiry, versions),
// throttling (mailbox concurrency, Retry-After forms, early retries, 503, resets, drive budget),
// $batch, and counters.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const https = require('https');
const { startEmulator } = require('../testkit');

let emu, u0, drive, files;
before(async () => {
  emu = await startEmulator(['--users', '4', '--messages-per-user', '60', '--files-per-user', '30', '--max-file-mb', '6', '--seed', '11']);
  await emu.control('/control/knobs', { empty_page_rate: 0, replay_rate: 0 });
  u0 = (await emu.users())[0].id;
  drive = (await emu.get(`users/${u0}/drive`)).json();
  files = (await emu.truth(`?user=${u0}&kinds=drive`)).filter((x) => x.type === 'drive_item' && !x.folder);
});
after(async () => { await emu.stop(); });

const noAuth = (url, headers = {}) => emu.request('GET', url, { headers, agent: new https.Agent({ ca: emu.ca }) });

test('/content is a 302 to the download host; the bytes match truth sha256; Authorization is refused', async () => {
  const f = files.filter((x) => x.size > 100000).sort((a, b) => b.size - a.size)[0];
  const r = await emu.get(`drives/${drive.id}/items/${f.id}/content`);
  assert.strictEqual(r.status, 302);
  const loc = r.headers.location;
  assert.ok(loc.startsWith(emu.info.download_url));
  const d = await noAuth(loc);
  assert.strictEqual(d.status, 200); assert.strictEqual(d.body.length, f.size);
  assert.strictEqual(crypto.createHash('sha256').update(d.body).digest('hex'), f.sha256);
  await emu.control('/control/counters/reset', {});
  const bad = await noAuth(loc, { Authorization: `Bearer ${await emu.getToken()}` });
  assert.strictEqual(bad.status, 401);
  const c = await emu.control('/control/counters');
  assert.strictEqual(c.violations.authorization_to_download_host, 1);
  const zero = files.find((x) => x.size === 0);
  const z = await noAuth((await emu.get(`drives/${drive.id}/items/${zero.id}/content`)).headers.location);
  assert.strictEqual(z.status, 200); assert.strictEqual(z.body.length, 0);
  const big = files.find((x) => x.size === 6 * 1024 * 1024);
  assert.ok(big, 'user 0 has a file of exactly --max-file-mb');
});

test('Range requests give 206 with Content-Range; unsatisfiable gives 416; downloadUrl in items works', async () => {
  const f = files.filter((x) => x.size > 5000)[0];
  const item = (await emu.get(`drives/${drive.id}/items/${f.id}`)).json();
  const url = item['@microsoft.graph.downloadUrl'];
  const full = (await noAuth(url)).body;
  const r = await noAuth(url, { Range: 'bytes=100-1123' });
  assert.strictEqual(r.status, 206); assert.strictEqual(r.headers['content-range'], `bytes 100-1123/${f.size}`);
  assert.deepStrictEqual(r.body, full.subarray(100, 1124));
  const tail = await noAuth(url, { Range: 'bytes=-17' });
  assert.deepStrictEqual(tail.body, full.subarray(full.length - 17));
  const open = await noAuth(url, { Range: `bytes=${f.size - 3}-` });
  assert.strictEqual(open.body.length, 3);
  assert.strictEqual((await noAuth(url, { Range: `bytes=${f.size}-` })).status, 416);
});

test('download URLs expire; versions list and version content', async () => {
  await emu.control('/control/knobs', { download_url_ttl: 1 });
  const f = files.find((x) => x.version >= 2) || files[0];
  const loc = (await emu.get(`drives/${drive.id}/items/${f.id}/content`)).headers.location;
  await emu.control('/control/knobs', { download_url_ttl: 3600 });
  await new Promise((r) => setTimeout(r, 2100));
  assert.strictEqual((await noAuth(loc)).status, 401);
  const v = (await emu.get(`drives/${drive.id}/items/${f.id}/versions`)).json().value;
  assert.strictEqual(v.length, f.version); assert.strictEqual(v[0].id, `${f.version}.0`);
  const vc = await emu.get(`drives/${drive.id}/items/${f.id}/versions/${v[v.length - 1].id}/content`);
  assert.strictEqual(vc.status, 302);
  const body = (await noAuth(vc.headers.location)).body;
  assert.strictEqual(body.length, v[v.length - 1].size);
});

test('5th concurrent request to one mailbox gets 429 ApplicationThrottled and counts a violation', async () => {
  await emu.control('/control/counters/reset', {});
  await emu.control('/control/knobs', { latency_ms: 300, retry_after: '1' });
  const rs = await Promise.all([...Array(6).keys()].map((i) => emu.get(`users/${u0}/mailFolders/inbox/messages?$top=${i + 1}`)));
  await emu.control('/control/knobs', { latency_ms: 0 });
  const t = rs.filter((r) => r.status === 429);
  assert.strictEqual(t.length, 2); assert.strictEqual(rs.filter((r) => r.status === 200).length, 4);
  assert.strictEqual(t[0].json().error.code, 'ApplicationThrottled');
  assert.strictEqual(t[0].json().error.message, 'Application is over its MailboxConcurrency limit.');
  assert.strictEqual(t[0].headers['retry-after'], '1');
  const c = await emu.control('/control/counters');
  assert.strictEqual(c.violations.mailbox_concurrency, 2);
  // four at a time is fine
  await emu.control('/control/knobs', { latency_ms: 100 });
  const ok4 = await Promise.all([...Array(4).keys()].map(() => emu.get(`users/${u0}/mailFolders`)));
  await emu.control('/control/knobs', { latency_ms: 0 });
  assert.ok(ok4.every((r) => r.status === 200));
});

test('injected 429 with fractional Retry-After; early retry is a violation; honoured retry is not', async () => {
  await emu.control('/control/counters/reset', {});
  await emu.control('/control/faults', { rate_429: 1, retry_after: '0.25' });
  const r = await emu.get('users?$top=2');
  assert.strictEqual(r.status, 429); assert.strictEqual(r.headers['retry-after'], '0.25');
  assert.strictEqual(r.json().error.code, 'TooManyRequests');
  await emu.control('/control/faults', { rate_429: 0 });
  await emu.get('users?$top=2');
  let c = await emu.control('/control/counters');
  assert.strictEqual(c.violations.retry_before_retry_after, 1);
  await emu.control('/control/faults', { rate_429: 1, retry_after: '1.5' });
  const r2 = await emu.get('users?$top=3');
  assert.strictEqual(r2.headers['retry-after'], '1.5');
  await emu.control('/control/faults', { rate_429: 0, retry_after: '2' });
  await new Promise((res) => setTimeout(res, 1500));
  assert.strictEqual((await emu.get('users?$top=3')).status, 200);
  c = await emu.control('/control/counters');
  assert.strictEqual(c.violations.retry_before_retry_after, 1);
  assert.ok(c.throttled.injected >= 2);
});

test('empty-body 503 and connection resets', async () => {
  await emu.control('/control/faults', { rate_503: 1 });
  const r = await emu.get('users');
  assert.strictEqual(r.status, 503); assert.strictEqual(r.body.length, 0);
  await emu.control('/control/faults', { rate_503: 0, rate_reset: 1 });
  await assert.rejects(emu.get('users'), (e) => /socket hang up|ECONNRESET/.test(e.message));
  await emu.control('/control/faults', { rate_reset: 0 });
  assert.strictEqual((await emu.get('users')).status, 200);
  const c = await emu.control('/control/counters');
  assert.ok(c.faults['503_empty'] >= 1 && c.faults.reset >= 1);
});

test('per-tenant drive resource-unit budget gives 429 with Retry-After', async () => {
  await emu.control('/control/knobs', { drive_ru_per_minute: 5 });
  const st = [];
  for (let i = 0; i < 6; i++) st.push(await emu.get(`drives/${drive.id}/items/${files[i].id}`));
  await emu.control('/control/knobs', { drive_ru_per_minute: 0 });
  const t = st.find((r) => r.status === 429);
  assert.ok(t); assert.ok(Number(t.headers['retry-after']) >= 1);
  assert.strictEqual(st.filter((r) => r.status === 200).length, 5);
});

test('$batch: limit 20, dependsOn + 424, base64 $value, 302 not followed, inner 429 for >4 per mailbox', async () => {
  const tok = await emu.getToken();
  const post = (body) => emu.request('POST', `${emu.info.graph_url}/v1.0/$batch`, { headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const many = { requests: [...Array(21).keys()].map((i) => ({ id: String(i), method: 'GET', url: '/users' })) };
  assert.strictEqual((await post(many)).status, 400);
  const msg = (await emu.get(`users/${u0}/messages?$top=1`)).json().value[0];
  const f = files.find((x) => x.size > 0);
  const r = await post({ requests: [
    { id: 'a', method: 'GET', url: `/users/${u0}/messages/${encodeURIComponent(msg.id)}/$value` },
    { id: 'b', method: 'GET', url: `/drives/${drive.id}/items/${f.id}/content` },
    { id: 'c', method: 'GET', url: '/users/not-a-user/mailFolders' },
    { id: 'd', method: 'GET', url: '/users?$top=1', dependsOn: ['c'] },
    { id: 'e', method: 'GET', url: '/users?$top=1', dependsOn: ['a'] },
  ] });
  assert.strictEqual(r.status, 200);
  const by = Object.fromEntries(r.json().responses.map((x) => [x.id, x]));
  assert.strictEqual(by.a.status, 200); assert.match(Buffer.from(by.a.body, 'base64').toString(), /MIME-Version: 1.0/);
  assert.strictEqual(by.b.status, 302); assert.ok(by.b.headers.Location.startsWith(emu.info.download_url));
  assert.strictEqual(by.c.status, 404); assert.strictEqual(by.d.status, 424); assert.strictEqual(by.e.status, 200);
  // shuffled order: over several batches the order differs from the request order at least once
  let shuffled = false;
  for (let i = 0; i < 5 && !shuffled; i++) {
    const rr = await post({ requests: [...Array(8).keys()].map((k) => ({ id: String(k), method: 'GET', url: '/users?$top=1' })) });
    shuffled = rr.json().responses.map((x) => x.id).join() !== '0,1,2,3,4,5,6,7';
  }
  assert.ok(shuffled);
  await emu.control('/control/knobs', { latency_ms: 50 });
  const par = await post({ requests: [...Array(6).keys()].map((k) => ({ id: String(k), method: 'GET', url: `/users/${u0}/mailFolders/inbox` })) });
  await emu.control('/control/knobs', { latency_ms: 0 });
  const sts = par.json().responses.map((x) => x.status);
  assert.strictEqual(sts.filter((s) => s === 429).length, 2);
  const t = par.json().responses.find((x) => x.status === 429);
  assert.ok(t.headers['Retry-After']);
  const chain = await post({ requests: [...Array(6).keys()].map((k) => ({ id: String(k), method: 'GET', url: `/users/${u0}/mailFolders/inbox`, ...(k ? { dependsOn: [String(k - 1)] } : {}) })) });
  assert.ok(chain.json().responses.every((x) => x.status === 200));
});

test('counters report requests by kind', async () => {
  await noAuth((await emu.get(`drives/${drive.id}/items/${files[0].id}/content`)).headers.location);
  const c = await emu.control('/control/counters');
  for (const k of ['users', 'messages_list', 'drive_content', 'download', 'batch', 'token']) assert.ok(c.requests[k] >= 1 || k === 'token', k);
  assert.ok(c.status['200'] > 0);
});
