'use strict';
// Ground truth dump: every user, mail folder, message (with sha256 of the exact $value bytes),
// contact, calendar event and drive item (with sha256 of the content), and (kinds=groups only)
// every group with its direct members and transitive users, streamed as NDJSON
// (default) or as one JSON document {"items":[...]} with ?format=json.
const crypto = require('crypto');
const { iso } = require('./util');
const { FOLDERS } = require('./mailbox');
const { CFOLDERS } = require('./contacts');
const { itemId } = require('./ids');
const { driveWebUrl } = require('./drive');

async function streamTruth(ctx, q, res) {
  const t = ctx.tenant; const json = q.get('format') === 'json';
  const hashes = q.get('hashes') !== '0';
  const kinds = new Set((q.get('kinds') || 'users,mail,contacts,calendar,drive').split(','));
  let users = [...Array(t.userCount()).keys()];
  if (q.get('user')) { const u = t.userIndex(q.get('user')); users = u >= 0 ? [u] : []; }
  res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-ndjson' });
  let first = true; let closed = false;
  res.on('close', () => { closed = true; });
  const write = async (o) => {
    const line = json ? (first ? '' : ',\n') + JSON.stringify(o) : JSON.stringify(o) + '\n';
    first = false;
    if (!res.write(line)) await new Promise((r) => res.once('drain', r));
  };
  if (json) res.write(`{"seq":${t.seq},"items":[\n`);
  else await write({ type: 'meta', seq: t.seq, tenant_id: t.tenantId, users: t.userCount(), generated: new Date().toISOString() });
  for (const u of users) {
    if (closed) return;
    const us = t.user(u); const uid = us.id;
    if (kinds.has('users')) await write({ type: 'user', index: u, id: uid, userPrincipalName: us.userPrincipalName, displayName: us.displayName, hasMailbox: t.hasMailbox(u), hasDrive: t.hasDrive(u),
      driveWebUrl: t.hasDrive(u) ? driveWebUrl(us.userPrincipalName) : null });
    if (t.hasMailbox(u) && kinds.has('mail')) {
      const mb = ctx.mail; const set = mb.set(u);
      for (const f of FOLDERS) {
        if (f.key === 0) continue;
        const meta = mb.folderMeta(u, f.key);
        await write({ type: 'mail_folder', user: uid, id: mb.folderId(u, f.key), parentId: f.parent ? mb.folderId(u, f.parent) : null, displayName: meta.name,
          path: mb.folderPath(u, f.key), hidden: f.hidden, search: f.search, wellKnownName: f.wk, totalItemCount: f.search ? 0 : set.list(f.key).length });
        if (f.search) continue;
        const l = set.list(f.key);
        for (let i = 0; i < l.length; i++) {
          const idx = l.at(i); const ids = mb.messageIds(u, idx, f.key); const tm = mb.times(u, idx);
          const o = { type: 'message', user: uid, id: ids.id, immutableId: ids.immutableId, folderId: mb.folderId(u, f.key), folderPath: mb.folderPath(u, f.key),
            subject: mb.subject(u, idx), internetMessageId: mb.internetMessageId(u, idx), receivedDateTime: iso(tm.received), lastModifiedDateTime: iso(tm.modified), isRead: mb.isRead(u, idx) };
          if (hashes) { const b = mb.mime(u, idx); o.size = b.length; o.sha256 = crypto.createHash('sha256').update(b).digest('hex'); }
          await write(o);
        }
      }
    }
    if (t.hasMailbox(u) && kinds.has('contacts')) {
      const c = ctx.contacts; const set = c.set(u);
      for (const [k, name] of CFOLDERS) {
        await write({ type: 'contact_folder', user: uid, id: c.folderId(u, k), displayName: name, default: k === 0 });
        const l = set.list(k);
        for (let i = 0; i < l.length; i++) { const j = c.json(u, l.at(i), k, false); await write({ type: 'contact', user: uid, id: j.id, immutableId: c.json(u, l.at(i), k, true).id, folderId: c.folderId(u, k), displayName: j.displayName, lastModifiedDateTime: j.lastModifiedDateTime }); }
      }
    }
    if (t.hasMailbox(u) && kinds.has('calendar')) {
      const cal = ctx.calendars;
      for (const c of [0, 1, 2]) {
        await write({ type: 'calendar', user: uid, id: cal.calId(u, c), name: cal.calJson(u, c).name });
        const l = cal.eventsOf(c);
        for (let i = 0; i < l.length; i++) {
          const e = cal.eventJson(u, l.at(i));
          await write({ type: 'event', user: uid, id: e.id, calendarId: cal.calId(u, c), subject: e.subject, eventType: e.type, start: e.start.dateTime,
            recurrence: e.recurrence, exceptions: cal.exceptions(u, l.at(i)).map((x) => ({ id: x.id, start: x.start.dateTime, subject: x.subject })), cancelledOccurrences: e.type === 'seriesMaster' ? 1 : 0 });
        }
      }
    }
    if (t.hasDrive(u) && kinds.has('drive')) {
      const dr = ctx.drives; const d = dr.get(u);
      await write({ type: 'drive', user: uid, id: d.id });
      for (const idx of dr.allAlive(d)) {
        const it = d.items[idx];
        const o = { type: 'drive_item', user: uid, driveId: d.id, id: itemId(u, idx), name: it.name, path: dr.path(d, idx), folder: it.folder,
          size: it.folder ? 0 : dr.size(d, it), version: it.ver, lastModifiedDateTime: iso(it.mtime), createdDateTime: iso(it.ctime) };
        if (!it.folder && hashes) {
          const h = dr.hashes(d, it, true); o.sha256 = h.sha256; o.quickXorHash = h.quickXorHash;
          if (o.size > 8 * 1024 * 1024) await new Promise((r) => setImmediate(r));
        }
        await write(o);
      }
    }
  }
  // groups: only when kinds lists them (not in the default kinds) and no ?user= is given
  if (kinds.has('groups') && !q.get('user')) {
    const gs = ctx.groups;
    for (let g = 0; g < gs.count(); g++) {
      if (closed) return;
      const j = gs.json(g);
      const ref = (m) => (m.type === 'user' ? t.userGuid(m.i) : m.type === 'group' ? gs.id(m.i) : gs.deviceId(m.i));
      await write({ type: 'group', id: j.id, displayName: j.displayName, mail: j.mail, groupTypes: j.groupTypes, securityEnabled: j.securityEnabled,
        mailEnabled: j.mailEnabled, members: gs.direct(g).map((m) => ({ type: m.type, id: ref(m) })),
        transitiveUsers: gs.transitiveUsers(g).map((i) => t.userGuid(i)) });
    }
  }
  if (json) res.write('\n]}\n');
  res.end();
}

module.exports = { streamTruth };
