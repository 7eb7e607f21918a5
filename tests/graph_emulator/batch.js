'use strict';
// JSON batching: POST /v1.0/$batch with at most 20 requests; dependsOn ordering with 424 for
// failed dependencies; requests without dependencies run in parallel (so more than 4 to one
// mailbox get 429); responses in shuffled order; non-JSON bodies base64; 302 not followed.
const { gerr, rng } = require('./util');

let batchSerial = 0;

async function runBatch(ctx, outerHeaders, raw) {
  let doc;
  try { doc = JSON.parse(raw.toString('utf8')); } catch { return gerr(400, 'BadRequest', 'Invalid batch payload format.'); }
  const reqs = doc && doc.requests;
  if (!Array.isArray(reqs)) return gerr(400, 'BadRequest', 'Invalid batch payload format.');
  if (reqs.length > 20) return gerr(400, 'BadRequest', 'Number of requests in batch exceeds the limit of 20.');
  if (reqs.length === 0) return gerr(400, 'BadRequest', 'Invalid batch payload format.');
  const ids = new Set();
  for (const r of reqs) {
    if (!r || typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') return gerr(400, 'BadRequest', 'Invalid batch payload format: id, method and url are required.');
    if (ids.has(r.id)) return gerr(400, 'BadRequest', `Batch request id '${r.id}' is duplicated.`);
    ids.add(r.id);
    if (r.body !== undefined && !(r.headers && Object.keys(r.headers).some((h) => h.toLowerCase() === 'content-type'))) return gerr(400, 'BadRequest', 'Content-Type header is required when a body is given.');
  }
  for (const r of reqs) for (const d of r.dependsOn || []) if (!ids.has(d)) return gerr(400, 'BadRequest', `Request '${r.id}' depends on an unknown id '${d}'.`);
  const auth = ctx.auth.check(outerHeaders);
  if (auth) return auth;
  const results = new Map(); const pending = new Set(reqs.map((r) => r.id)); const byId = new Map(reqs.map((r) => [r.id, r]));
  while (pending.size) {
    const ready = [...pending].filter((id) => (byId.get(id).dependsOn || []).every((d) => results.has(d)));
    if (!ready.length) return gerr(400, 'BadRequest', 'Batch dependsOn graph contains a cycle.');
    const releases = [];
    await Promise.all(ready.map(async (id) => {
      const r = byId.get(id);
      const failedDep = (r.dependsOn || []).some((d) => results.get(d).status >= 400);
      if (failedDep) { results.set(id, { id, status: 424, headers: {}, body: { error: { code: 'FailedDependency', message: 'A dependent request in the batch failed.' } } }); return; }
      let url = r.url;
      if (url.startsWith(ctx.graphBase)) url = url.slice(ctx.graphBase.length);
      if (url.startsWith('/v1.0/')) url = url.slice(5);
      if (/^https?:/i.test(url)) { results.set(id, { id, status: 400, headers: {}, body: gerr(400, 'BadRequest', 'Batch request URLs must be relative.').json }); return; }
      const q = url.indexOf('?');
      const headers = { authorization: outerHeaders.authorization };
      for (const [k, v] of Object.entries(r.headers || {})) headers[k.toLowerCase()] = String(v);
      const ireq = { method: r.method.toUpperCase(), path: (q >= 0 ? url.slice(0, q) : url).replace(/^\//, ''), query: new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''), headers, body: r.body };
      const resp = await ctx.router.exec(ireq, { allowReset: false, releases });
      results.set(id, toInner(id, resp));
    }));
    for (const rel of releases) rel();
    for (const id of ready) pending.delete(id);
  }
  const out = [...results.values()];
  const rnd = rng(ctx.seed, 'batch', ++batchSerial);
  for (let i = out.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [out[i], out[j]] = [out[j], out[i]]; }
  return { status: 200, headers: {}, json: { responses: out } };
}

function toInner(id, resp) {
  const headers = {};
  for (const [k, v] of Object.entries(resp.headers || {})) headers[k] = v;
  const o = { id, status: resp.status, headers };
  if (resp.json !== undefined) { headers['Content-Type'] = headers['Content-Type'] || 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8'; o.body = resp.json; }
  else if (resp.body && resp.body.length) o.body = resp.body.toString('base64');
  return o;
}

module.exports = { runBatch };
