'use strict';
// Directory groups: listing and paging, direct and transitive members (nested groups, devices,
// OData casts as advanced queries), hostile names, ground truth, membership mutations, drive webUrl.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { startEmulator } = require('../testkit');

let emu, users, truthGroups;
const byName = (name) => truthGroups.find((g) => g.displayName === name);
before(async () => {
  emu = await startEmulator(['--users', '300', '--messages-per-user', '1', '--files-per-user', '1', '--seed', '11']);
  users = await emu.users();
  truthGroups = (await emu.truth('?kinds=groups')).filter((o) => o.type === 'group');
});
after(async () => { await emu.stop(); });

test('groups: default page 100, $top <= 999, $select, ids unique, the same as the truth', async () => {
  const r = await emu.follow('groups');
  assert.strictEqual(r.items.length, truthGroups.length);
  assert.ok(truthGroups.length > 12, `${truthGroups.length} groups`);
  assert.deepStrictEqual(r.items.map((g) => g.id), truthGroups.map((g) => g.id));
  assert.strictEqual(new Set(r.items.map((g) => g.id)).size, r.items.length);
  const s = (await emu.get('groups?$top=3&$select=id,displayName,mail')).json();
  assert.strictEqual(s.value.length, 3); assert.ok(s['@odata.nextLink']);
  assert.deepStrictEqual(Object.keys(s.value[0]).sort(), ['displayName', 'id', 'mail']);
  assert.strictEqual((await emu.get('groups?$top=1000')).status, 400);
  const f = await emu.get("groups?$filter=startswith(displayName,'S')");
  assert.strictEqual(f.status, 400); assert.strictEqual(f.json().error.code, 'Request_UnsupportedQuery');
  const one = (await emu.get(`groups/${byName('Sales').id}`)).json();
  assert.deepStrictEqual(one.groupTypes, ['Unified']); assert.match(one.mail, /^sales@/); assert.strictEqual(one.mailEnabled, true);
  const nf = await emu.get('groups/00000000-0000-4000-8000-000000000000');
  assert.strictEqual(nf.status, 404); assert.strictEqual(nf.json().error.code, 'Request_ResourceNotFound');
});

test('group kinds and hostile names: glob characters, markup, non-ASCII, no mail on security groups', async () => {
  const names = truthGroups.map((g) => g.displayName);
  for (const n of ['Zo\u00eb\'s *Team* [ops]?', 'Finance & Legal <Board> "Exec"', 'Sales \u2013 EMEA']) assert.ok(names.includes(n), n);
  assert.ok(names.some((n) => /[\u3000-\u9fff]/.test(n)));
  const emea = byName('Sales \u2013 EMEA');
  assert.strictEqual(emea.mail, null); assert.strictEqual(emea.securityEnabled, true); assert.deepStrictEqual(emea.groupTypes, []);
  const dl = byName('Newsletter DL');
  assert.strictEqual(dl.securityEnabled, false); assert.strictEqual(dl.mailEnabled, true); assert.deepStrictEqual(dl.groupTypes, []);
});

test('transitiveMembers: nested groups flattened (three levels), each object once, groups and devices typed', async () => {
  const sales = byName('Sales'); const emea = byName('Sales \u2013 EMEA'); const interns = byName('Sales EMEA Interns');
  const direct = (await emu.follow(`groups/${sales.id}/members`)).items;
  assert.ok(direct.some((m) => m.id === emea.id && m['@odata.type'] === '#microsoft.graph.group'));
  assert.ok(!direct.some((m) => m.id === interns.id), 'interns are nested two levels down');
  const all = (await emu.follow(`groups/${sales.id}/transitiveMembers?$select=id,userPrincipalName`)).items;
  assert.strictEqual(new Set(all.map((m) => m.id)).size, all.length);
  assert.ok(all.some((m) => m.id === interns.id));
  const userIds = all.filter((m) => m['@odata.type'] === '#microsoft.graph.user').map((m) => m.id);
  const expect = new Set([sales, emea, interns].flatMap((g) => g.members.filter((m) => m.type === 'user').map((m) => m.id)));
  assert.deepStrictEqual(new Set(userIds), expect);
  assert.deepStrictEqual(new Set(sales.transitiveUsers), expect);
  assert.ok(expect.size > direct.filter((m) => m['@odata.type'] === '#microsoft.graph.user').length);
  // users without a mailbox (index 1) and without a OneDrive (index 2) are members of the interns group
  assert.ok(expect.has(users[1].id) && expect.has(users[2].id));
  const u = all.find((m) => m['@odata.type'] === '#microsoft.graph.user');
  assert.deepStrictEqual(Object.keys(u).sort(), ['@odata.type', 'id', 'userPrincipalName']);
  const devices = (await emu.follow(`groups/${byName('Conference Room Devices').id}/transitiveMembers`)).items;
  assert.ok(devices.length > 0 && devices.every((m) => m['@odata.type'] === '#microsoft.graph.device'));
  assert.deepStrictEqual((await emu.follow(`groups/${byName('Empty Group').id}/transitiveMembers`)).items, []);
  // a distribution list nesting a Microsoft 365 group
  const news = byName('Newsletter DL'); const eng = byName('Engineering');
  const newsUsers = new Set(news.transitiveUsers);
  for (const id of eng.transitiveUsers) assert.ok(newsUsers.has(id));
});

