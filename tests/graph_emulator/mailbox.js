'use strict';
// Mailbox model: the folder tree (well-known, hidden, search, nested, hostile names) and
// messages derived from (seed, user, index, version), including their MIME.
const { h32, hf, rng, BASE_EPOCH, iso } = require('./util');
const { ItemSet } = require('./tenant');
const { encodeOid } = require('./ids');
const { buildMime, attachmentBytes } = require('./mime');

const LONG_NAME = 'Ω'.repeat(100) + 'x'.repeat(50); // 250 UTF-8 bytes
// key, name, parent key, hidden, wellKnown, weight (share of messages), search
const FOLDERS = [
  [0, 'Top of Information Store', null, false, 'msgfolderroot', 0],
  [1, 'Inbox', 0, false, 'inbox', 30],
  [2, 'Drafts', 0, false, 'drafts', 2],
  [3, 'Sent Items', 0, false, 'sentitems', 14],
  [4, 'Deleted Items', 0, false, 'deleteditems', 5],
  [5, 'Junk Email', 0, false, 'junkemail', 3],
  [6, 'Outbox', 0, false, 'outbox', 0],
  [7, 'Archive', 0, false, 'archive', 8],
  [8, 'Conversation History', 0, false, 'conversationhistory', 1],
  [9, 'Sync Issues', 0, false, 'syncissues', 0],
  [10, 'Conflicts', 9, false, 'conflicts', 0],
  [11, 'Local Failures', 9, false, 'localfailures', 0],
  [12, 'Server Failures', 9, false, 'serverfailures', 0],
  [13, 'Search Folders', 0, false, 'searchfolders', 0],
  [14, 'Unread Mail', 13, false, null, 0, true],
  [15, 'Hidden Archive', 0, true, null, 3],
  [16, 'Quick Step Settings', 0, true, null, 0],
  [17, 'Projects', 1, false, null, 5],
  [18, '2024', 17, false, null, 4],
  [19, 'Q1', 18, false, null, 4],
  [20, 'Very Deep', 19, false, null, 3],
  [21, 'A/B slash', 1, false, null, 1],
  [22, 'back\\slash:colon*star?', 1, false, null, 1],
  [23, '..', 1, false, null, 1],
  [24, 'trailing dot.', 1, false, null, 1],
  [25, 'trailing space ', 1, false, null, 1],
  [26, 'rtl \u202Etxt.exe', 1, false, null, 1],
  [27, 'ctl\u0001\u0007\tchars', 1, false, null, 1],
  [28, 'Caf\u00e9', 1, false, null, 1],
  [29, 'Cafe\u0301', 1, false, null, 1],
  [30, LONG_NAME, 1, false, null, 1],
  [31, 'Identical Subjects', 1, false, null, 3],
  [32, '2023', 7, false, null, 5],
  [33, 'Hidden Child', 15, true, null, 1],
].map(([key, name, parent, hidden, wk, weight, search]) => ({ key, name, parent, hidden, wk, weight, search: !!search }));
const BY_KEY = new Map(FOLDERS.map((f) => [f.key, f]));
const WK = new Map(FOLDERS.filter((f) => f.wk).map((f) => [f.wk, f.key]));

const WORDS = 'quarterly budget review meeting notes draft contract invoice travel plan offsite agenda status update design proposal customer feedback release schedule hiring pipeline roadmap security audit lunch Friday'.split(' ');

function ranges(count) {
  const m = new Map(); const total = FOLDERS.reduce((a, f) => a + f.weight, 0);
  let acc = 0, start = 0;
  for (const f of FOLDERS) {
    if (!f.weight) continue;
    acc += f.weight; const end = Math.round(count * acc / total);
    m.set(f.key, [start, end]); start = end;
  }
  return m;
}

