'use strict';
// Delta rounds: mail per folder (adds, edits, moves as remove+add, deletes, replays, stale links, 410),
// drive (both link forms, token=latest, deleted items, renames, 410 resyncRequired + Location), and truth.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { startEmulator } = require('../testkit');

let emu, u0, upn0;
before(async () => {
  emu = await startEmulator(['--users', '5', '--messages-per-user', '200', '--files-per-user', '40', '--seed', '3']);
  await emu.control('/control/knobs', { empty_page_rate: 0, replay_rate: 0 });
  const us = await emu.users(); u0 = us[0].id; upn0 = us[0].userPrincipalName;
});
after(async () => { await emu.stop(); });

const byId = (items) => { const m = new Map(); for (const i of items) m.set(i.id, i); return m; };

test('mail delta: initial round, then new/edit/move/delete show up; moves are remove+add; immutable ids survive moves', async () => {
  const H = { Prefer: 'odata.maxpagesize=25' };
  const inbox = await emu.follow(`users/${u0}/mailFolders/inbox/messages/delta`, H);
  const arch = await emu.follow(`users/${u0}/mailFolders/archive/messages/delta`, H);
  assert.ok(inbox.deltaLink && inbox.pages > 1 && arch.deltaLink);
  assert.match(inbox.deltaLink, /\$deltatoken=/); assert.match(inbox.links[0], /\$skiptoken=/);
  const truthInbox = (await emu.truth(`?user=${u0}&kinds=mail&hashes=0`)).filter((x) => x.type === 'message' && x.folderPath.join('/') === 'Inbox');
  assert.strictEqual(byId(inbox.items).size, truthInbox.length);
  const imm = await emu.follow(`users/${u0}/mailFolders/inbox/messages/delta`, { Prefer: 'IdType="ImmutableId"' });
  const immInbox = imm.deltaLink;

  const ids = [...byId(inbox.items).keys()];
  const res = await emu.control('/control/mutate', { ops: [
    { op: 'new_mail', user: upn0, folder: 'inbox', count: 3, subject: 'fresh' },
    { op: 'edit_mail', user: u0, id: ids[0], subject: 'edited subject' },
    { op: 'move_mail', user: u0, id: ids[1], to: 'archive' },
    { op: 'delete_mail', user: u0, id: ids[2] },
  ] });
  const moved = res.results[2].moved[0];
  const d = await emu.follow(inbox.deltaLink, H);
  const m = byId(d.items);
  assert.strictEqual(d.items.filter((x) => x.subject === 'fresh').length, 3);
  assert.strictEqual(m.get(ids[0]).subject, 'edited subject');
  assert.deepStrictEqual(m.get(ids[1])['@removed'], { reason: 'deleted' });
  assert.deepStrictEqual(m.get(ids[2])['@removed'], { reason: 'deleted' });
  const da = await emu.follow(arch.deltaLink, H);
  const added = da.items.find((x) => x.id === moved.new.id);
  assert.ok(added && !added['@removed']); assert.notStrictEqual(moved.new.id, ids[1]);
  assert.strictEqual((await emu.get(`users/${u0}/messages/${encodeURIComponent(ids[1])}`)).status, 404, 'old regular id is gone after a move');
  const di = await emu.follow(immInbox, { Prefer: 'IdType="ImmutableId"' });
  assert.ok(di.items.some((x) => x.id === moved.old.immutableId && x['@removed']));
  assert.strictEqual(moved.old.immutableId, moved.new.immutableId);
  assert.strictEqual((await emu.get(`users/${u0}/messages/${encodeURIComponent(moved.new.immutableId)}`)).status, 200);
  // nothing changed -> empty round with a new deltaLink
  const again = await emu.follow(d.deltaLink, H);
  assert.strictEqual(again.items.length, 0); assert.ok(again.deltaLink);
});

