'use strict';
// Deterministic byte streams: AES-128-CTR keystream keyed by (seed, item, version), random
// access by offset, so a 300 MB file costs no memory. "Text" streams map keystream bytes through
// a letter-frequency table (compressible to roughly 55-60 %, but not deduplicable).
const crypto = require('crypto');
const { Readable } = require('stream');
const { h32 } = require('./util');

const CHUNK = 256 * 1024;
const ZERO = Buffer.alloc(CHUNK);

const TEXT_TABLE = (() => {
  const spec = ' 46e26t19a17o16i15n15s14h13r12d9l8u6c6m5w5f5g4y4p4b3v2k1,2.2\n3';
  const t = Buffer.alloc(256); const chars = [];
  for (let i = 0; i < spec.length; i += 1) {
    const ch = spec[i]; let j = i + 1; let n = '';
    while (j < spec.length && /[0-9]/.test(spec[j])) n += spec[j++];
    for (let k = 0; k < parseInt(n, 10); k++) chars.push(ch.charCodeAt(0));
    i = j - 1;
  }
  for (let i = 0; i < 256; i++) t[i] = chars[Math.floor(i * chars.length / 256)];
  return t;
})();

function keyFor(parts) {
  const k = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) k.writeUInt32BE(h32(...parts, 'key', i), i * 4);
  return k;
}
function ivFor(block) {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(Math.floor(block / 4294967296) >>> 0, 8);
  iv.writeUInt32BE(block >>> 0, 12);
  return iv;
}

// Returns a generator object producing bytes [start, end) of the stream identified by parts.
function byteSource(parts, text) {
  const key = keyFor(parts);
  return {
    // synchronous slice (used for small content: attachments, hashing)
    slice(start, end) {
      const b0 = Math.floor(start / 16); const skip = start - b0 * 16;
      const c = crypto.createCipheriv('aes-128-ctr', key, ivFor(b0));
      const n = end - start + skip;
      const out = c.update(n <= CHUNK ? ZERO.subarray(0, n) : Buffer.alloc(n)).subarray(skip);
      if (text) for (let i = 0; i < out.length; i++) out[i] = TEXT_TABLE[out[i]];
      return out;
    },
    // iterate chunks synchronously: cb(buf) for each chunk of [start,end)
    *chunks(start, end) {
      const b0 = Math.floor(start / 16); let skip = start - b0 * 16;
      const c = crypto.createCipheriv('aes-128-ctr', key, ivFor(b0));
      let remaining = end - start;
      while (remaining > 0) {
        const want = Math.min(CHUNK, remaining + skip);
        let buf = c.update(ZERO.subarray(0, want));
        if (skip) { buf = buf.subarray(skip); skip = 0; }
        if (text) for (let i = 0; i < buf.length; i++) buf[i] = TEXT_TABLE[buf[i]];
        remaining -= buf.length;
        yield buf;
      }
    },
    stream(start, end) {
      const it = this.chunks(start, end);
      return new Readable({
        highWaterMark: CHUNK * 2,
        read() {
          for (;;) {
            const r = it.next();
            if (r.done) { this.push(null); return; }
            if (!this.push(r.value)) return;
          }
        },
      });
    },
  };
}

// The same interface over bytes held in memory (uploaded content).
function bufferSource(buf) {
  return {
    slice(start, end) { return buf.subarray(start, end); },
    *chunks(start, end) { for (let p = start; p < end; p += CHUNK) yield buf.subarray(p, Math.min(end, p + CHUNK)); },
    stream(start, end) { return Readable.from(this.chunks(start, end), { objectMode: false }); },
  };
}

// QuickXorHash (OneDrive for Business): 160-bit, each byte i is XORed in at bit (11*i) mod 160,
// then the 64-bit little-endian length is XORed into the last 8 bytes. Byte i and i+160 land on
// the same bits, so we fold the input into 160 bytes first and spread once.
class QuickXor {
  constructor() { this.fold = Buffer.alloc(160); this.len = 0; }
  update(buf) {
    const f = this.fold; let pos = this.len % 160; let i = 0; const n = buf.length;
    while (i < n && pos !== 0) { f[pos] ^= buf[i++]; pos = (pos + 1) % 160; }
    // aligned: process in 160-byte strides
    while (n - i >= 160) { for (let k = 0; k < 160; k++) f[k] ^= buf[i + k]; i += 160; }
    while (i < n) { f[pos] ^= buf[i++]; pos++; }
    this.len += n;
    return this;
  }
  digest() {
    const out = Buffer.alloc(20);
    for (let k = 0; k < 160; k++) {
      const b = this.fold[k]; if (!b) continue;
      const bit = (k * 11) % 160; const byte = bit >>> 3; const off = bit & 7;
      out[byte] ^= (b << off) & 0xff;
      if (off) out[(byte + 1) % 20] ^= b >>> (8 - off);
    }
    let len = this.len;
    for (let k = 0; k < 8; k++) { out[12 + k] ^= len % 256; len = Math.floor(len / 256); }
    return out.toString('base64');
  }
}

module.exports = { byteSource, bufferSource, QuickXor, TEXT_TABLE, CHUNK };
