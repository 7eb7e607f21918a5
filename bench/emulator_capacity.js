#!/usr/bin/env node
'use strict';
// Capacity of the Graph emulator on this machine: requests/s and MB/s for small JSON pages,
// message $value (MIME) and large file downloads, with 4 concurrent clients per mailbox.
// Usage: node bench/emulator_capacity.js [--seconds N] [--mailboxes N] [--file-mb N]
// The load generator runs in this process; the emulator in its own process (same machine).
const path = require('path');
const https = require('https');
const { startEmulator } = require(path.join(__dirname, '..', 'tests', 'graph_emulator', 'testkit'));

const args = Object.fromEntries(process.argv.slice(2).reduce((a, x, i, arr) => (x.startsWith('--') ? a.concat([[x.slice(2), arr[i + 1]]]) : a), []));
const SECONDS = Number(args.seconds || 5);
const MAILBOXES = Number(args.mailboxes || 2);
const FILE_MB = Number(args['file-mb'] || 64);
const PER_MAILBOX = 4;

function get(agent, url, headers) {
  return new Promise((resolve, reject) => {
    const r = https.request(url, { agent, headers }, (res) => {
      let n = 0; res.on('data', (c) => { n += c.length; }); res.on('end', () => resolve({ status: res.statusCode, bytes: n, headers: res.headers }));
    });
    r.on('error', reject); r.end();
  });
}

async function phase(name, workers, urlFor, headersFor) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 256, ca: workers.ca });
  let reqs = 0, bytes = 0, errors = 0; const end = Date.now() + SECONDS * 1000; const t0 = process.hrtime.bigint();
  await Promise.all(workers.list.map(async (w, wi) => {
    let i = 0;
    while (Date.now() < end) {
      const r = await get(agent, urlFor(w, i++, wi), headersFor(w));
      if (r.status >= 300) errors++;
      reqs++; bytes += r.bytes;
    }
  }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  const out = { phase: name, concurrency: workers.list.length, requests: reqs, seconds: +s.toFixed(2), req_per_s: +(reqs / s).toFixed(1), MB_per_s: +(bytes / s / 1048576).toFixed(1), errors };
  console.log(JSON.stringify(out));
  return out;
}

(async () => {
  const emu = await startEmulator(['--users', '150', '--messages-per-user', '400', '--files-per-user', '20', '--max-file-mb', String(FILE_MB), '--seed', '42']);
  try {
    await emu.control('/control/knobs', { empty_page_rate: 0, replay_rate: 0, token_storm_per_10s: 1000 });
    const tok = await emu.getToken();
    const auth = { Authorization: `Bearer ${tok}` };
    const users = (await emu.users()).filter((u) => u.mail).slice(0, MAILBOXES);
    const G = emu.info.graph_url;
    const list = [];
    for (const u of users) {
      const msgs = (await emu.follow(`users/${u.id}/messages?$top=400&$select=id`)).items.map((m) => m.id);
      for (let k = 0; k < PER_MAILBOX; k++) list.push({ u: u.id, msgs });
    }
    const workers = { list, ca: emu.ca };
    const results = [];
    results.push(await phase('small JSON page (10 messages, $select)', workers, (w, i) => `${G}/v1.0/users/${w.u}/mailFolders/inbox/messages?$top=10&$select=id,subject,receivedDateTime`, () => auth));
    results.push(await phase('users page ($top=100)', workers, () => `${G}/v1.0/users?$top=100`, () => auth));
    results.push(await phase('message $value (MIME)', workers, (w, i, wi) => `${G}/v1.0/users/${w.u}/messages/${encodeURIComponent(w.msgs[(i * 7 + wi) % w.msgs.length])}/$value`, () => auth));
    // large downloads: the largest file of user 0 (exactly FILE_MB) through its pre-authenticated URL
    const truth = (await emu.truth(`?user=${users[0].id}&kinds=drive&hashes=0`)).filter((x) => x.type === 'drive_item' && !x.folder);
    const big = truth.sort((a, b) => b.size - a.size)[0];
    const drive = (await emu.get(`users/${users[0].id}/drive`)).json();
    const loc = (await emu.get(`drives/${drive.id}/items/${big.id}/content`)).headers.location;
    const dlWorkers = { list: list.slice(0, PER_MAILBOX), ca: emu.ca };
    results.push(await phase(`large file download (${(big.size / 1048576).toFixed(0)} MiB, 4 streams)`, dlWorkers, () => loc, () => ({})));
    const c = await emu.control('/control/counters');
    console.log(JSON.stringify({ throttled: c.throttled, violations: c.violations }));
  } finally { await emu.stop(); }
})().catch((e) => { console.error(e); process.exit(1); });
