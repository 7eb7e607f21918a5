'use strict';
// Throttling and fault injection like Graph: 4 concurrent requests per mailbox, a per-tenant
// drive resource-unit budget per minute, an optional per-mailbox request budget, random
// 429/503/connection resets with a seeded PRNG, fixed latency, and detection of clients that
// retry before Retry-After has elapsed.
const { rng, gerr } = require('./util');

class Counters {
  constructor() { this.reset(); }
  reset() { this.c = { started: new Date().toISOString(), requests: {}, status: {}, throttled: {}, faults: {}, violations: {}, bytes: { download: 0, value: 0 } }; }
  req(kind) { this.c.requests[kind] = (this.c.requests[kind] || 0) + 1; }
  status(s) { this.c.status[s] = (this.c.status[s] || 0) + 1; }
  throttled(kind) { this.c.throttled[kind] = (this.c.throttled[kind] || 0) + 1; }
  fault(kind) { this.c.faults[kind] = (this.c.faults[kind] || 0) + 1; }
  violation(kind) { this.c.violations[kind] = (this.c.violations[kind] || 0) + 1; }
  inc(k, n) { this.c[k] = (this.c[k] || 0) + (n || 1); }
  snapshot() { return JSON.parse(JSON.stringify(this.c)); }
}

class Throttle {
  constructor(ctx) {
    this.ctx = ctx; this.inflight = new Map(); this.retryAt = new Map();
    this.ru = { windowStart: Date.now(), used: 0 }; this.mbxWindow = new Map();
    this.rand = rng(ctx.seed, 'faults');
  }
  reseed(seed) { this.rand = rng(seed, 'faults'); }
  retryAfterValue() {
    const v = this.ctx.knobs.retry_after;
    const x = Array.isArray(v) ? v[Math.floor(this.rand() * v.length)] : v;
    // "date" / "date:N": an HTTP-date N seconds (default 2) from now instead of delta-seconds
    const dm = /^date(?::(\d+(?:\.\d+)?))?$/.exec(String(x));
    if (dm) return new Date(Date.now() + (dm[1] ? parseFloat(dm[1]) : 2) * 1000).toUTCString();
    return String(x);
  }
  // Before handling: note early retries (the same method+URL retried before Retry-After).
  noteArrival(key) {
    const t = this.retryAt.get(key);
    if (t !== undefined) {
      if (Date.now() < t) this.ctx.counters.violation('retry_before_retry_after');
      this.retryAt.delete(key);
    }
  }
  remember(key, retryAfter) {
    const secs = Number(retryAfter);
    const at = Number.isFinite(secs) ? Date.now() + secs * 1000 : Date.parse(retryAfter);
    this.retryAt.set(key, at - 50);
    if (this.retryAt.size > 100000) this.retryAt.delete(this.retryAt.keys().next().value);
  }
  // random faults: returns 'reset' | response | null
  // download: also inject 509 Bandwidth Limit Exceeded (rate_509; drive downloads only)
  injected(key, allowReset, download) {
    const k = this.ctx.knobs;
    if (allowReset && k.rate_reset > 0 && this.rand() < k.rate_reset) { this.ctx.counters.fault('reset'); return 'reset'; }
    if (k.rate_503 > 0 && this.rand() < k.rate_503) {
      this.ctx.counters.fault('503_empty');
      return { status: 503, headers: {}, body: Buffer.alloc(0) };
    }
    if (k.rate_429 > 0 && this.rand() < k.rate_429) {
      const ra = this.retryAfterValue(); this.remember(key, ra); this.ctx.counters.throttled('injected');
      return { ...gerr(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': ra }, '429') };
    }
    if (download && k.rate_509 > 0 && this.rand() < k.rate_509) {
      const ra = this.retryAfterValue(); this.remember(key, ra); this.ctx.counters.throttled('injected_509');
      return { ...gerr(509, 'bandwidthLimitExceeded', 'Bandwidth Limit Exceeded', { 'Retry-After': ra }, '509') };
    }
    return null;
  }
  // Mailbox concurrency: returns a release function or a 429 response.
  acquireMailbox(u, key) {
    const n = this.inflight.get(u) || 0;
    if (n >= this.ctx.knobs.mailbox_concurrency) {
      this.ctx.counters.violation('mailbox_concurrency'); this.ctx.counters.throttled('mailbox_concurrency');
      const ra = this.retryAfterValue(); this.remember(key, ra);
      return { resp: gerr(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': ra }) };
    }
    const lim = this.ctx.knobs.mailbox_requests_per_10min;
    if (lim > 0) {
      const now = Date.now(); let w = this.mbxWindow.get(u);
      if (!w || now - w.start >= 600000) { w = { start: now, n: 0 }; this.mbxWindow.set(u, w); }
      if (++w.n > lim) {
        const ra = String(Math.ceil((w.start + 600000 - now) / 1000)); this.remember(key, ra); this.ctx.counters.throttled('mailbox_budget');
        return { resp: gerr(429, 'ApplicationThrottled', 'Application is over its MailboxRequests limit.', { 'Retry-After': ra }) };
      }
    }
    this.inflight.set(u, n + 1);
    // all mailboxes together: the peak number of requests in flight, and their summed time in flight
    // (slot_ms / wall time = the average number in flight)
    const c = this.ctx.counters.c;
    this.total = (this.total || 0) + 1;
    if (!(c.mailbox_peak_in_flight >= this.total)) c.mailbox_peak_in_flight = this.total;
    let done = false; const t0 = process.hrtime.bigint();
    return { release: () => {
      if (done) return; done = true; const m = (this.inflight.get(u) || 1) - 1; if (m) this.inflight.set(u, m); else this.inflight.delete(u);
      this.total -= 1;
      this.ctx.counters.inc('mailbox_slot_ms', Number(process.hrtime.bigint() - t0) / 1e6);
    } };
  }
  // Per-tenant SharePoint/OneDrive resource units per minute (0 = unlimited).
  chargeDrive(ru, key) {
    const lim = this.ctx.knobs.drive_ru_per_minute; if (!lim) return null;
    const now = Date.now();
    if (now - this.ru.windowStart >= 60000) this.ru = { windowStart: now, used: 0 };
    if (this.ru.used + ru > lim) {
      const ra = String(Math.max(1, Math.ceil((this.ru.windowStart + 60000 - now) / 1000)));
      this.remember(key, ra); this.ctx.counters.throttled('drive_budget');
      return gerr(429, 'activityLimitReached', 'The request has been throttled', { 'Retry-After': ra, 'RateLimit-Limit': String(lim), 'RateLimit-Remaining': '0', 'RateLimit-Reset': ra }, 'throttledRequest');
    }
    this.ru.used += ru;
    const h = {};
    if (this.ru.used >= lim * 0.8) Object.assign(h, { 'RateLimit-Limit': String(lim), 'RateLimit-Remaining': String(lim - this.ru.used), 'RateLimit-Reset': String(Math.ceil((this.ru.windowStart + 60000 - now) / 1000)) });
    return { headers: h };
  }
}

module.exports = { Throttle, Counters };
