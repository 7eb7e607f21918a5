'use strict';
// Realistic RFC 822 / MIME for a generated message: RFC 2047 encoded non-ASCII headers,
// multipart/alternative bodies, base64 attachments and inline (cid:) images.
const { byteSource } = require('./content');

function needsEncoding(s) { return /[^\x20-\x7e]/.test(s); }
function encWord(s) {
  if (!needsEncoding(s)) return s;
  // split into chunks of <= 45 bytes of UTF-8 on character boundaries
  const words = []; let cur = '';
  for (const ch of s) {
    if (Buffer.byteLength(cur + ch) > 45) { words.push(cur); cur = ''; }
    cur += ch;
  }
  if (cur) words.push(cur);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}
function addr(a) {
  if (!a.name) return `<${a.address}>`;
  return needsEncoding(a.name) ? `${encWord(a.name)} <${a.address}>` : `"${a.name.replace(/"/g, '')}" <${a.address}>`;
}
function b64lines(buf) {
  const s = buf.toString('base64'); const out = [];
  for (let i = 0; i < s.length; i += 76) out.push(s.slice(i, i + 76));
  return out.join('\r\n');
}
function rfc2822(ms) { return new Date(ms).toUTCString().replace('GMT', '+0000'); }

// m: {subject, from, to[], cc[], date, messageId, text, html, attachments:[{name, contentType,
// size, inline, contentId, parts}]}
function buildMime(m) {
  const H = [];
  H.push(`Received: from mail.contoso.test (10.0.0.1) by mbx.contoso.test with HTTPS; ${rfc2822(m.date)}`);
  H.push(`From: ${addr(m.from)}`);
  H.push(`To: ${m.to.map(addr).join(',\r\n\t')}`);
  if (m.cc.length) H.push(`Cc: ${m.cc.map(addr).join(',\r\n\t')}`);
  // Lone surrogates cannot be encoded; Exchange would store U+FFFD.
  H.push(`Subject: ${encWord(m.subject.toWellFormed ? m.subject.toWellFormed() : m.subject.replace(/[\ud800-\udfff]/g, '\ufffd'))}`);
  H.push(`Thread-Topic: ${encWord((m.subject.replace(/[\ud800-\udfff]/g, '\ufffd')).slice(0, 80))}`);
  H.push(`Date: ${rfc2822(m.date)}`);
  H.push(`Message-ID: ${m.messageId}`);
  H.push('Accept-Language: en-US');
  H.push('Content-Language: en-US');
  H.push('X-MS-Has-Attach: ' + (m.attachments.some((a) => !a.inline) ? 'yes' : ''));
  H.push('MIME-Version: 1.0');
  const B = m.messageId.replace(/[^A-Za-z0-9]/g, '').slice(0, 24);
  const alt = [
    `--_alt_${B}`,
    'Content-Type: text/plain; charset="utf-8"', 'Content-Transfer-Encoding: base64', '',
    b64lines(Buffer.from(m.text, 'utf8')), '',
    `--_alt_${B}`,
    'Content-Type: text/html; charset="utf-8"', 'Content-Transfer-Encoding: base64', '',
    b64lines(Buffer.from(m.html, 'utf8')), '',
    `--_alt_${B}--`, '',
  ];
  const inline = m.attachments.filter((a) => a.inline);
  const files = m.attachments.filter((a) => !a.inline);
  let bodyCT, bodyLines;
  bodyCT = `multipart/alternative; boundary="_alt_${B}"`; bodyLines = alt;
  const attPart = (a, boundary) => [
    `--${boundary}`,
    `Content-Type: ${a.contentType}; name="${encWord(a.name)}"`,
    a.inline ? `Content-Disposition: inline; filename="${encWord(a.name)}"; size=${a.size}` : `Content-Disposition: attachment; filename="${encWord(a.name)}"; size=${a.size}`,
    ...(a.contentId ? [`Content-ID: <${a.contentId}>`] : []),
    'Content-Transfer-Encoding: base64', '',
    b64lines(a.bytes()), '',
  ];
  if (inline.length) {
    const rel = [`--_rel_${B}`, `Content-Type: ${bodyCT}`, '', ...bodyLines];
    for (const a of inline) rel.push(...attPart(a, `_rel_${B}`));
    rel.push(`--_rel_${B}--`, '');
    bodyCT = `multipart/related; boundary="_rel_${B}"; type="multipart/alternative"`; bodyLines = rel;
  }
  if (files.length) {
    const mix = [`--_mix_${B}`, `Content-Type: ${bodyCT}`, '', ...bodyLines];
    for (const a of files) mix.push(...attPart(a, `_mix_${B}`));
    mix.push(`--_mix_${B}--`, '');
    bodyCT = `multipart/mixed; boundary="_mix_${B}"`; bodyLines = mix;
  }
  H.push(`Content-Type: ${bodyCT}`);
  return Buffer.from(H.join('\r\n') + '\r\n\r\n' + bodyLines.join('\r\n'), 'utf8');
}

// Deterministic attachment bytes.
function attachmentBytes(parts, size, text) { return () => byteSource(parts, text).slice(0, size); }

module.exports = { buildMime, attachmentBytes, encWord };