test('mail delta: replays within and across rounds; stale nextLinks and invalidated tokens give 410 SyncStateNotFound', async () => {
  await emu.control('/control/knobs', { replay_rate: 1 });
  const r = await emu.follow(`users/${u0}/mailFolders/sentitems/messages/delta`, { Prefer: 'odata.maxpagesize=5' });
  const ids = r.items.map((x) => x.id);
  assert.ok(ids.length > new Set(ids).size, 'an item is repeated within a round');
  await emu.control('/control/mutate', { op: 'new_mail', user: u0, folder: 'sentitems', count: 1 });
  const r2 = await emu.follow(r.deltaLink);
  assert.ok(r2.items.length >= 2, 'an unchanged item is replayed in the next round');
  await emu.control('/control/knobs', { replay_rate: 0 });
  // stale nextLink: fetch page 1 and 2, then page 1's link again
  const p0 = (await emu.get(`users/${u0}/mailFolders/inbox/messages/delta`, { Prefer: 'odata.maxpagesize=5' })).json();
  const p1 = (await emu.get(p0['@odata.nextLink'])).json();
  const p1again = await emu.get(p0['@odata.nextLink']);
  assert.strictEqual(p1again.status, 200, 'retrying the latest page works');
  await emu.get(p1['@odata.nextLink']);
  const stale = await emu.get(p0['@odata.nextLink']);
  assert.strictEqual(stale.status, 410); assert.strictEqual(stale.json().error.code, 'SyncStateNotFound');
  const full = await emu.follow(`users/${u0}/mailFolders/drafts/messages/delta`);
  await emu.control('/control/invalidate-delta', { kind: 'mail' });
  const gone = await emu.get(full.deltaLink);
  assert.strictEqual(gone.status, 410); assert.strictEqual(gone.json().error.code, 'SyncStateNotFound');
  assert.ok((await emu.follow(`users/${u0}/mailFolders/drafts/messages/delta`)).deltaLink);
});

test('mail folder rename shows in mailFolders/delta; contacts delta reports removals', async () => {
  const f = await emu.follow(`users/${u0}/mailFolders/delta`);
  assert.ok(f.items.some((x) => x['@odata.type'] === '#microsoft.graph.mailSearchFolder'));
  await emu.control('/control/mutate', { op: 'rename_folder', user: u0, folder: 'Inbox/Projects', name: 'Projects (renamed)' });
  const f2 = await emu.follow(f.deltaLink);
  assert.ok(f2.items.some((x) => x.displayName === 'Projects (renamed)'));
  const c = await emu.follow(`users/${u0}/contacts/delta`);
  await emu.control('/control/mutate', { op: 'delete_contact', user: u0, count: 1 });
  const c2 = await emu.follow(c.deltaLink);
  assert.ok(c2.items.some((x) => x['@removed']));
});

test('drive delta: both link forms, token=latest, deleted items without name, renames and moves, repeated ids', async () => {
  const drive = (await emu.get(`users/${u0}/drive`)).json();
  const first = await emu.follow(`drives/${drive.id}/root/delta?$top=10`);
  const forms = [...first.links, first.deltaLink].join(' ');
  assert.ok(forms.includes('/root/delta?token=') && forms.includes("/root/delta(token='"), forms.slice(0, 300));
  assert.strictEqual(first.items[0].root !== undefined, true, 'root first');
  const latest = (await emu.get(`users/${u0}/drive/root/delta?token=latest`)).json();
  assert.strictEqual(latest.value.length, 0); assert.ok(latest['@odata.deltaLink']);
  const truth = (await emu.truth(`?user=${u0}&kinds=drive&hashes=0`)).filter((x) => x.type === 'drive_item');
  const file = truth.find((x) => !x.folder && x.path[0] === 'Documents' && x.path.length > 2);
  const folder = truth.find((x) => x.folder && x.path.join('/') === 'Documents/Projects');
  await emu.control('/control/mutate', { ops: [
    { op: 'delete_file', user: u0, id: file.id },
    { op: 'rename_drive_folder', user: u0, path: 'Documents/Projects', name: 'Projects 2' },
    { op: 'new_file', user: u0, path: 'Hostile names/new.txt', size: 12345 },
  ] });
  for (const link of [first.deltaLink, latest['@odata.deltaLink']]) {
    const d = await emu.follow(link);
    const del = d.items.find((x) => x.id === file.id);
    assert.ok(del && del.deleted && del.deleted.state === 'deleted' && del.name === undefined, JSON.stringify(del));
    const ren = d.items.find((x) => x.id === folder.id);
    assert.strictEqual(ren.name, 'Projects 2');
    assert.ok(d.items.some((x) => x.name === 'new.txt' && x.size === 12345));
    assert.ok(d.items.every((x) => !x.parentReference || x.parentReference.path === undefined));
    assert.ok(!d.items.some((x) => x.cTag), 'no cTag in delta');
    // descendants of the renamed folder are not re-emitted
    assert.ok(!d.items.some((x) => !x.deleted && truth.find((t) => t.id === x.id && t.path.slice(0, 2).join('/') === 'Documents/Projects' && t.path.length > 2)));
  }
  await emu.control('/control/knobs', { replay_rate: 1 });
  const rep = await emu.follow(`drives/${drive.id}/root/delta`);
  assert.ok(rep.items.length > new Set(rep.items.map((x) => x.id)).size, 'repeated ids');
  await emu.control('/control/knobs', { replay_rate: 0 });
});

