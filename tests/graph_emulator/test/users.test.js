'use strict';
// Users leaving the directory (delete_user / restore_user) and broken user listings.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { startEmulator } = require('../testkit');

let emu, users;
before(async () => {
  emu = await startEmulator(['--users', '12', '--messages-per-user', '3', '--files-per-user', '3', '--seed', '5']);
  users = await emu.users();
});
after(async () => { await emu.stop(); });

test('delete_user: gone from /users, truth and every endpoint; restore_user brings the same data back', async () => {
  const u = users[0];
  const before = (await emu.get(`users/${u.id}/mailFolders/inbox/messages?$select=id`)).json().value.map((m) => m.id);
  assert.ok(before.length > 0);
  const r = await emu.control('/control/mutate', { op: 'delete_user', user: u.userPrincipalName });
  assert.strictEqual(r.results[0].deleted, u.id);
  const after1 = await emu.users();
  assert.strictEqual(after1.length, 11); assert.ok(!after1.some((x) => x.id === u.id));
  assert.strictEqual((await emu.get(`users/${u.id}`)).status, 404);
  let x = await emu.get(`users/${u.id}/mailFolders`);
  assert.strictEqual(x.status, 404); assert.strictEqual(x.json().error.code, 'ErrorInvalidUser');
  x = await emu.get(`users/${u.id}/drive`);
  assert.strictEqual(x.status, 404);
  x = await emu.get(`users/${u.id}/drive/root/delta`);
  assert.strictEqual(x.status, 404);
  const truth = await emu.truth('?kinds=users');
  assert.strictEqual(truth[0].users, 11); assert.ok(!truth.some((t) => t.type === 'user' && t.id === u.id));
  // Ops on a deleted user are refused; deleting twice too.
  await assert.rejects(emu.control('/control/mutate', { op: 'new_mail', user: 0, count: 1 }), /unknown user/);
  await assert.rejects(emu.control('/control/mutate', { op: 'delete_user', user: 0 }), /unknown user/);
  await emu.control('/control/mutate', { op: 'restore_user', user: u.id });
  await assert.rejects(emu.control('/control/mutate', { op: 'restore_user', user: u.id }), /not deleted/);
  assert.strictEqual((await emu.users()).length, 12);
  const back = (await emu.get(`users/${u.id}/mailFolders/inbox/messages?$select=id`)).json().value.map((m) => m.id);
  assert.deepStrictEqual(back, before);
});

test('users_max_page pages the listing; users_fail_page breaks it on the first or a later page', async () => {
  await emu.control('/control/knobs', { users_max_page: 5, empty_page_rate: 0 });
  let r = await emu.follow('users?$top=999');
  assert.strictEqual(r.items.length, 12); assert.strictEqual(r.pages, 3);
  await emu.control('/control/knobs', { users_fail_page: 2 });
  r = await emu.follow('users?$top=999');
  assert.strictEqual(r.status, 400); assert.strictEqual(r.items.length, 5); // the first page came, then the break
  await emu.control('/control/knobs', { users_fail_page: 1 });
  r = await emu.follow('users?$top=999');
  assert.strictEqual(r.status, 403); assert.strictEqual(r.error.error.code, 'Authorization_RequestDenied');
  await emu.control('/control/knobs', { users_fail_page: 0, users_max_page: 0 });
  assert.strictEqual((await emu.users()).length, 12);
});

test('fail_mailbox_user: one mailbox refuses every request, the others and its drive answer', async () => {
  await emu.control('/control/knobs', { fail_mailbox_user: 1 });
  let r = await emu.get(`users/${users[0].id}/mailFolders`);
  assert.strictEqual(r.status, 403); assert.strictEqual(r.json().error.code, 'ErrorAccessDenied');
  assert.strictEqual((await emu.get(`users/${users[0].id}/drive`)).status, 200);
  assert.strictEqual((await emu.get(`users/${users[3].id}/mailFolders`)).status, 200);
  await emu.control('/control/knobs', { fail_mailbox_user: 0 });
  assert.strictEqual((await emu.get(`users/${users[0].id}/mailFolders`)).status, 200);
});
