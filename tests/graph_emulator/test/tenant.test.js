'use strict';
// Generated tenant shapes: users, paging, mailbox/drive provisioning errors, folder trees, hostile data, MIME, contacts, calendars.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { startEmulator } = require('../testkit');

let emu, users, u0;
before(async () => {
  emu = await startEmulator(['--users', '250', '--messages-per-user', '120', '--files-per-user', '40', '--seed', '7']);
  users = await emu.users(); u0 = users[0].id;
});
after(async () => { await emu.stop(); });

test('users: default page 100, $top, $select, opaque absolute nextLinks, $top>999 rejected', async () => {
  const r = await emu.follow('users');
  assert.strictEqual(r.items.length, 250); assert.ok(r.pages >= 3);
  for (const l of r.links) assert.match(l, /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?\$skiptoken=/);
  const s = (await emu.get('users?$top=5&$select=id,userPrincipalName')).json();
  assert.strictEqual(s.value.length, 5); assert.deepStrictEqual(Object.keys(s.value[0]).sort(), ['id', 'userPrincipalName']);
  assert.strictEqual((await emu.get('users?$top=1000')).status, 400);
  assert.strictEqual(new Set(users.map((u) => u.id)).size, 250);
});

test('user without a mailbox -> MailboxNotEnabledForRESTAPI; without a drive -> 404 ResourceNotFound', async () => {
  let r = await emu.get(`users/${users[1].id}/mailFolders`);
  assert.strictEqual(r.status, 404); assert.strictEqual(r.json().error.code, 'MailboxNotEnabledForRESTAPI');
  r = await emu.get(`users/${users[2].id}/drive`);
  assert.strictEqual(r.status, 404); assert.strictEqual(r.json().error.code, 'ResourceNotFound');
  r = await emu.get(`users/${users[0].userPrincipalName}/drive`);
  assert.strictEqual(r.status, 200); assert.strictEqual(r.json().driveType, 'business'); assert.match(r.json().id, /^b!/);
});

async function folderTree(uid) {
  const out = [];
  const walk = async (url, depth, parentPath) => {
    const r = await emu.follow(url);
    for (const f of r.items) {
      const p = [...parentPath, f.displayName]; out.push({ ...f, depth, path: p });
      if (f.childFolderCount > 0) await walk(`users/${uid}/mailFolders/${encodeURIComponent(f.id)}/childFolders?includeHiddenFolders=true`, depth + 1, p);
    }
  };
  await walk(`users/${uid}/mailFolders?includeHiddenFolders=true`, 1, []);
  return out;
}

test('mail folder tree: hidden folders, search folder type, nesting 3+ deep, hostile names', async () => {
  const all = await folderTree(u0);
  const visible = (await emu.follow(`users/${u0}/mailFolders`)).items;
  assert.ok(all.some((f) => f.isHidden)); assert.ok(!visible.some((f) => f.isHidden));
  const sf = all.find((f) => f['@odata.type'] === '#microsoft.graph.mailSearchFolder');
  assert.ok(sf); assert.deepStrictEqual(sf.path, ['Search Folders', 'Unread Mail']);
  assert.ok(Math.max(...all.map((f) => f.depth)) >= 4);
  const names = all.map((f) => f.displayName);
  for (const n of ['A/B slash', 'back\\slash:colon*star?', '..', 'trailing dot.', 'trailing space ', 'Caf\u00e9', 'Cafe\u0301']) assert.ok(names.includes(n), n);
  assert.ok(names.some((n) => n.includes('\u202E'))); assert.ok(names.some((n) => /[\u0001\u0007]/.test(n)));
  assert.ok(names.some((n) => Buffer.byteLength(n) === 250));
  const inbox = (await emu.get(`users/${u0}/mailFolders/inbox`)).json();
  assert.strictEqual(inbox.displayName, 'Inbox'); assert.strictEqual(inbox.wellKnownName, undefined);
});