test('drive delta: invalidation gives 410 resyncRequired with a Location that restarts enumeration', async () => {
  const drive = (await emu.get(`users/${u0}/drive`)).json();
  const d = await emu.follow(`drives/${drive.id}/root/delta`);
  await emu.control('/control/invalidate-delta', { kind: 'drive' });
  const r = await emu.get(d.deltaLink);
  assert.strictEqual(r.status, 410); assert.strictEqual(r.json().error.code, 'resyncRequired');
  assert.ok(r.headers.location);
  const again = await emu.follow(r.headers.location);
  assert.strictEqual(byId(again.items).size, byId(d.items).size);
});

test('ransomware rewrites and renames every file to .locked; truth reflects it', async () => {
  const drive = (await emu.get(`users/${u0}/drive`)).json();
  const d = await emu.follow(`drives/${drive.id}/root/delta`);
  const before = (await emu.truth(`?user=${u0}&kinds=drive`)).filter((x) => x.type === 'drive_item' && !x.folder);
  const r = await emu.control('/control/mutate', { op: 'ransomware', user: u0 });
  assert.strictEqual(r.results[0].encrypted, before.length);
  const after = (await emu.truth(`?user=${u0}&kinds=drive`)).filter((x) => x.type === 'drive_item' && !x.folder);
  assert.ok(after.every((x) => x.name.endsWith('.locked')));
  const changed = after.filter((x) => x.size > 0 && before.find((b) => b.id === x.id).sha256 !== x.sha256);
  assert.strictEqual(changed.length, after.filter((x) => x.size > 0).length);
  const d2 = await emu.follow(d.deltaLink);
  assert.ok(d2.items.filter((x) => x.file).every((x) => x.name.endsWith('.locked')));
  assert.strictEqual(d2.items.filter((x) => x.file).length, before.length);
});

test('churn mutates mail and files across users and truth stays consistent with delta', async () => {
  const us = (await emu.users()).filter((u) => u.mail);
  const base = await emu.follow(`users/${us[1].id}/mailFolders/inbox/messages/delta`);
  const r = await emu.control('/control/mutate', { op: 'churn', fraction: 0.2, seed: 5 });
  const s = r.results[0].churn;
  assert.ok(s.new_mail + s.edit_mail + s.move_mail + s.delete_mail > 0 && s.new_file + s.edit_file > 0);
  const d = await emu.follow(base.deltaLink);
  const state = byId(base.items);
  for (const it of d.items) { if (it['@removed']) state.delete(it.id); else state.set(it.id, it); }
  const truth = (await emu.truth(`?user=${us[1].id}&kinds=mail&hashes=0`)).filter((x) => x.type === 'message' && x.folderPath.join('/') === 'Inbox');
  assert.deepStrictEqual([...state.keys()].sort(), truth.map((x) => x.id).sort());
});
