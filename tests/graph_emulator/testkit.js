'use strict';
// Test helper: start an emulator in a temp dir, plain HTTPS requests trusting its CA, a token
// cache, control API calls, and delta/paging followers.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const https = require('https');
const http = require('http');

async function startEmulator(args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-emu-'));
  const proc = spawn(process.execPath, [path.join(__dirname, 'server.js'), '--state-dir', dir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let buf = '';
    const to = setTimeout(() => reject(new Error('emulator did not start')), 30000);
    proc.stdout.on('data', (d) => { buf += d; const i = buf.indexOf('\n'); if (i >= 0) { clearTimeout(to); resolve(JSON.parse(buf.slice(0, i))); } });
    proc.on('exit', (c) => reject(new Error(`emulator exited ${c}`)));
  });
  // never leave an emulator behind, even if the test process dies
  process.once('exit', () => { try { proc.kill('SIGTERM'); } catch { /* gone */ } });
  const ca = fs.readFileSync(info.ca_file);
  const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 64 });
  const emu = {
    dir, info, proc, ca, agent, token: null,
    async stop() { agent.destroy(); proc.kill('SIGTERM'); await new Promise((r) => proc.once('exit', r)); fs.rmSync(dir, { recursive: true, force: true }); },
    // raw request; returns {status, headers, body (Buffer), json()}
    request(method, url, { headers = {}, body, agent: ag } = {}) {
      return new Promise((resolve, reject) => {
        const u = new URL(url);
        const mod = u.protocol === 'https:' ? https : http;
        const r = mod.request(u, { method, headers, agent: u.protocol === 'https:' ? (ag === undefined ? agent : ag) : undefined, ca }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const b = Buffer.concat(chunks);
            resolve({ status: res.statusCode, headers: res.headers, body: b, text: () => b.toString('utf8'), json: () => JSON.parse(b.toString('utf8')) });
          });
          res.on('error', reject);
        });
        r.on('error', reject);
        if (body) r.write(body);
        r.end();
      });
    },
    async getToken(force) {
      if (this.token && !force) return this.token;
      const form = new URLSearchParams({ client_id: info.client_id, client_secret: info.client_secret, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' });
      const r = await this.request('POST', `${info.login_url}/${info.tenant_id}/oauth2/v2.0/token`, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      if (r.status !== 200) throw new Error('token failed ' + r.text());
      this.token = r.json().access_token; return this.token;
    },
    async get(pathOrUrl, headers = {}) {
      const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${info.graph_url}/v1.0/${pathOrUrl.replace(/^\//, '')}`;
      return this.request('GET', url, { headers: { Authorization: `Bearer ${await this.getToken()}`, ...headers } });
    },
    async control(p, body) {
      const r = await this.request(body === undefined ? 'GET' : 'POST', `${info.control_url}${p}`, { headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (r.status !== 200) throw new Error(`control ${p} -> ${r.status} ${r.text()}`);
      return p === '/control/truth' || p.startsWith('/control/truth?') ? r.text() : r.json();
    },
    async truth(q = '') { return (await this.control(`/control/truth${q}`)).trim().split('\n').map((l) => JSON.parse(l)); },
    // follow nextLinks until a deltaLink (or end); returns {items, pages, deltaLink, emptyPages}
    async follow(first, headers = {}) {
      let url = first; const items = []; let pages = 0, emptyPages = 0; const links = [];
      for (;;) {
        const r = await this.get(url, headers);
        if (r.status !== 200) return { status: r.status, error: r.json(), headers: r.headers, items };
        const j = r.json(); pages++; if (!j.value.length && j['@odata.nextLink']) emptyPages++;
        items.push(...j.value);
        if (j['@odata.nextLink']) { links.push(j['@odata.nextLink']); url = j['@odata.nextLink']; continue; }
        return { items, pages, emptyPages, deltaLink: j['@odata.deltaLink'], links, lastHeaders: r.headers };
      }
    },
    async users() { return (await this.follow('users?$top=999')).items; },
  };
  return emu;
}

module.exports = { startEmulator };