test('big groups page: All Company lists every user over several pages, $top > 999 refused', async () => {
  const r = await emu.follow(`groups/${byName('All Company').id}/transitiveMembers`);
  assert.ok(r.pages >= 3, `${r.pages} pages`);
  assert.strictEqual(r.items.length, 300);
  assert.deepStrictEqual(new Set(r.items.map((m) => m.id)), new Set(users.map((x) => x.id)));
  for (const l of r.links) assert.match(l, /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/groups\/[0-9a-f-]+\/transitiveMembers\?\$skiptoken=/);
  const big = await emu.follow(`groups/${byName('All Company').id}/transitiveMembers?$top=999`);
  assert.strictEqual(big.items.length, 300); assert.strictEqual(big.pages, 1);
  assert.strictEqual((await emu.get(`groups/${byName('All Company').id}/members?$top=1000`)).status, 400);
});

test('OData cast: an advanced query (ConsistencyLevel: eventual + $count=true), users only, with @odata.count', async () => {
  const sales = byName('Sales');
  const plain = await emu.get(`groups/${sales.id}/transitiveMembers/microsoft.graph.user`);
  assert.strictEqual(plain.status, 400); assert.strictEqual(plain.json().error.code, 'Request_UnsupportedQuery');
  const r = await emu.get(`groups/${sales.id}/transitiveMembers/microsoft.graph.user?$count=true&$select=id`, { ConsistencyLevel: 'eventual' });
  assert.strictEqual(r.status, 200);
  const j = r.json();
  assert.strictEqual(j['@odata.count'], sales.transitiveUsers.length);
  assert.ok(j['@odata.nextLink'], 'more than one page');
  // headers are not carried by nextLinks: without ConsistencyLevel the next page is refused too
  assert.strictEqual((await emu.get(j['@odata.nextLink'])).status, 400);
  const rest = (await emu.follow(j['@odata.nextLink'], { ConsistencyLevel: 'eventual' })).items;
  const ids = [...j.value, ...rest].map((m) => m.id);
  assert.deepStrictEqual(new Set(ids), new Set(sales.transitiveUsers));
  const groups = (await emu.get(`groups/${sales.id}/members/microsoft.graph.group?$count=true`, { ConsistencyLevel: 'eventual' })).json();
  assert.deepStrictEqual(groups.value.map((g) => g.displayName), ['Sales \u2013 EMEA']);
  assert.strictEqual((await emu.get(`groups/${sales.id}/members/microsoft.graph.contract`)).status, 400);
});

test('control: add/remove a group member shows in members, transitive members of parents and the truth', async () => {
  const interns = byName('Sales EMEA Interns'); const sales = byName('Sales');
  const outsider = users.find((x) => !sales.transitiveUsers.includes(x.id));
  assert.ok(outsider);
  let r = await emu.control('/control/mutate', { op: 'add_group_member', group: interns.displayName, user: outsider.userPrincipalName });
  assert.deepStrictEqual(r.results[0], { changed: true });
  let all = (await emu.follow(`groups/${sales.id}/transitiveMembers?$top=999`)).items;
  assert.ok(all.some((m) => m.id === outsider.id));
  let t = (await emu.truth('?kinds=groups')).find((o) => o.id === sales.id);
  assert.ok(t.transitiveUsers.includes(outsider.id));
  r = await emu.control('/control/mutate', { op: 'remove_group_member', group: interns.id, user: outsider.id });
  assert.deepStrictEqual(r.results[0], { changed: true });
  all = (await emu.follow(`groups/${sales.id}/transitiveMembers?$top=999`)).items;
  assert.ok(!all.some((m) => m.id === outsider.id));
  t = (await emu.truth('?kinds=groups')).find((o) => o.id === sales.id);
  assert.ok(!t.transitiveUsers.includes(outsider.id));
});

test('drive webUrl: the personal site\'s Documents library, in the truth too; groups not in the default truth', async () => {
  const truth = await emu.truth('?kinds=users');
  const tu = truth.filter((o) => o.type === 'user');
  assert.strictEqual(tu.find((o) => o.index === 2).driveWebUrl, null);
  const d = (await emu.get(`users/${users[0].id}/drive?$select=id,webUrl,driveType`)).json();
  assert.deepStrictEqual(Object.keys(d).filter((k) => !k.startsWith('@')).sort(), ['driveType', 'id', 'webUrl']);
  assert.strictEqual(d.webUrl, tu[0].driveWebUrl);
  assert.match(d.webUrl, /^https:\/\/contoso-my\.sharepoint\.com\/personal\/[a-z0-9_-]+\/Documents$/);
  assert.ok(!(await emu.truth()).some((o) => o.type === 'group'));
});
