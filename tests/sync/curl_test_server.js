// tests/sync/curl_test_server.js: a tiny HTTPS server for the CurlHttpClient
// integration test (curl_http_client_test.cpp). Not a Graph emulator: just
// enough protocol to check TLS, auth, paging, 302 without auth, Range resume,
// gzip and 429 handling over a real socket.
// Usage: node curl_test_server.js KEY_PEM CERT_PEM  -> prints "PORT <n>".
'use strict';
const fs = require('fs');
const https = require('https');
const zlib = require('zlib');

const key = fs.readFileSync(process.argv[2]);
const cert = fs.readFileSync(process.argv[3]);
const TOKEN = 'test-access-token';
const BLOB = Buffer.alloc(200000);
for (let i = 0; i < BLOB.length; i++) BLOB[i] = (i * 7 + (i >> 9)) & 0xff;
const counters = { violations: 0, token_requests: 0, blob_requests: 0, range_requests: 0, throttled: 0, requests: 0,
                   tls_connections: 0 };
let broke = false;
let throttledOnce = false;

function json(res, status, body, headers = {}) {
  res.writeHead(status, Object.assign({ 'Content-Type': 'application/json' }, headers));
  res.end(JSON.stringify(body));
}

const server = https.createServer({ key, cert }, (req, res) => {
  counters.requests++;
  const base = `https://127.0.0.1:${server.address().port}`;
  const url = new URL(req.url, base);
  const auth = req.headers['authorization'];
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (url.pathname === '/control/counters') return json(res, 200, counters);
    if (url.pathname === '/tenant-1/oauth2/v2.0/token') {
      counters.token_requests++;
      const form = new URLSearchParams(body);
      if (form.get('scope') !== 'https://graph.microsoft.com/.default' || form.get('client_secret') !== 'pw') {
        return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: bad secret' });
      }
      return json(res, 200, { token_type: 'Bearer', expires_in: 3599, access_token: TOKEN });
    }
    if (url.pathname.startsWith('/blob/')) {
      counters.blob_requests++;
      if (auth) { counters.violations++; return json(res, 400, { error: { code: 'authOnBlob' } }); }
      let start = 0;
      const range = req.headers['range'];
      if (range) {
        counters.range_requests++;
        start = parseInt(/^bytes=(\d+)-$/.exec(range)[1], 10);
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${BLOB.length - 1}/${BLOB.length}`,
                             'Content-Length': BLOB.length - start });
      } else {
        res.writeHead(200, { 'Content-Length': BLOB.length });
      }
      if (url.pathname === '/blob/break' && !broke) {
        broke = true;  // send part of the body, then drop the connection
        res.write(BLOB.subarray(start, start + 70000), () => setTimeout(() => req.socket.destroy(), 50));
        return;
      }
      return res.end(BLOB.subarray(start));
    }
    if (auth !== `Bearer ${TOKEN}`) {
      counters.violations++;
      return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'no token' } });
    }
    if (url.pathname === '/v1.0/users') {
      const page = url.searchParams.get('$skiptoken') || '0';
      if (req.headers['prefer'] !== 'odata.maxpagesize=2') counters.violations++;
      if (page === '0') return json(res, 200, { value: [{ id: 'u1' }, { id: 'u2' }], '@odata.nextLink': `${base}/v1.0/users?$skiptoken=1` });
      if (page === '1') return json(res, 200, { value: [], '@odata.nextLink': `${base}/v1.0/users?$skiptoken=2` });
      return json(res, 200, { value: [{ id: 'u3' }], '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=x` });
    }
    if (url.pathname === '/v1.0/gzip') {
      if (!/gzip/.test(req.headers['accept-encoding'] || '')) counters.violations++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      return res.end(zlib.gzipSync(JSON.stringify({ value: 'x'.repeat(5000) })));
    }
    if (url.pathname === '/v1.0/throttle') {
      if (!throttledOnce) { throttledOnce = true; counters.throttled++;
        return json(res, 429, { error: { code: 'TooManyRequests' } }, { 'Retry-After': '0.2' }); }
      return json(res, 200, { ok: true });
    }
    const m = /^\/v1\.0\/drives\/d\/items\/(\w+)\/content$/.exec(url.pathname);
    if (m) {
      res.writeHead(302, { Location: `${base}/blob/${m[1]}` });
      return res.end();
    }
    return json(res, 404, { error: { code: 'itemNotFound', message: url.pathname } });
  });
});
server.on('secureConnection', () => counters.tls_connections++);
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
