'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const fs = require('fs');
const { startEmulator } = require('../testkit');

let emu;
before(async () => { emu = await startEmulator(['--users', '3', '--messages-per-user', '20', '--files-per-user', '5']); });
after(async () => { await emu.stop(); });

const tokenUrl = () => `${emu.info.login_url}/${emu.info.tenant_id}/oauth2/v2.0/token`;
const post = (form, headers = {}) => emu.request('POST', tokenUrl(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
const base = () => ({ client_id: emu.info.client_id, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' });

function assertion({ alg = 'RS256', s256 = false, aud, iss, exp, nbf, wrongKey } = {}) {
  const pem = fs.readFileSync(emu.info.client_cert_file, 'utf8');
  const cert = new crypto.X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE')));
  const key = wrongKey ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : crypto.createPrivateKey(pem);
  const now = Math.floor(Date.now() / 1000);
  const h = { alg, typ: 'JWT' };
  if (s256) h['x5t#S256'] = crypto.createHash('sha256').update(cert.raw).digest('base64url');
  else h.x5t = crypto.createHash('sha1').update(cert.raw).digest('base64url');
  const p = { aud: aud || tokenUrl(), iss: iss || emu.info.client_id, sub: iss || emu.info.client_id, jti: crypto.randomUUID(), nbf: nbf || now, iat: now, exp: exp || now + 600 };
  const data = `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
  const sig = alg === 'RS256' ? crypto.sign('sha256', Buffer.from(data), key)
    : crypto.sign('sha256', Buffer.from(data), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `${data}.${sig.toString('base64url')}`;
}
const withAssertion = (a) => ({ ...base(), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });

test('client secret in the form gives a bearer token with expires_in and ext_expires_in', async () => {
  const r = await post({ ...base(), client_secret: emu.info.client_secret });
  assert.strictEqual(r.status, 200);
  const j = r.json();
  assert.strictEqual(j.token_type, 'Bearer'); assert.ok(j.expires_in > 0); assert.ok(j.ext_expires_in > 0); assert.ok(j.access_token.length > 20);
  const g = await emu.request('GET', `${emu.info.graph_url}/v1.0/users`, { headers: { Authorization: `Bearer ${j.access_token}` } });
  assert.strictEqual(g.status, 200);
  assert.strictEqual(fs.readFileSync(emu.info.client_secret_file, 'utf8').trim(), emu.info.client_secret);
  assert.strictEqual(fs.statSync(emu.info.client_secret_file).mode & 0o777, 0o600);
});

test('client secret via HTTP Basic', async () => {
  const b = Buffer.from(`${encodeURIComponent(emu.info.client_id)}:${encodeURIComponent(emu.info.client_secret)}`).toString('base64');
  const f = base(); delete f.client_id;
  const r = await post(f, { Authorization: `Basic ${b}` });
  assert.strictEqual(r.status, 200, r.text());
});

test('bad secret, unknown client, bad scope, wrong tenant, missing grant give OAuth-style errors', async () => {
  let r = await post({ ...base(), client_secret: 'nope' });
  assert.strictEqual(r.status, 401); assert.strictEqual(r.json().error, 'invalid_client'); assert.deepStrictEqual(r.json().error_codes, [7000215]);
  assert.ok(r.json().error_description.startsWith('AADSTS7000215')); assert.ok(r.json().trace_id && r.json().correlation_id && r.json().timestamp);
  r = await post({ ...base(), client_id: crypto.randomUUID(), client_secret: emu.info.client_secret });
  assert.strictEqual(r.status, 400); assert.strictEqual(r.json().error, 'unauthorized_client');
  r = await post({ ...base(), scope: 'User.Read', client_secret: emu.info.client_secret });
  assert.strictEqual(r.status, 400); assert.strictEqual(r.json().error, 'invalid_scope');
  r = await emu.request('POST', `${emu.info.login_url}/${crypto.randomUUID()}/oauth2/v2.0/token`, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...base(), client_secret: emu.info.client_secret }).toString() });
  assert.strictEqual(r.status, 400); assert.strictEqual(r.json().error, 'invalid_request');
  const f = { ...base(), client_secret: emu.info.client_secret }; delete f.grant_type;
  r = await post(f); assert.strictEqual(r.status, 400); assert.strictEqual(r.json().error, 'invalid_request');
});

test('certificate assertion: RS256 with x5t and PS256 with x5t#S256 are accepted', async () => {
  let r = await post(withAssertion(assertion({ alg: 'RS256' })));
  assert.strictEqual(r.status, 200, r.text());
  r = await post(withAssertion(assertion({ alg: 'PS256', s256: true })));
  assert.strictEqual(r.status, 200, r.text());
  r = await post(withAssertion(assertion({ aud: `https://login.microsoftonline.com/${emu.info.tenant_id}/oauth2/v2.0/token` })));
  assert.strictEqual(r.status, 200, r.text());
});

test('certificate assertion: wrong key, audience, issuer, expiry are rejected with invalid_client', async () => {
  for (const bad of [{ wrongKey: true }, { aud: 'https://example.test/token' }, { iss: crypto.randomUUID() }, { exp: Math.floor(Date.now() / 1000) - 3600 }]) {
    const r = await post(withAssertion(assertion(bad)));
    assert.strictEqual(r.status, bad.iss ? 401 : 401, JSON.stringify(bad));
    assert.strictEqual(r.json().error, 'invalid_client', JSON.stringify(bad));
  }
  const r = await post(withAssertion('not.a.jwt'));
  assert.strictEqual(r.json().error, 'invalid_client');
});

test('expired and invalid tokens give 401 InvalidAuthenticationToken with WWW-Authenticate', async () => {
  let r = await emu.request('GET', `${emu.info.graph_url}/v1.0/users`, { headers: { Authorization: 'Bearer garbage' } });
  assert.strictEqual(r.status, 401); assert.strictEqual(r.json().error.code, 'InvalidAuthenticationToken'); assert.match(r.headers['www-authenticate'], /^Bearer realm=""/);
  r = await emu.request('GET', `${emu.info.graph_url}/v1.0/users`);
  assert.strictEqual(r.status, 401);
  await emu.control('/control/token-ttl', { seconds: 1 });
  const tr = await post({ ...base(), client_secret: emu.info.client_secret });
  assert.strictEqual(tr.json().expires_in, 1);
  const tok = tr.json().access_token;
  r = await emu.request('GET', `${emu.info.graph_url}/v1.0/users`, { headers: { Authorization: `Bearer ${tok}` } });
  assert.strictEqual(r.status, 200);
  await new Promise((res) => setTimeout(res, 1100));
  r = await emu.request('GET', `${emu.info.graph_url}/v1.0/users`, { headers: { Authorization: `Bearer ${tok}` } });
  assert.strictEqual(r.status, 401); assert.strictEqual(r.json().error.code, 'InvalidAuthenticationToken');
  assert.match(r.json().error.message, /expired/); assert.match(r.headers['www-authenticate'], /expired_token/);
  await emu.control('/control/token-ttl', { seconds: 3599 });
});

test('token request storms are counted as violations', async () => {
  await emu.control('/control/counters/reset', {});
  await emu.control('/control/knobs', { token_storm_per_10s: 3 });
  for (let i = 0; i < 6; i++) await post({ ...base(), client_secret: emu.info.client_secret });
  const c = await emu.control('/control/counters');
  assert.ok(c.violations.token_storm >= 3, JSON.stringify(c.violations));
  await emu.control('/control/knobs', { token_storm_per_10s: 20 });
});
