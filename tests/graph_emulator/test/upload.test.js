'use strict';
// Upload sessions (createUploadSession, fragment rules, status, cancel, expiry, conflicts) and
// the throttling details: HTTP-date Retry-After and 509 on downloads.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const https = require('https');
const { startEmulator } = require('../testkit');

const FRAG = 320 * 1024;
let emu, u0, drive, docs;
before(async () => {
  emu = await startEmulator(['--users', '3', '--messages-per-user', '5', '--files-per-user', '20', '--max-file-mb', '2', '--seed', '23']);
  await emu.control('/control/knobs', { empty_page_rate: 0, replay_rate: 0 });
  u0 = (await emu.users())[0].id;
  drive = (await emu.get(`users/${u0}/drive`)).json();
  docs = (await emu.truth(`?user=${u0}&kinds=drive&hashes=0`)).find((x) => x.type === 'drive_item' && x.path.join('/') === 'Documents');
});
after(async () => { await emu.stop(); });

const up = (method, url, { headers = {}, body } = {}) => emu.request(method, url, { headers, body, agent: new https.Agent({ ca: emu.ca }) });
const post = async (path, body, headers = {}) => emu.request('POST', `${emu.info.graph_url}/v1.0/${path}`,
  { headers: { Authorization: `Bearer ${await emu.getToken()}`, 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
const put = (url, data, a, total) => up('PUT', url, { headers: { 'Content-Range': `bytes ${a}-${a + data.length - 1}/${total}`, 'Content-Length': String(data.length) }, body: data });
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

test('upload session: create, 320 KiB fragments with 202 + nextExpectedRanges, final 201 driveItem in children, delta, content and truth', async () => {
  const data = crypto.randomBytes(2 * FRAG + 1000);
  const r = await post(`drives/${drive.id}/items/${docs.id}:/big%20upload.bin:/createUploadSession`, { item: { '@microsoft.graph.conflictBehavior': 'fail', fileSystemInfo: { lastModifiedDateTime: '2020-01-02T03:04:05Z' } } });
  assert.strictEqual(r.status, 200, r.text());
  const s = r.json();
  assert.ok(s.uploadUrl.startsWith(emu.info.download_url)); assert.ok(Date.parse(s.expirationDateTime) > Date.now());
  assert.deepStrictEqual(s.nextExpectedRanges, ['0-']);
  const dl = await emu.follow(`drives/${drive.id}/root/delta?token=latest`);
  const p1 = await put(s.uploadUrl, data.subarray(0, FRAG), 0, data.length);
  assert.strictEqual(p1.status, 202); assert.deepStrictEqual(p1.json().nextExpectedRanges, [`${FRAG}-${data.length - 1}`]);
  const st = await up('GET', s.uploadUrl);
  assert.strictEqual(st.status, 200); assert.deepStrictEqual(st.json().nextExpectedRanges, [`${FRAG}-${data.length - 1}`]);
  assert.strictEqual((await put(s.uploadUrl, data.subarray(FRAG, 2 * FRAG), FRAG, data.length)).status, 202);
  const fin = await put(s.uploadUrl, data.subarray(2 * FRAG), 2 * FRAG, data.length);
  assert.strictEqual(fin.status, 201, fin.text());
  const item = fin.json();
  assert.strictEqual(item.name, 'big upload.bin'); assert.strictEqual(item.size, data.length);
  assert.strictEqual(item.parentReference.id, docs.id); assert.strictEqual(item.fileSystemInfo.lastModifiedDateTime, '2020-01-02T03:04:05Z');
  // session is gone after commit
  assert.strictEqual((await up('GET', s.uploadUrl)).status, 404);
  const got = await up('GET', (await emu.get(`drives/${drive.id}/items/${item.id}/content`)).headers.location);
  assert.strictEqual(sha(got.body), sha(data));
  const t = (await emu.truth(`?user=${u0}&kinds=drive`)).find((x) => x.id === item.id);
  assert.strictEqual(t.sha256, sha(data)); assert.strictEqual(t.size, data.length); assert.deepStrictEqual(t.path, ['Documents', 'big upload.bin']);
  const ch = await emu.follow(`drives/${drive.id}/items/${docs.id}/children`);
  assert.ok(ch.items.some((x) => x.id === item.id));
  const d2 = await emu.follow(dl.deltaLink);
  assert.ok(d2.items.some((x) => x.id === item.id && x.size === data.length));
});

test('fragment rules: 320 KiB multiple, order, overlap 416, fixed total, Content-Range checks; Authorization refused', async () => {
  const total = 3 * FRAG;
  const data = crypto.randomBytes(total);
  const s = (await post(`users/${u0}/drive/root:/Documents/rules.bin:/createUploadSession`, { item: { fileSize: total } })).json();
  assert.ok(s.uploadUrl, 'users/{u}/drive/root:/path: form');
  let r = await put(s.uploadUrl, data.subarray(0, 1000), 0, total);
  assert.strictEqual(r.status, 400); assert.strictEqual(r.json().error.code, 'invalidRange');
  r = await put(s.uploadUrl, data.subarray(0, FRAG), 0, total + 1);
  assert.strictEqual(r.status, 400, 'total differs from fileSize');
  r = await put(s.uploadUrl, data.subarray(FRAG, 2 * FRAG), FRAG, total);
  assert.strictEqual(r.status, 416); assert.strictEqual(r.json().error.innerError.code, 'fragmentOutOfOrder');
  r = await up('PUT', s.uploadUrl, { body: data.subarray(0, FRAG) });
  assert.strictEqual(r.status, 400, 'missing Content-Range');
  r = await up('PUT', s.uploadUrl, { headers: { 'Content-Range': `bytes 0-${FRAG}/${total}` }, body: data.subarray(0, FRAG) });
  assert.strictEqual(r.status, 400, 'length mismatch');
  await emu.control('/control/counters/reset', {});
  r = await up('PUT', s.uploadUrl, { headers: { Authorization: `Bearer ${await emu.getToken()}`, 'Content-Range': `bytes 0-${FRAG - 1}/${total}` }, body: data.subarray(0, FRAG) });
  assert.strictEqual(r.status, 401);
  assert.strictEqual((await emu.control('/control/counters')).violations.authorization_to_download_host, 1);
  assert.strictEqual((await put(s.uploadUrl, data.subarray(0, FRAG), 0, total)).status, 202);
  r = await put(s.uploadUrl, data.subarray(0, FRAG), 0, total);
  assert.strictEqual(r.status, 416); assert.strictEqual(r.json().error.innerError.code, 'fragmentOverlap');
  r = await put(s.uploadUrl, data.subarray(FRAG - 10, 2 * FRAG - 10), FRAG - 10, total);
  assert.strictEqual(r.status, 416);
  // resume from GET status
  const next = Number((await up('GET', s.uploadUrl)).json().nextExpectedRanges[0].split('-')[0]);
  assert.strictEqual(next, FRAG);
  r = await put(s.uploadUrl, data.subarray(FRAG), FRAG, total);
  assert.strictEqual(r.status, 201);
  assert.strictEqual((await emu.truth(`?user=${u0}&kinds=drive`)).find((x) => x.id === r.json().id).sha256, sha(data));
});

test('conflictBehavior fail/replace/rename; replace by item id; DELETE cancels; expiry gives 404 uploadSessionNotFound', async () => {
  const base = `drives/${drive.id}/items/${docs.id}:/conflict.txt:/createUploadSession`;
  const upload = async (url, bytes) => put(url, bytes, 0, bytes.length);
  const a = Buffer.from('first');
  const r1 = await upload((await post(base, {})).json().uploadUrl, a);
  assert.strictEqual(r1.status, 201);
  const c = await post(base, { item: { '@microsoft.graph.conflictBehavior': 'fail' } });
  assert.strictEqual(c.status, 409); assert.strictEqual(c.json().error.code, 'nameAlreadyExists');
  const ren = await upload((await post(base, { item: { '@microsoft.graph.conflictBehavior': 'rename' } })).json().uploadUrl, Buffer.from('second'));
  assert.strictEqual(ren.status, 201); assert.strictEqual(ren.json().name, 'conflict 1.txt');
  const rep = await upload((await post(`${base}?@microsoft.graph.conflictBehavior=replace`)).json().uploadUrl, Buffer.from('third!'));
  assert.strictEqual(rep.status, 200); assert.strictEqual(rep.json().id, r1.json().id); assert.strictEqual(rep.json().size, 6);
  // a conflict that appears between create and commit -> 409 at commit
  const late = (await post(`drives/${drive.id}/items/${docs.id}:/late.txt:/createUploadSession`, {})).json();
  assert.strictEqual((await upload((await post(`drives/${drive.id}/items/${docs.id}:/late.txt:/createUploadSession`, {})).json().uploadUrl, a)).status, 201);
  const lr = await upload(late.uploadUrl, a);
  assert.strictEqual(lr.status, 409); assert.strictEqual(lr.json().error.code, 'nameAlreadyExists');
  // replace an existing file by id, with If-Match
  const id = r1.json().id;
  assert.strictEqual((await post(`drives/${drive.id}/items/${id}/createUploadSession`, {}, { 'If-Match': '"{00000000-0000-0000-0000-000000000000},1"' })).status, 412);
  const byId = (await post(`drives/${drive.id}/items/${id}/createUploadSession`, {}, { 'If-Match': rep.json().eTag })).json();
  assert.strictEqual((await upload(byId.uploadUrl, Buffer.from('fourth'))).status, 200);
  assert.strictEqual((await emu.get(`drives/${drive.id}/items/${id}/versions`)).json().value.length, 3);
  // DELETE cancels
  const s = (await post(`drives/${drive.id}/items/${docs.id}:/cancel.bin:/createUploadSession`, {})).json();
  assert.strictEqual((await up('DELETE', s.uploadUrl)).status, 204);
  const gone = await up('GET', s.uploadUrl);
  assert.strictEqual(gone.status, 404); assert.strictEqual(gone.json().error.innerError.code, 'uploadSessionNotFound');
  // expiry via the control API
  const e = (await post(`drives/${drive.id}/items/${docs.id}:/expire.bin:/createUploadSession`, {})).json();
  assert.strictEqual((await put(e.uploadUrl, Buffer.alloc(FRAG), 0, 2 * FRAG)).status, 202);
  assert.strictEqual((await put(e.uploadUrl, Buffer.alloc(FRAG), FRAG, 3 * FRAG)).status, 400, 'the total is fixed by the first fragment');
  assert.strictEqual((await emu.control('/control/expire-upload-sessions', {})).expired >= 1, true);
  const ex = await put(e.uploadUrl, Buffer.alloc(FRAG), FRAG, 2 * FRAG);
  assert.strictEqual(ex.status, 404); assert.strictEqual(ex.json().error.code, 'itemNotFound'); assert.strictEqual(ex.json().error.innerError.code, 'uploadSessionNotFound');
  // deferCommit: the last fragment gives 202 with no ranges left, POST commits
  const dc = (await post(`drives/${drive.id}/items/${docs.id}:/deferred.txt:/createUploadSession`, { deferCommit: true })).json();
  const last = await upload(dc.uploadUrl, Buffer.from('deferred'));
  assert.strictEqual(last.status, 202); assert.deepStrictEqual(last.json().nextExpectedRanges, []);
  const cm = await up('POST', dc.uploadUrl);
  assert.strictEqual(cm.status, 201); assert.strictEqual(cm.json().name, 'deferred.txt');
  // bad requests
  assert.strictEqual((await post(`drives/${drive.id}/items/${docs.id}:/x.bin:/createUploadSession`, { item: { '@microsoft.graph.conflictBehavior': 'bogus' } })).status, 400);
  assert.strictEqual((await post(`drives/${drive.id}/items/${docs.id}:/a*b.bin:/createUploadSession`, {})).status, 400);
  assert.strictEqual((await post(`drives/${drive.id}/items/${docs.id}:/missing/x.bin:/createUploadSession`, {})).status, 404);
  assert.strictEqual((await emu.get(`drives/${drive.id}/items/${docs.id}:/x.bin:/createUploadSession`)).status, 405);
});

test('Retry-After as HTTP-date; rate_509 on downloads only', async () => {
  await emu.control('/control/counters/reset', {});
  await emu.control('/control/faults', { rate_429: 1, retry_after: 'date:3' });
  const r = await emu.get('users?$top=1');
  assert.strictEqual(r.status, 429);
  const when = Date.parse(r.headers['retry-after']);
  assert.match(r.headers['retry-after'], /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.ok(when > Date.now() + 1000 && when <= Date.now() + 3000, r.headers['retry-after']);
  await emu.control('/control/faults', { rate_429: 0, retry_after: '2' });
  assert.strictEqual((await emu.get('users?$top=1')).status, 200);
  assert.strictEqual((await emu.control('/control/counters')).violations.retry_before_retry_after, 1);
  const f = (await emu.truth(`?user=${u0}&kinds=drive&hashes=0`)).find((x) => x.type === 'drive_item' && !x.folder && x.size > 0);
  const loc = (await emu.get(`drives/${drive.id}/items/${f.id}/content`)).headers.location;
  await emu.control('/control/faults', { rate_509: 1, retry_after: '1' });
  const meta = await emu.get(`drives/${drive.id}/items/${f.id}`);
  assert.strictEqual(meta.status, 200, 'Graph requests are not given 509');
  const b = await up('GET', loc);
  assert.strictEqual(b.status, 509); assert.strictEqual(b.headers['retry-after'], '1');
  assert.strictEqual(b.json().error.code, 'bandwidthLimitExceeded');
  await emu.control('/control/faults', { rate_509: 0, retry_after: '2' });
  assert.strictEqual((await up('GET', loc)).status, 200);
  assert.strictEqual((await emu.control('/control/counters')).throttled.injected_509, 1);
  await assert.rejects(emu.control('/control/faults', { retry_after: 'soon' }));
});
