'use strict';
// Small shared helpers: deterministic hashing/PRNG, id codecs, Graph error bodies.
const crypto = require('crypto');

// ---- deterministic hashing (non-cryptographic, fast) ----
function fmix(h) {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16; return h >>> 0;
}
function strHash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return h >>> 0;
}
// h(...numbers|strings) -> uint32
function h32(...parts) {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const v = typeof p === 'number' ? (p >>> 0) ^ Math.floor(p / 4294967296) : strHash(String(p));
    h = fmix((h ^ v) + 0x7f4a7c15 + (h << 6) + (h >>> 2));
  }
  return h;
}
// float in [0,1)
function hf(...parts) { return h32(...parts) / 4294967296; }

// sfc32-like PRNG from a seed tuple
function rng(...parts) {
  let a = h32(...parts, 1), b = h32(...parts, 2), c = h32(...parts, 3), d = 1;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0; a = b ^ (b >>> 9); b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11); d = (d + 1) | 0; t = (t + d) | 0; c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 8; i++) next();
  next.int = (n) => Math.floor(next() * n);
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  return next;
}

function guidFrom(...parts) {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) b.writeUInt32BE(h32(...parts, 'guid', i), i * 4);
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// ---- base32 (RFC 4648 alphabet, no padding) for drive item ids ----
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function b32enc(buf) {
  let out = '', bits = 0, val = 0;
  for (const byte of buf) {
    val = (val << 8) | byte; bits += 8;
    while (bits >= 5) { out += B32[(val >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += B32[(val << (5 - bits)) & 31];
  return out;
}
function b32dec(s) {
  const out = []; let bits = 0, val = 0;
  for (const ch of s) {
    const v = B32.indexOf(ch); if (v < 0) return null;
    val = ((val << 5) | v) & 0xffff; bits += 5;
    if (bits >= 8) { out.push((val >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

// ---- time helpers ----
const BASE_EPOCH = Date.UTC(2024, 5, 1, 12, 0, 0); // generated content lives before this
function iso(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }
function isoMs(ms) { return new Date(ms).toISOString(); }

// ---- Graph error bodies ----
function graphErrorBody(code, message, innerCode, reqId) {
  const inner = { date: iso(Date.now()).replace('Z', ''), 'request-id': reqId || crypto.randomUUID(), 'client-request-id': reqId || crypto.randomUUID() };
  if (innerCode) inner.code = innerCode;
  return { error: { code, message, innerError: inner } };
}
// Response object used throughout: {status, headers, json|body}
function gerr(status, code, message, extraHeaders, innerCode) {
  return { status, headers: extraHeaders || {}, json: graphErrorBody(code, message, innerCode) };
}

// ---- Prefer header ----
function parsePrefer(h) {
  const out = { maxpagesize: 0, immutable: false, raw: [] };
  if (!h) return out;
  const list = Array.isArray(h) ? h.join(',') : h;
  for (let p of list.split(',')) {
    p = p.trim(); if (!p) continue;
    out.raw.push(p);
    const m = /^odata\.maxpagesize\s*=\s*(\d+)$/i.exec(p);
    if (m) out.maxpagesize = parseInt(m[1], 10);
    if (/^IdType\s*=\s*"?ImmutableId"?$/i.test(p)) out.immutable = true;
    if (/^deltashowremovedasdeleted$/i.test(p)) out.removedAsDeleted = true;
  }
  return out;
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Select top-level properties ($select); id and @odata.* always kept.
function project(obj, select) {
  if (!select || !obj || obj['@removed']) return obj;
  const out = {};
  for (const k of Object.keys(obj)) if (k === 'id' || k === 'deleted' || k.startsWith('@') || select.has(k)) out[k] = obj[k];
  return out;
}
function parseSelect(q) {
  const s = q.get('$select');
  if (!s) return null;
  return new Set(s.split(',').map((x) => x.trim()).filter(Boolean));
}

module.exports = { fmix, strHash, h32, hf, rng, guidFrom, b32enc, b32dec, BASE_EPOCH, iso, isoMs, graphErrorBody, gerr, parsePrefer, sleep, project, parseSelect };