test('messages: ids with / + =, URL-encoded ids work, hostile subjects, lone surrogate escaped, immutable ids differ', async () => {
  const r = await emu.get(`users/${u0}/mailFolders/inbox/messages?$top=50`);
  const raw = r.text();
  assert.ok(raw.includes('\\ud800'), 'lone surrogate must be escaped in JSON');
  const msgs = r.json().value;
  const subjects = msgs.map((m) => m.subject);
  assert.ok(subjects.includes('')); assert.ok(subjects.some((s) => s.length === 400)); assert.ok(subjects.some((s) => /[^\x00-\x7f]/.test(s)));
  const ids = msgs.map((m) => m.id).join('');
  assert.ok(ids.includes('/') && ids.includes('+') && ids.includes('='));
  const m = msgs.find((x) => x.id.includes('/')) || msgs[0];
  const one = await emu.get(`users/${u0}/messages/${encodeURIComponent(m.id)}`);
  assert.strictEqual(one.status, 200); assert.strictEqual(one.json().id, m.id);
  for (const k of ['id', 'subject', 'receivedDateTime', 'lastModifiedDateTime', 'parentFolderId', 'from', 'isRead', 'internetMessageId', 'changeKey', '@odata.etag']) assert.ok(k in one.json(), k);
  const imm = await emu.get(`users/${u0}/messages/${encodeURIComponent(m.id)}`, { Prefer: 'IdType="ImmutableId"' });
  assert.notStrictEqual(imm.json().id, m.id); assert.match(imm.headers['preference-applied'], /ImmutableId/);
  const same = (await emu.get(`users/${u0}/mailFolders/inbox/messages?$top=50`)).json().value.filter((x) => x.subject === '');
  assert.ok(same.length >= 1);
  const ident = (await emu.follow(`users/${u0}/mailFolders/inbox/childFolders?$top=100`)).items.find((f) => f.displayName === 'Identical Subjects');
  const im = (await emu.follow(`users/${u0}/mailFolders/${encodeURIComponent(ident.id)}/messages`)).items;
  assert.ok(im.length >= 2 && im.every((x) => x.subject === im[0].subject));
  const bad = await emu.get(`users/${u0}/messages/AAMkNOPE`);
  assert.strictEqual(bad.status, 400);
});

test('$value MIME: RFC 2047 headers, multipart, base64 attachments, inline images', async () => {
  const all = (await emu.follow(`users/${u0}/messages?$top=200`)).items;
  let sawAttach = false, sawInline = false, saw2047 = false;
  for (const m of all.slice(0, 120)) {
    const r = await emu.get(`users/${u0}/messages/${encodeURIComponent(m.id)}/$value`);
    assert.strictEqual(r.status, 200); assert.match(r.headers['content-type'], /^text\/plain/);
    const t = r.text();
    assert.match(t, /^Received: /); assert.match(t, /\r\nMIME-Version: 1.0\r\n/); assert.ok(t.includes(`Message-ID: ${m.internetMessageId}`));
    if (/Content-Disposition: attachment/.test(t)) { sawAttach = true; assert.match(t, /Content-Transfer-Encoding: base64/); }
    if (/multipart\/related/.test(t) && /Content-ID: </.test(t)) sawInline = true;
    if (/Subject: =\?UTF-8\?B\?/.test(t)) saw2047 = true;
  }
  assert.ok(sawAttach && sawInline && saw2047, `${sawAttach} ${sawInline} ${saw2047}`);
  const wa = all.find((m) => m.hasAttachments);
  const att = (await emu.get(`users/${u0}/messages/${encodeURIComponent(wa.id)}/attachments`)).json().value;
  assert.ok(att.length >= 1); assert.strictEqual(att[0]['@odata.type'], '#microsoft.graph.fileAttachment');
  assert.strictEqual(Buffer.from(att[0].contentBytes, 'base64').length, att[0].size);
});

test('Prefer odata.maxpagesize is honoured and echoed; occasional empty pages still carry nextLink', async () => {
  const r = await emu.get(`users/${u0}/mailFolders/inbox/messages`, { Prefer: 'odata.maxpagesize=7, IdType="ImmutableId"' });
  assert.strictEqual(r.json().value.length, 7);
  assert.match(r.headers['preference-applied'], /odata\.maxpagesize=7/);
  await emu.control('/control/knobs', { empty_page_rate: 1 });
  const f = await emu.follow(`users/${u0}/mailFolders/inbox/messages?$top=10`);
  assert.ok(f.emptyPages >= 1);
  const total = (await emu.get(`users/${u0}/mailFolders/inbox`)).json().totalItemCount;
  assert.strictEqual(f.items.length, total);
  await emu.control('/control/knobs', { empty_page_rate: 0.05 });
});