class Mailboxes {
  constructor(tenant) { this.t = tenant; this.seed = tenant.seed; }
  set(u) {
    const s = this.t.us(u);
    if (!s.mail) s.mail = new ItemSet(this.t.cfg.messagesPerUser, ranges(this.t.cfg.messagesPerUser));
    return s.mail;
  }
  // ---- folders ----
  folderKeys(u) { return FOLDERS.map((f) => f.key).concat(this.t.us(u).extraFolders || []); }
  folderMeta(u, key) {
    const f = BY_KEY.get(key); if (!f) return null;
    const ren = this.t.userStates.get(u);
    const name = ren && ren.folderRenames.get(key);
    return name !== undefined ? { ...f, name } : f;
  }
  resolveFolder(u, s) {
    if (s == null) return null;
    const wk = WK.get(String(s).toLowerCase());
    if (wk !== undefined) return wk;
    return null;
  }
  children(u, key) { return FOLDERS.filter((f) => f.parent === key).map((f) => f.key); }
  folderPath(u, key) {
    const parts = [];
    for (let k = key; k !== 0 && k != null; k = BY_KEY.get(k).parent) parts.unshift(this.folderMeta(u, k).name);
    return parts;
  }
  folderId(u, key) { return encodeOid('F', false, u, key, 0); }
  folderJson(u, key) {
    const f = this.folderMeta(u, key); const set = this.set(u);
    const kids = this.children(u, key);
    let total = 0, unread = 0;
    if (!f.search) {
      const l = set.list(key); total = l.length;
      for (let i = 0; i < l.length && i < 5000; i++) if (!this.isRead(u, l.at(i))) unread++;
    }
    const o = {
      id: this.folderId(u, key), displayName: f.name,
      parentFolderId: f.parent == null ? this.folderId(u, 0x7fff) : this.folderId(u, f.parent),
      childFolderCount: kids.length, unreadItemCount: unread, totalItemCount: total,
      sizeInBytes: total * 4096, isHidden: f.hidden,
    };
    if (f.search) {
      return { '@odata.type': '#microsoft.graph.mailSearchFolder', ...o, isSupported: true, includeNestedFolders: true,
        sourceFolderIds: [this.folderId(u, 1)], filterQuery: 'isRead eq false' };
    }
    return o;
  }

