'use strict';
// Server-side link table and the paging/delta-round engine. nextLink/deltaLink carry only an
// opaque token; everything else (query, position, round snapshot) lives here.
const crypto = require('crypto');
const { hf } = require('./util');

class LinkTable {
  constructor(max) { this.map = new Map(); this.max = max || 400000; this.serial = 0; }
  put(state) {
    const tok = crypto.randomBytes(18).toString('base64url');
    state.serial = ++this.serial;
    this.map.set(tok, state);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value);
    return tok;
  }
  get(tok) { return tok ? this.map.get(tok) : undefined; }
}

// Paged plain collection. list: array-like {length, at(i)}; render(x) -> object or null (skip).
// state: token state (or fresh {pos:0}); mkLink(tok) -> absolute URL; ctx.knobs for empty pages.
function pageOf(ctx, list, state, size, render, mkLink, extra) {
  const links = ctx.links; const pos = state.pos || 0;
  const out = { value: [] };
  if (pos < list.length && !state.noEmpty && hf(ctx.seed, 'empty', links.serial + 1) < ctx.knobs.empty_page_rate && pos > 0) {
    const tok = links.put({ ...state, noEmpty: true });
    out['@odata.nextLink'] = mkLink(tok);
    return out;
  }
  let i = pos;
  for (; i < list.length && out.value.length < size; i++) {
    const o = render(list.at(i));
    if (o) out.value.push(o);
  }
  if (i < list.length) {
    if (!state.next) state.next = mkLink(links.put({ ...state, pos: i, noEmpty: false, next: null, ...(extra || {}) }));
    out['@odata.nextLink'] = state.next;
  }
  return out;
}

// A delta round: entries is an array of {idx, removed?}; startSeq is what the deltaLink records.
function newRound(fields) {
  return { maxPage: -1, gen: 0, ...fields };
}

// Serve one page of a round. pageState: {round, pageNo, pos, noEmpty}. Returns
// {body} or {stale:true}. mkNext(tok), mkDelta(tok) build absolute links; render(entry).
function roundPage(ctx, pageState, size, render, mkNext, mkDelta, deltaState) {
  const r = pageState.round; const links = ctx.links;
  if (pageState.pageNo < r.maxPage) return { stale: true };
  r.maxPage = Math.max(r.maxPage, pageState.pageNo);
  const out = { value: [] };
  const more = pageState.pos < r.entries.length;
  if (more && !pageState.noEmpty && hf(ctx.seed, 'empty', r.id, pageState.pageNo) < ctx.knobs.empty_page_rate) {
    if (!pageState.next) pageState.next = mkNext(links.put({ t: 'round', round: r, pageNo: pageState.pageNo + 1, pos: pageState.pos, noEmpty: true }));
    out['@odata.nextLink'] = pageState.next;
    return { body: out };
  }
  let i = pageState.pos;
  for (; i < r.entries.length && out.value.length < size; i++) {
    const o = render(r.entries[i]);
    if (o) out.value.push(o);
  }
  if (i < r.entries.length) {
    if (!pageState.next) pageState.next = mkNext(links.put({ t: 'round', round: r, pageNo: pageState.pageNo + 1, pos: i, noEmpty: false }));
    out['@odata.nextLink'] = pageState.next;
  } else {
    if (!pageState.delta) pageState.delta = mkDelta(links.put({ t: 'delta', ...deltaState, seq: r.startSeq, gen: r.gen }));
    out['@odata.deltaLink'] = pageState.delta;
  }
  return { body: out };
}

let roundSerial = 0;
function roundId() { return ++roundSerial; }

// Add replays deterministically: within a round, repeat an early entry near the end; in an
// incremental round also prepend an unchanged current item.
function addReplays(ctx, entries, key, unchangedCandidate) {
  if (entries.length > 1 && hf(ctx.seed, 'replay-in', key) < ctx.knobs.replay_rate) entries.push(entries[0]);
  if (unchangedCandidate != null && hf(ctx.seed, 'replay-next', key) < ctx.knobs.replay_rate) entries.unshift(unchangedCandidate);
  return entries;
}

module.exports = { LinkTable, pageOf, newRound, roundPage, roundId, addReplays };
