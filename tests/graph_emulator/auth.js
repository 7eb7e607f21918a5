'use strict';
// Entra ID token endpoint (client credentials with a secret or a certificate assertion JWT) and
// bearer-token validation for Graph requests.
const crypto = require('crypto');
const { isoMs } = require('./util');

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

class Auth {
  constructor(ctx, tls) {
    this.ctx = ctx; this.tls = tls; this.tokens = new Map(); // token -> exp (ms)
    this.secret = null; this.recent = []; this.usedJti = new Map();
  }
  oauthErr(status, error, code, desc) {
    const corr = crypto.randomUUID();
    return { status, headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
      json: { error, error_description: `AADSTS${code}: ${desc}\r\nTrace ID: ${crypto.randomUUID()}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${isoMs(Date.now()).replace('T', ' ').replace('Z', 'Z')}`,
        error_codes: [code], timestamp: isoMs(Date.now()).replace('T', ' '), trace_id: crypto.randomUUID(), correlation_id: corr, error_uri: `https://login.microsoftonline.com/error?code=${code}` } };
  }
  // token storm detection: more than knobs.token_storm_per_10s token requests in 10 s
  noteRequest() {
    const now = Date.now(); this.recent.push(now);
    while (this.recent.length && this.recent[0] < now - 10000) this.recent.shift();
    if (this.recent.length > this.ctx.knobs.token_storm_per_10s) this.ctx.counters.violation('token_storm');
  }
  tokenRequest(tenant, headers, rawBody) {
    const ctx = this.ctx; this.noteRequest();
    if (tenant !== ctx.tenant.tenantId && tenant.toLowerCase() !== ctx.tenant.domain) return this.oauthErr(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    if (!/application\/x-www-form-urlencoded/i.test(headers['content-type'] || '')) return this.oauthErr(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    const f = new URLSearchParams(rawBody.toString('utf8'));
    let clientId = f.get('client_id'); let secret = f.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(headers.authorization || '');
    if (basic) {
      const dec = Buffer.from(basic[1], 'base64').toString('utf8'); const i = dec.indexOf(':');
      if (i > 0) { clientId = clientId || decodeURIComponent(dec.slice(0, i)); secret = decodeURIComponent(dec.slice(i + 1)); }
    }
    const grant = f.get('grant_type');
    if (!grant) return this.oauthErr(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grant !== 'client_credentials') return this.oauthErr(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (!clientId) return this.oauthErr(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    if (clientId !== ctx.tenant.clientId) return this.oauthErr(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory.`);
    const scope = f.get('scope');
    if (!scope) return this.oauthErr(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    if (scope !== 'https://graph.microsoft.com/.default') return this.oauthErr(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    const atype = f.get('client_assertion_type'); const assertion = f.get('client_assertion');
    if (assertion || atype) {
      if (atype !== ASSERTION_TYPE) return this.oauthErr(400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
      const err = this.checkAssertion(assertion, tenant, clientId);
      if (err) return this.oauthErr(401, 'invalid_client', err[0], err[1]);
    } else if (secret == null) {
      return this.oauthErr(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    } else if (secret !== this.secret) {
      return this.oauthErr(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.');
    }
    const ttl = ctx.knobs.token_ttl;
    const tok = this.issue(ttl);
    ctx.counters.inc('tokens_issued');
    return { status: 200, headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
      json: { token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: tok } };
  }
  issue(ttl) {
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const hdr = b64({ typ: 'JWT', alg: 'RS256', x5t: 'emulator', kid: 'emulator' });
    const body = b64({ aud: 'https://graph.microsoft.com', iss: `https://sts.windows.net/${this.ctx.tenant.tenantId}/`, iat: now, nbf: now, exp: now + ttl,
      app_displayname: 'm365vault', appid: this.ctx.tenant.clientId, idtyp: 'app', roles: ['Mail.Read', 'Files.Read.All', 'User.Read.All', 'Contacts.Read', 'Calendars.Read'],
      tid: this.ctx.tenant.tenantId, uti: crypto.randomBytes(16).toString('base64url'), ver: '1.0' });
    const tok = `${hdr}.${body}.${crypto.randomBytes(64).toString('base64url')}`;
    this.tokens.set(tok, Date.now() + ttl * 1000);
    if (this.tokens.size > 100000) this.tokens.delete(this.tokens.keys().next().value);
    return tok;
  }
  expireAll() { for (const k of this.tokens.keys()) this.tokens.set(k, 0); }
  checkAssertion(jwt, tenant, clientId) {
    const parts = (jwt || '').split('.');
    if (parts.length !== 3) return [50027, 'JWT token is invalid or malformed.'];
    let h, p;
    try { h = JSON.parse(Buffer.from(parts[0], 'base64url')); p = JSON.parse(Buffer.from(parts[1], 'base64url')); } catch { return [50027, 'JWT token is invalid or malformed.']; }
    if (h.alg !== 'RS256' && h.alg !== 'PS256') return [5002738, `Unsupported JWT algorithm '${h.alg}'.`];
    const t = this.tls;
    if (h['x5t#S256'] !== undefined ? h['x5t#S256'] !== t.clientX5tS256 : h.x5t !== t.clientX5t) return [700027, 'Client assertion failed signature validation: the certificate thumbprint (x5t / x5t#S256) does not match a registered certificate.'];
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2], 'base64url');
    let good = false;
    try {
      good = h.alg === 'RS256' ? crypto.verify('sha256', data, t.clientPublicKey, sig)
        : crypto.verify('sha256', data, { key: t.clientPublicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO }, sig);
    } catch { good = false; }
    if (!good) return [700027, 'Client assertion failed signature validation.'];
    const okAud = [`${this.ctx.loginUrl}/${tenant}/oauth2/v2.0/token`, `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`, `https://login.microsoftonline.com/${tenant}/v2.0`];
    if (!okAud.includes(p.aud)) return [700212, `No matching federated identity record found for presented assertion audience '${p.aud}'.`];
    if (p.iss !== clientId || p.sub !== clientId) return [700021, 'Client assertion application identifier doesn\'t match \'client_id\' parameter.'];
    const now = Date.now() / 1000;
    if (typeof p.exp !== 'number' || p.exp < now - 300) return [700024, 'Client assertion is not within its valid time range.'];
    if (typeof p.nbf === 'number' && p.nbf > now + 300) return [700024, 'Client assertion is not within its valid time range.'];
    if (p.exp - now > 86400 * 2) return [700024, 'Client assertion contains an invalid expiration (too far in the future).'];
    if (p.jti) {
      if (this.usedJti.has(p.jti)) this.ctx.counters.violation('assertion_jti_reused');
      this.usedJti.set(p.jti, p.exp); if (this.usedJti.size > 100000) this.usedJti.delete(this.usedJti.keys().next().value);
    }
    return null;
  }
  // Graph-side validation; returns null when OK or an error response
  check(headers) {
    const h = headers.authorization || '';
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const www = (extra) => ({ 'WWW-Authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"${extra || ''}` });
    const fail = (msg, extra) => ({ status: 401, headers: www(extra), json: { error: { code: 'InvalidAuthenticationToken', message: msg, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } } } });
    if (!m) return fail('Access token is empty.');
    const exp = this.tokens.get(m[1]);
    if (exp === undefined) return fail(m[1].split('.').length === 3 ? 'Access token validation failure. Invalid audience.' : 'CompactToken parsing failed with error code: 80049217');
    if (exp <= Date.now()) return fail('Access token has expired or is not yet valid.', ', error="invalid_token", error_description="expired_token"');
    return null;
  }
}

module.exports = { Auth };