  // ---- messages ----
  positionInFolder(u, idx) {
    const set = this.set(u); const c = set.baseContainer(idx);
    return c == null ? -1 : idx - set.ranges.get(c)[0];
  }
  isRead(u, idx) { const o = this.set(u).state(idx); if (o && o.isRead !== undefined) return o.isRead; return hf(this.seed, 'read', u, idx) < 0.7; }
  subject(u, idx) {
    const set = this.set(u); const o = set.state(idx);
    if (o && o.subject !== undefined) return o.subject;
    const c = idx < set.count ? set.baseContainer(idx) : null;
    if (c === 31) return 'Same subject in one folder';
    const pos = c == null ? -1 : this.positionInFolder(u, idx);
    if (c === 1 || c === 19) {
      if (pos === 0) return '';
      if (pos === 1) return ('A very long subject ' + 'lorem ipsum dolor sit amet '.repeat(20)).slice(0, 400);
      if (pos === 2) return 'Broken surrogate \ud800 in subject';
      if (pos === 3) return 'Grüße aus Köln — 日本語の件名 ✓ Ελληνικά';
      if (pos === 4) return 'RTL \u202Egpj.exe and ctl\u0007 char';
    }
    const r = rng(this.seed, 'subj', u, idx);
    const pre = r() < 0.2 ? 'RE: ' : r() < 0.1 ? 'FW: ' : '';
    const n = 2 + r.int(6); const w = [];
    for (let i = 0; i < n; i++) w.push(r.pick(WORDS));
    let s = pre + w.join(' ');
    if (r() < 0.1) s += ' – ünïcödé';
    return s;
  }
  times(u, idx) {
    const set = this.set(u); const o = set.state(idx);
    const base = idx < set.count ? BASE_EPOCH - (idx * 3607000 + (h32(this.seed, 't', u, idx) % 3600000)) : (o ? o.ctime : Date.now());
    const received = Math.floor(base / 1000) * 1000;
    const modified = o && o.mtime ? o.mtime : received + 60000;
    return { received, modified, created: received };
  }
  messageIds(u, idx, folderKey) {
    return { id: encodeOid('M', false, u, idx, folderKey), immutableId: encodeOid('M', true, u, idx, 0) };
  }
  people(u, idx) {
    const t = this.t; const r = rng(this.seed, 'ppl', u, idx);
    const me = t.user(u); const other = t.user(r.int(t.cfg.users));
    const ext = { name: r() < 0.3 ? 'Jürgen Übermann' : 'External Sender', address: `sender${r.int(1000)}@fabrikam.test` };
    const from = r() < 0.5 ? { name: other.displayName, address: other.userPrincipalName } : ext;
    const to = [{ name: me.displayName, address: me.userPrincipalName }];
    const cc = r() < 0.3 ? [{ name: 'Team', address: 'team@contoso.test' }] : [];
    return { from, to, cc };
  }
  attachments(u, idx) {
    const v = this.set(u).version(idx); const r = rng(this.seed, 'att', u, idx);
    const kind = r();
    const out = [];
    if (kind < 0.55) return out;
    if (kind < 0.7) {
      out.push({ name: 'logo.png', contentType: 'image/png', inline: true, contentId: `image001.png@01DA${(h32(this.seed, u, idx) >>> 0).toString(16).toUpperCase()}`, size: 2000 + r.int(20000) });
    }
    const n = kind < 0.7 ? 0 : 1 + r.int(3);
    const big = r() < 0.03;
    for (let k = 0; k < n; k++) {
      const nm = r.pick(['report.pdf', 'Präsentation Q3.pptx', 'data.csv', 'photo.jpg', '見積書.xlsx', 'notes.txt']);
      const text = /\.(csv|txt)$/.test(nm);
      out.push({ name: nm, contentType: text ? 'text/plain' : 'application/octet-stream', inline: false, size: big && k === 0 ? 1000000 + r.int(2000000) : 500 + r.int(120000), text });
    }
    out.forEach((a, k) => { a.id = k; a.bytes = attachmentBytes([this.seed, 'attb', u, idx, v, k], a.size, a.text); });
    return out;
  }
  bodyText(u, idx) {
    const r = rng(this.seed, 'body', u, idx, this.set(u).version(idx));
    const lines = [];
    for (let i = 0, n = 2 + r.int(12); i < n; i++) { const w = []; for (let j = 0, m = 4 + r.int(12); j < m; j++) w.push(r.pick(WORDS)); lines.push(w.join(' ')); }
    return lines.join('\n') + '\n\nGrüße / Regards\n';
  }
  internetMessageId(u, idx) { return `<${(h32(this.seed, 'imid', u, idx) >>> 0).toString(36).toUpperCase()}${idx}@ex.contoso.test>`; }
  mime(u, idx) {
    const p = this.people(u, idx); const t = this.times(u, idx);
    const text = this.bodyText(u, idx);
    const atts = this.attachments(u, idx);
    const inl = atts.find((a) => a.inline);
    const html = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, '<br>')}</p>${inl ? `<img src="cid:${inl.contentId}">` : ''}</body></html>`;
    return buildMime({ subject: this.subject(u, idx), from: p.from, to: p.to, cc: p.cc, date: t.received, messageId: this.internetMessageId(u, idx), text, html, attachments: atts });
  }
  // JSON shape of a message (Graph default properties, body included)
  messageJson(u, idx, folderKey, immutable, withBody) {
    const set = this.set(u); const v = set.version(idx);
    const ids = this.messageIds(u, idx, folderKey);
    const p = this.people(u, idx); const t = this.times(u, idx);
    const atts = this.attachments(u, idx);
    const text = withBody === false ? '' : this.bodyText(u, idx);
    const changeKey = Buffer.from(`CQAAABYAAAD${u}.${idx}.${v}`).toString('base64');
    const draft = folderKey === 2;
    const ea = (x) => ({ emailAddress: { name: x.name, address: x.address } });
    return {
      '@odata.etag': `W/"${changeKey}"`,
      id: immutable ? ids.immutableId : ids.id,
      createdDateTime: iso(t.created), lastModifiedDateTime: iso(t.modified), changeKey, categories: [],
      receivedDateTime: iso(t.received), sentDateTime: iso(t.received - 5000),
      hasAttachments: atts.some((a) => !a.inline), internetMessageId: this.internetMessageId(u, idx),
      subject: this.subject(u, idx), bodyPreview: text.slice(0, 255), importance: 'normal',
      parentFolderId: this.folderId(u, folderKey),
      conversationId: Buffer.from(`conv.${u}.${idx % 97}.................`).toString('base64'),
      isDeliveryReceiptRequested: false, isReadReceiptRequested: false, isRead: this.isRead(u, idx), isDraft: draft,
      webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(ids.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
      inferenceClassification: 'focused',
      body: { contentType: 'text', content: text },
      sender: ea(p.from), from: ea(p.from), toRecipients: p.to.map(ea), ccRecipients: p.cc.map(ea), bccRecipients: [], replyTo: [],
      flag: { flagStatus: 'notFlagged' },
    };
  }
}

module.exports = { Mailboxes, FOLDERS, WK };
