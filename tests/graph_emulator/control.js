'use strict';
// Control API (plain HTTP on loopback): tenant mutations, delta invalidation, fault knobs,
// token lifetime, counters and ground truth.
const { rng, gerr } = require('./util');
const { decodeOid, decodeItemId } = require('./ids');
const { FOLDERS } = require('./mailbox');
const { streamTruth } = require('./truth');

const KNOBS = ['rate_429', 'rate_503', 'rate_reset', 'latency_ms', 'retry_after', 'mailbox_concurrency', 'drive_ru_per_minute',
  'mailbox_requests_per_10min', 'empty_page_rate', 'replay_rate', 'token_ttl', 'token_storm_per_10s', 'download_url_ttl', 'listing_url_ttl',
  'rate_509', 'upload_session_ttl', 'upload_max_mb', 'users_max_page', 'users_fail_page', 'fail_mailbox_user'];

class BadOp extends Error {}
function need(c, msg) { if (!c) throw new BadOp(msg); }

class Control {
  constructor(ctx) { this.ctx = ctx; }
  user(spec) {
    const u = this.ctx.tenant.userIndex(spec);
    need(u >= 0, `unknown user ${JSON.stringify(spec)}`);
    return u;
  }
  mailFolder(u, spec) {
    if (spec == null) return 1;
    const s = String(spec);
    const wk = this.ctx.mail.resolveFolder(u, s); if (wk != null) return wk;
    const d = decodeOid(s); if (d && d.type === 'F' && d.user === u) return d.a;
    // path of display names, e.g. "Inbox/Projects"
    const parts = s.split('/'); let cur = 0;
    for (const p of parts) {
      const k = this.ctx.mail.children(u, cur).find((c) => this.ctx.mail.folderMeta(u, c).name === p);
      need(k !== undefined, `unknown mail folder ${JSON.stringify(spec)}`); cur = k;
    }
    return cur;
  }
  // message selection: {id} or {ids} or {folder, count, offset}
  messages(u, op, set) {
    if (op.id || op.ids) {
      return [].concat(op.id || [], op.ids || []).map((id) => { const d = decodeOid(id); need(d && d.type === 'M' && d.user === u && set.containerOf(d.a) != null, `unknown message ${id}`); return d.a; });
    }
    const key = this.mailFolder(u, op.folder); const l = set.list(key); const n = Math.min(op.count || 1, l.length); const off = op.offset || 0;
    const out = []; for (let i = off; i < off + n && i < l.length; i++) out.push(l.at(i));
    return out;
  }
  driveItem(u, spec, d) {
    const s = String(spec);
    const x = decodeItemId(s); if (x && x.user === u && this.ctx.drives.alive(d, x.idx)) return x.idx;
    const idx = this.ctx.drives.resolvePath(d, s);
    need(idx != null && this.ctx.drives.alive(d, idx), `unknown drive item ${JSON.stringify(spec)}`);
    return idx;
  }
  mutate(op) {
    const ctx = this.ctx; const t = ctx.tenant; const now = Date.now(); const mb = ctx.mail; const dr = ctx.drives;
    need(op && typeof op.op === 'string', 'missing "op"');
    const mailOp = (fn) => { const u = this.user(op.user); need(t.hasMailbox(u), 'user has no mailbox'); return fn(u, mb.set(u)); };
    const driveOp = (fn) => { const u = this.user(op.user); need(t.hasDrive(u), 'user has no drive'); return fn(u, dr.get(u)); };
    const ids = (u, idx, key) => ({ id: mb.messageIds(u, idx, key).id, immutableId: mb.messageIds(u, idx, key).immutableId });
    switch (op.op) {
      case 'new_mail': return mailOp((u, set) => {
        const key = this.mailFolder(u, op.folder); need(!FOLDERS.find((f) => f.key === key).search, 'cannot add to a search folder');
        const out = [];
        for (let i = 0; i < (op.count || 1); i++) {
          const idx = set.add(key, now);
          if (op.subject !== undefined) set.overlay.get(idx).subject = op.subject;
          t.log(u, { kind: 'mail', idx, from: null, to: key }); out.push(ids(u, idx, key));
        }
        return { created: out };
      });
      case 'edit_mail': return mailOp((u, set) => {
        const out = [];
        for (const idx of this.messages(u, op, set)) {
          const c = set.containerOf(idx);
          const extra = { isRead: op.isRead !== undefined ? !!op.isRead : !mb.isRead(u, idx) };
          if (op.subject !== undefined) extra.subject = op.subject;
          set.edit(idx, now, extra); t.log(u, { kind: 'mail', idx, from: c, to: c }); out.push(ids(u, idx, c));
        }
        return { edited: out };
      });
      case 'move_mail': return mailOp((u, set) => {
        const to = this.mailFolder(u, op.to); need(op.to != null, 'move_mail needs "to"'); const out = [];
        for (const idx of this.messages(u, op, set)) {
          const from = set.containerOf(idx); if (from === to) continue;
          set.move(idx, to, now); t.log(u, { kind: 'mail', idx, from, to }); out.push({ old: ids(u, idx, from), new: ids(u, idx, to) });
        }
        return { moved: out };
      });
      case 'delete_mail': return mailOp((u, set) => {
        const out = [];
        for (const idx of this.messages(u, op, set)) { const from = set.del(idx, now); t.log(u, { kind: 'mail', idx, from, to: null }); out.push(ids(u, idx, from)); }
        return { deleted: out };
      });
      case 'rename_folder': return mailOp((u) => {
        const key = this.mailFolder(u, op.folder); need(key !== 0 && typeof op.name === 'string', 'rename_folder needs folder and name');
        t.us(u).folderRenames.set(key, op.name); t.log(u, { kind: 'mailfolder', key }); return { renamed: mb.folderId(u, key) };
      });
      case 'new_contact': case 'edit_contact': case 'delete_contact': return mailOp((u) => {
        const set = ctx.contacts.set(u); const key = op.folder || 0; const out = [];
        if (op.op === 'new_contact') { for (let i = 0; i < (op.count || 1); i++) { const idx = set.add(key, now); t.log(u, { kind: 'contact', idx, from: null, to: key }); out.push(idx); } }
        else {
          const l = set.list(key); const sel = []; for (let i = 0; i < Math.min(op.count || 1, l.length); i++) sel.push(l.at(i));
          for (const idx of sel) {
            if (op.op === 'edit_contact') { set.edit(idx, now); t.log(u, { kind: 'contact', idx, from: key, to: key }); }
            else { set.del(idx, now); t.log(u, { kind: 'contact', idx, from: key, to: null }); }
            out.push(idx);
          }
        }
        return { contacts: out.length };
      });
      case 'new_file': return driveOp((u, d) => {
        let parent = 0, name = op.name;
        if (op.path && !name) { const p = String(op.path).split('/'); name = p.pop(); parent = p.length ? this.driveItem(u, p.join('/'), d) : 0; }
        else if (op.parent) parent = this.driveItem(u, op.parent, d);
        need(name, 'new_file needs path or name');
        const idx = dr.newFile(u, parent, name, op.size != null ? op.size : 1000, op.text !== false, now);
        return { created: require('./ids').itemId(u, idx) };
      });
      case 'new_drive_folder': return driveOp((u, d) => {
        const parent = op.parent ? this.driveItem(u, op.parent, d) : 0; need(op.name, 'needs name');
        return { created: require('./ids').itemId(u, dr.newFolder(u, parent, op.name, now)) };
      });
      case 'edit_file': return driveOp((u, d) => { const idx = this.driveItem(u, op.id || op.path, d); need(dr.editFile(u, idx, op.size, now), 'not a file'); return { edited: require('./ids').itemId(u, idx) }; });
      case 'move_file': return driveOp((u, d) => {
        const idx = this.driveItem(u, op.id || op.path, d); const to = op.to === '' || op.to === '/' ? 0 : this.driveItem(u, op.to, d);
        need(d.items[to].folder, '"to" must be a folder'); need(dr.move(u, idx, to, op.name, now), 'move failed'); return { moved: require('./ids').itemId(u, idx) };
      });
      case 'delete_file': return driveOp((u, d) => { const idx = this.driveItem(u, op.id || op.path, d); need(dr.remove(u, idx, now), 'delete failed'); return { deleted: require('./ids').itemId(u, idx) }; });
      case 'rename_drive_folder': case 'rename_file': return driveOp((u, d) => {
        const idx = this.driveItem(u, op.id || op.path, d); need(typeof op.name === 'string' && !op.name.includes('/'), 'needs a name without "/"');
        need(dr.rename(u, idx, op.name, now), 'rename failed'); return { renamed: require('./ids').itemId(u, idx) };
      });
      case 'ransomware': return driveOp((u) => ({ encrypted: dr.ransomware(u, now) }));
      // The user leaves the directory: gone from /users, 404 on everything of theirs; their
      // data stays in memory, so restore_user brings them back as they were (Entra ID's
      // deleted-users restore).
      case 'delete_user': { const u = this.user(op.user); t.deleted.add(u); t.nextSeq(); return { deleted: t.user(u).id }; }
      case 'restore_user': {
        const u = t.userIndex(op.user, true); need(u >= 0, `unknown user ${JSON.stringify(op.user)}`); need(t.isDeleted(u), 'user is not deleted');
        t.deleted.delete(u); t.nextSeq(); return { restored: t.user(u).id };
      }
      case 'churn': return this.churn(op, now);
      case 'add_group_member': case 'remove_group_member': {
        const u = this.user(op.user);
        const g = this.ctx.groups.index(op.group) >= 0 ? this.ctx.groups.index(op.group)
          : [...Array(this.ctx.groups.count()).keys()].find((i) => this.ctx.groups.json(i).displayName === op.group);
        need(g !== undefined && g >= 0, `unknown group ${JSON.stringify(op.group)}`);
        return { changed: this.ctx.groups.setMember(g, u, op.op === 'add_group_member') };
      }
      default: throw new BadOp(`unknown op ${op.op}`);
    }
  }
  churn(op, now) {
    const ctx = this.ctx; const t = ctx.tenant; const frac = op.fraction != null ? op.fraction : 0.02; const r = rng(op.seed || 1, 'churn', t.seq);
    const users = op.users ? op.users.map((x) => this.user(x)) : t.liveUsers();
    const stats = { new_mail: 0, edit_mail: 0, move_mail: 0, delete_mail: 0, new_file: 0, edit_file: 0, move_file: 0, delete_file: 0, rename_folder: 0 };
    const movable = FOLDERS.filter((f) => f.weight > 0 && !f.search).map((f) => f.key);
    for (const u of users) {
      if (t.hasMailbox(u)) {
        const set = ctx.mail.set(u); const n = Math.max(1, Math.round(t.cfg.messagesPerUser * frac));
        for (let i = 0; i < n; i++) {
          const k = r(); const folder = movable[r.int(movable.length)]; const l = set.list(folder);
          if (k < 0.35 || !l.length) { const idx = set.add(folder, now); t.log(u, { kind: 'mail', idx, from: null, to: folder }); stats.new_mail++; continue; }
          const idx = l.at(r.int(l.length));
          if (k < 0.6) { set.edit(idx, now, { isRead: !ctx.mail.isRead(u, idx) }); t.log(u, { kind: 'mail', idx, from: folder, to: folder }); stats.edit_mail++; }
          else if (k < 0.8) { const to = movable[r.int(movable.length)]; if (to === folder) continue; set.move(idx, to, now); t.log(u, { kind: 'mail', idx, from: folder, to }); stats.move_mail++; }
          else { set.del(idx, now); t.log(u, { kind: 'mail', idx, from: folder, to: null }); stats.delete_mail++; }
        }
      }
      if (t.hasDrive(u)) {
        const d = ctx.drives.get(u); const dr = ctx.drives; const n = Math.max(1, Math.round(t.cfg.filesPerUser * frac));
        const alive = () => d.items.filter((it) => !it.deleted && it.idx !== 0);
        for (let i = 0; i < n; i++) {
          const k = r(); const all = alive(); const folders = [0, ...all.filter((it) => it.folder).map((it) => it.idx)]; const files = all.filter((it) => !it.folder);
          if (k < 0.3 || !files.length) { dr.newFile(u, folders[r.int(folders.length)], `churn-${t.seq}-${i}.txt`, r.int(200000), true, now); stats.new_file++; continue; }
          const f = files[r.int(files.length)];
          if (k < 0.7) { dr.editFile(u, f.idx, null, now); stats.edit_file++; }
          else if (k < 0.85) { if (dr.move(u, f.idx, folders[r.int(folders.length)], null, now)) stats.move_file++; }
          else { dr.remove(u, f.idx, now); stats.delete_file++; }
        }
      }
    }
    return { churn: stats };
  }
  async handle(req, res, body) {
    const ctx = this.ctx; const url = new URL(req.url, 'http://x'); const p = url.pathname;
    const send = (status, obj) => { const b = Buffer.from(JSON.stringify(obj)); res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length }); res.end(b); };
    let j = {};
    if (req.method === 'POST' && body.length) { try { j = JSON.parse(body.toString('utf8')); } catch { return send(400, { error: 'body is not JSON' }); } }
    try {
      if (req.method === 'GET' && p === '/control/info') return send(200, { config: ctx.tenant.cfg, knobs: ctx.knobs, seq: ctx.tenant.seq, gen: ctx.gen, tenant_id: ctx.tenant.tenantId, client_id: ctx.tenant.clientId });
      if (req.method === 'POST' && p === '/control/mutate') {
        const ops = Array.isArray(j.ops) ? j.ops : Array.isArray(j) ? j : [j];
        const results = ops.map((o) => this.mutate(o));
        return send(200, { ok: true, seq: ctx.tenant.seq, results });
      }
      if (req.method === 'POST' && p === '/control/invalidate-delta') {
        const k = j.kind || 'all'; need(['mail', 'drive', 'all'].includes(k), 'kind must be mail|drive|all');
        if (k === 'mail' || k === 'all') ctx.gen.mail++;
        if (k === 'drive' || k === 'all') ctx.gen.drive++;
        return send(200, { ok: true, gen: ctx.gen });
      }
      if (req.method === 'POST' && (p === '/control/faults' || p === '/control/knobs')) {
        for (const [k, v] of Object.entries(j)) {
          if (k === 'seed') { ctx.throttle.reseed(Number(v)); continue; }
          need(KNOBS.includes(k), `unknown knob ${k}`);
          if (k === 'retry_after') {
            const okv = (x) => Number(x) >= 0 || /^date(:\d+(\.\d+)?)?$/.test(String(x));
            need(Array.isArray(v) ? v.length && v.every(okv) : okv(v), 'retry_after must be a number, numeric string, "date", "date:N", or array of them'); ctx.knobs[k] = v;
          }
          else { need(typeof v === 'number' && v >= 0, `${k} must be a non-negative number`); ctx.knobs[k] = v; }
        }
        return send(200, { ok: true, knobs: ctx.knobs });
      }
      if (req.method === 'POST' && p === '/control/token-ttl') {
        need(typeof j.seconds === 'number' && j.seconds >= 1, 'seconds must be >= 1');
        ctx.knobs.token_ttl = Math.floor(j.seconds);
        if (j.expire_existing) ctx.auth.expireAll();
        return send(200, { ok: true, token_ttl: ctx.knobs.token_ttl });
      }
      if (req.method === 'POST' && p === '/control/expire-upload-sessions') return send(200, { ok: true, expired: ctx.uploads.expireAll() });
      if (req.method === 'POST' && p === '/control/expire-tokens') { ctx.auth.expireAll(); return send(200, { ok: true }); }
      if (req.method === 'GET' && p === '/control/counters') return send(200, ctx.counters.snapshot());
      if (req.method === 'POST' && p === '/control/counters/reset') { ctx.counters.reset(); return send(200, { ok: true }); }
      if (req.method === 'GET' && p === '/control/truth') return streamTruth(ctx, url.searchParams, res);
      return send(404, { error: `no such control endpoint ${req.method} ${p}` });
    } catch (e) {
      if (e instanceof BadOp) return send(400, { error: e.message });
      console.error('control error', e);
      return send(500, { error: String(e && e.stack || e) });
    }
  }
}

module.exports = { Control, KNOBS };
void gerr;
