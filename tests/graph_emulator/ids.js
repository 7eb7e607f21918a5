'use strict';
// Id codecs. Outlook ids are standard base64 (they contain '/', '+', '='); regular ids encode the
// containing folder (so they change on a move), immutable ids do not. Drive ids look like
// OneDrive for Business ids ("b!..." drives, "01..." items). Every id carries check bytes
// derived from the seed, so forged or mangled ids are rejected.
const { h32, b32enc, b32dec } = require('./util');

const PFX_REG = [0x00, 0x03, 0x24, 0x00];
const PFX_IMM = [0x00, 0x09, 0x2e, 0x00];
const OID_LEN = 46; // 46 % 3 == 1 -> base64 ends with "=="

let SEED = 1;
function setSeed(s) { SEED = s >>> 0; }

function fillCheck(buf, from, ...parts) {
  for (let i = from, k = 0; i < buf.length; i += 4, k++) {
    const v = h32(SEED, ...parts, k);
    for (let j = 0; j < 4 && i + j < buf.length; j++) buf[i + j] = (v >>> (8 * j)) & 0xff;
  }
}

// type: one char ('F' mail folder, 'M' message, 'K' contact folder, 'C' contact, 'L' calendar,
// 'E' event, 'O' occurrence). a, b: uint32 payload.
function encodeOid(type, immutable, user, a, b) {
  const buf = Buffer.alloc(OID_LEN);
  Buffer.from(immutable ? PFX_IMM : PFX_REG).copy(buf, 0);
  buf[4] = type.charCodeAt(0);
  buf.writeUInt32BE(user >>> 0, 5); buf.writeUInt32BE(a >>> 0, 9); buf.writeUInt32BE((b || 0) >>> 0, 13);
  fillCheck(buf, 17, type, immutable ? 1 : 0, user, a, b || 0);
  return buf.toString('base64');
}
function decodeOid(s) {
  if (typeof s !== 'string' || s.length !== 64) return null;
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== OID_LEN) return null;
  const imm = buf[1] === 0x09;
  const type = String.fromCharCode(buf[4]);
  const user = buf.readUInt32BE(5), a = buf.readUInt32BE(9), b = buf.readUInt32BE(13);
  if (encodeOid(type, imm, user, a, b) !== s) return null;
  return { type, immutable: imm, user, a, b };
}

function driveId(user) {
  const buf = Buffer.alloc(24);
  buf.write('DRV', 0, 'latin1'); buf.writeUInt32BE(user >>> 0, 3);
  fillCheck(buf, 7, 'drive', user);
  return 'b!' + buf.toString('base64url');
}
function decodeDriveId(s) {
  if (typeof s !== 'string' || !s.startsWith('b!')) return null;
  const buf = Buffer.from(s.slice(2), 'base64url');
  if (buf.length !== 24 || buf.toString('latin1', 0, 3) !== 'DRV') return null;
  const user = buf.readUInt32BE(3);
  return driveId(user) === s ? user : null;
}
function itemId(user, idx) {
  const buf = Buffer.alloc(20);
  buf.writeUInt32BE(user >>> 0, 0); buf.writeUInt32BE(idx >>> 0, 4);
  fillCheck(buf, 8, 'item', user, idx);
  // keep the visible prefix varied: xor payload with check bytes
  for (let i = 0; i < 8; i++) buf[i] ^= buf[8 + i];
  return '01' + b32enc(buf);
}
function decodeItemId(s) {
  if (typeof s !== 'string' || !s.startsWith('01') || s.length !== 34) return null;
  const buf = b32dec(s.slice(2));
  if (!buf || buf.length < 20) return null;
  for (let i = 0; i < 8; i++) buf[i] ^= buf[8 + i];
  const user = buf.readUInt32BE(0), idx = buf.readUInt32BE(4);
  return itemId(user, idx) === s ? { user, idx } : null;
}

module.exports = { setSeed, encodeOid, decodeOid, driveId, decodeDriveId, itemId, decodeItemId };