test('contacts: folders, default folder delta, child folder delta', async () => {
  const folders = (await emu.follow(`users/${u0}/contactFolders`)).items;
  assert.ok(folders.length >= 2);
  const d = await emu.follow(`users/${u0}/contacts/delta`);
  assert.ok(d.items.length > 0 && d.deltaLink);
  assert.ok(d.items.every((c) => 'displayName' in c && 'emailAddresses' in c));
  const d2 = await emu.follow(`users/${u0}/contactFolders/${encodeURIComponent(folders[0].id)}/contacts/delta`);
  assert.ok(d2.deltaLink);
});

test('calendars: events paging, series master with recurrence, exceptions via instances and exceptionOccurrences', async () => {
  const cals = (await emu.follow(`users/${u0}/calendars`)).items;
  assert.ok(cals.find((c) => c.isDefaultCalendar));
  const ev = await emu.follow(`users/${u0}/calendars/${encodeURIComponent(cals[0].id)}/events`);
  assert.ok(ev.pages >= 2); assert.ok(ev.items.every((e) => e.type === 'singleInstance' || e.type === 'seriesMaster'));
  const master = ev.items.find((e) => e.type === 'seriesMaster');
  assert.strictEqual(master.recurrence.pattern.type, 'weekly');
  const inst = await emu.follow(`users/${u0}/events/${encodeURIComponent(master.id)}/instances?startDateTime=2020-01-01T00:00:00Z&endDateTime=2030-01-01T00:00:00Z`);
  assert.strictEqual(inst.items.length, 9);
  assert.strictEqual(inst.items.filter((e) => e.type === 'exception').length, 1);
  assert.ok(inst.items.every((e) => e.seriesMasterId === master.id));
  assert.strictEqual((await emu.get(`users/${u0}/events/${encodeURIComponent(master.id)}/instances`)).status, 400);
  const ex = (await emu.get(`users/${u0}/events/${encodeURIComponent(master.id)}?$expand=exceptionOccurrences`)).json();
  assert.strictEqual(ex.exceptionOccurrences.length, 1);
});

test('drive: hostile names (NFC+NFD in one folder, 250 bytes, RTL, control chars, ..), item shape', async () => {
  const drive = (await emu.get(`users/${u0}/drive`)).json();
  const d = await emu.follow(`drives/${drive.id}/root/delta`);
  const names = d.items.map((i) => i.name);
  for (const n of ['..', 'trailing dot.', 'trailing space ', 'Caf\u00e9.txt', 'Cafe\u0301.txt']) assert.ok(names.includes(n), n);
  assert.ok(names.some((n) => Buffer.byteLength(n) === 250)); assert.ok(names.some((n) => n.includes('\u202E')));
  const nfc = d.items.find((i) => i.name === 'Caf\u00e9.txt'), nfd = d.items.find((i) => i.name === 'Cafe\u0301.txt');
  assert.strictEqual(nfc.parentReference.id, nfd.parentReference.id);
  const f = d.items.find((i) => i.file && i.size > 0 && i.size < 1e6);
  for (const k of ['id', 'name', 'size', 'eTag', 'createdDateTime', 'lastModifiedDateTime', 'webUrl', 'parentReference', '@microsoft.graph.downloadUrl']) assert.ok(k in f, k);
  assert.ok(f.file.mimeType && f.file.hashes.quickXorHash);
  assert.ok(d.items.every((i) => !i.parentReference || i.parentReference.path === undefined));
  const got = (await emu.get(`drives/${drive.id}/items/${f.id}`)).json();
  assert.ok(got.parentReference.path.startsWith('/drive/root:')); assert.ok(got.cTag);
  const kids = await emu.follow(`drives/${drive.id}/root/children`);
  assert.ok(kids.items.some((i) => i.folder));
});
