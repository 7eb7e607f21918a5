#!/usr/bin/env bash
# bench/sync_bench.sh: backup benchmarks against the Graph emulator (docs/sync.md, "Benchmarks").
#   (a) throughput: first backup with --latency-ms 20, items/s and MB/s, as a ratio to the
#       emulator's own capacity at 4 concurrent requests per mailbox (bench/sync_capacity.js: for
#       OneDrive both /content -> 302 -> download and the listing's downloadUrl fetched directly,
#       measured in the same run against the same emulator and tenant) with the same request
#       budget: the backup runs with --max-requests TP_BUDGET (TP_BUDGET/4 mailboxes' worth of
#       requests in flight, spread over up to --parallel users), the capacity client with
#       TP_BUDGET/4 mailboxes x 4. The emulator's counters give the average and peak number of
#       mailbox requests in flight of both.
#   (b) incremental cost: a no-change run on a 10 x 10,000-message tenant (requests from the
#       emulator's counters, seconds), then 1 % churn
#   (c) memory: peak RSS (/usr/bin/time -v) of the first backup of a large OneDrive (generated
#       on the fly, --max-file-mb 300), of one big mailbox, and of a tenant of many mailboxes
# Usage: bench/sync_bench.sh [BUILD_DIR]   (default: build)
# Scale knobs (environment): TP_USERS=8 TP_MSGS=300 TP_FILES=100 (up to 16 MB each: ~1 GB) TP_BUDGET=16 INC_USERS=10 INC_MSGS=10000
#   DRIVE_FILES=2300 (files of the big drive, 0-300 MiB each: ~10 GB) MAILBOX_MSGS=100000 (one
#   mailbox backed up alone; 0 skips it) TENANT_USERS=40 TENANT_MSGS=2500 (the same number of
#   messages over many mailboxes: memory must not grow with the tenant; 0 skips it)
#   PARTS="a b c" (which parts to run).
# Prints a summary; raw JSON lines go to $OUT/results.jsonl (OUT default /tmp/m365vault-sync-bench).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$REPO/build}
BIN=$BUILD/cli/m365vault
[ -x "$BIN" ] || { echo "build first: cmake --build $BUILD --target m365vault" >&2; exit 2; }
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 2; }
OUT=${OUT:-/tmp/m365vault-sync-bench}
TP_USERS=${TP_USERS:-8} TP_MSGS=${TP_MSGS:-300} TP_FILES=${TP_FILES:-100} TP_BUDGET=${TP_BUDGET:-16}
INC_USERS=${INC_USERS:-10} INC_MSGS=${INC_MSGS:-10000}
DRIVE_FILES=${DRIVE_FILES:-2300} MAILBOX_MSGS=${MAILBOX_MSGS:-100000} PARTS=${PARTS:-a b c}
TENANT_USERS=${TENANT_USERS:-40} TENANT_MSGS=${TENANT_MSGS:-2500}
rm -rf "$OUT"; mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
export M365VAULT_PASSPHRASE="bench passphrase" M365VAULT_TEST_FAST_KDF=1

EMU_DIR=""
cleanup() { [ -n "$EMU_DIR" ] && "$REPO/tests/graph_emulator/stop.sh" "$EMU_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT

field() { node -e "process.stdout.write(String(require(process.argv[1])[process.argv[2]]))" "$EMU_DIR/emulator.json" "$1"; }
control() { curl -sS -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$(field control_url)$2"; }
jget() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const o=JSON.parse(s);process.stdout.write(String(($1)))})"; }
requests_total() { control GET /control/counters | jget 'Object.entries(o.requests).filter(([k])=>k!=="token").reduce((a,[,v])=>a+v,0)'; }
# starts an emulator in $OUT/$1 with the remaining args; a fresh vault with its tenant "t"
start() {
  cleanup
  EMU_DIR=$OUT/$1; shift
  "$REPO/tests/graph_emulator/start.sh" "$EMU_DIR" "$@" >/dev/null
  export M365VAULT_DIR=$EMU_DIR/vault
  "$BIN" init >/dev/null
  "$BIN" tenant add t --tenant-id "$(field tenant_id)" --client-id "$(field client_id)" \
    --client-secret-file "$(field client_secret_file)" --graph-url "$(field graph_url)" \
    --login-url "$(field login_url)" --ca-file "$(field ca_file)" >/dev/null
}
# mailbox requests in flight since the last counters reset: "average peak" (average = slot time / seconds)
in_flight() { control GET /control/counters | jget "((o.mailbox_slot_ms||0)/1000/$1).toFixed(1)+' '+(o.mailbox_peak_in_flight||0)"; }
# backup TYPE LABEL [ARGS...]: runs under /usr/bin/time -v; appends {"label","items","bytes","seconds","rss_kb","requests",
#   "avg_in_flight","peak_in_flight"} (mailbox requests), "cpu_s" (the backup's user + system CPU seconds)
backup() {
  local type=$1 label=$2 rc=0
  shift 2
  control POST /control/counters/reset '{}' >/dev/null
  "$TIME" -v -o "$OUT/$label.time" "$BIN" backup t --type "$type" --json --no-progress "$@" >"$OUT/$label.json" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "backup $label failed ($rc)" >&2; cat "$OUT/$label.json" >&2; exit 1; }
  local rss reqs secs flight cpu
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/$label.time")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$OUT/$label.time")
  reqs=$(requests_total)
  secs=$(jget "o.runs[0].seconds" <"$OUT/$label.json")
  flight=($(in_flight "$secs"))
  jget "JSON.stringify({label:'$label',type:'$type',items:o.runs[0].items,bytes:o.runs[0].bytes,seconds:o.runs[0].seconds,status:o.runs[0].status,rss_kb:$rss,cpu_s:$cpu,requests:$reqs,avg_in_flight:${flight[0]},peak_in_flight:${flight[1]}})" \
    <"$OUT/$label.json" >>"$RESULTS"
  echo >>"$RESULTS"
  tail -1 "$RESULTS"
}
val() { grep "\"label\":\"$1\"" "$RESULTS" | tail -1 | jget "o.$2"; }

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
if part a; then
echo "== (a) throughput: $TP_USERS users x $TP_MSGS messages / $TP_FILES files, latency 20 ms"
start tp --seed 3 --users "$TP_USERS" --messages-per-user "$TP_MSGS" --files-per-user "$TP_FILES" \
  --max-file-mb 16 --latency-ms 20 --contacts-per-user 10 --events-per-user 10
# Real Graph keeps each file's quickXorHash with the file; the emulator computes it (in JavaScript,
# on these shared cores) the first time a listing shows the file, then caches it. Fill that cache
# now so the timed backup is not charged for it.
curl -sS -o /dev/null "$(field control_url)/control/truth?kinds=users,drive&hashes=1"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
backup exchange tp_exchange --max-requests "$TP_BUDGET"
backup onedrive tp_onedrive --max-requests "$TP_BUDGET"
control POST /control/counters/reset '{}' >/dev/null
node "$REPO/bench/sync_capacity.js" "$EMU_DIR/emulator.json" --kind mail --mailboxes $((TP_BUDGET / 4)) --seconds 10 \
  >"$OUT/cap_mail.json"
flight=($(in_flight "$(jget o.seconds <"$OUT/cap_mail.json")"))
jget "JSON.stringify({label:'cap_mail',...o,avg_in_flight:${flight[0]},peak_in_flight:${flight[1]}})" <"$OUT/cap_mail.json" \
  | tee -a "$RESULTS"
echo >>"$RESULTS"
node "$REPO/bench/sync_capacity.js" "$EMU_DIR/emulator.json" --kind drive --mailboxes $((TP_BUDGET / 4)) --seconds 10 \
  | sed 's/^{/{"label":"cap_drive",/' | tee -a "$RESULTS"
node "$REPO/bench/sync_capacity.js" "$EMU_DIR/emulator.json" --kind drive-url --mailboxes $((TP_BUDGET / 4)) --seconds 10 \
  | sed 's/^{/{"label":"cap_drive_url",/' | tee -a "$RESULTS"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

fi
if part b; then
echo "== (b) incremental: $INC_USERS users x $INC_MSGS messages (no latency)"
start inc --seed 5 --users "$INC_USERS" --messages-per-user "$INC_MSGS" --files-per-user 10 --max-file-mb 1 \
  --contacts-per-user 10 --events-per-user 10
backup exchange inc_first
backup exchange inc_nochange
control POST /control/mutate '{"op":"churn","fraction":0.01,"seed":9}' >/dev/null
backup exchange inc_churn1

fi
if part c; then
echo "== (c) memory: a OneDrive of $DRIVE_FILES files up to 300 MiB"
start drive --seed 11 --users 1 --messages-per-user 1 --files-per-user "$DRIVE_FILES" --max-file-mb 300 \
  --hash-max-mb 0
backup onedrive mem_drive
if [ "$MAILBOX_MSGS" -gt 0 ]; then
  echo "== (c) memory: one mailbox of $MAILBOX_MSGS messages"
  start mailbox --seed 13 --users 1 --messages-per-user "$MAILBOX_MSGS" --files-per-user 1
  backup exchange mem_mailbox
fi
if [ "$TENANT_USERS" -gt 0 ]; then
  echo "== (c) memory: a tenant of $TENANT_USERS mailboxes x $TENANT_MSGS messages"
  start tenant --seed 17 --users "$TENANT_USERS" --messages-per-user "$TENANT_MSGS" --files-per-user 1
  backup exchange mem_tenant
fi
fi

echo
echo "== summary"
node - "$RESULTS" <<'EOF'
const fs = require('fs');
const r = Object.fromEntries(fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((o) => [o.label, o]));
const mb = (b) => b / 1048576;
const f = (x, d = 1) => Number(x).toFixed(d);
if (r.tp_exchange) {
const ex = r.tp_exchange, od = r.tp_onedrive, cm = r.cap_mail, cd = r.cap_drive, cu = r.cap_drive_url;
console.log(`(a) exchange first backup: ${ex.items} items in ${f(ex.seconds, 2)} s = ${f(ex.items / ex.seconds)} items/s, ${f(mb(ex.bytes) / ex.seconds, 2)} MB/s,` +
  ` ${f(ex.requests / ex.seconds)} requests/s; mailbox requests in flight: ${ex.avg_in_flight} on average, ${ex.peak_in_flight} at most`);
console.log(`    emulator capacity ($value, ${cm.mailboxes} mailboxes x 4): ${cm.items_per_s} items/s, ${cm.MB_per_s} MB/s; in flight ${cm.avg_in_flight} on average, ${cm.peak_in_flight} at most`);
console.log(`    ratio ${f(100 * ex.items / ex.seconds / cm.items_per_s)} % (items), ${f(100 * mb(ex.bytes) / ex.seconds / cm.MB_per_s)} % (MB), ` +
  `${f(100 * ex.requests / ex.seconds / cm.items_per_s)} % (requests: the backup's listings and delta pages count, the capacity client makes only $value requests)`);
console.log(`(a) onedrive first backup: ${od.items} files, ${f(mb(od.bytes))} MB in ${f(od.seconds, 2)} s = ${f(mb(od.bytes) / od.seconds, 2)} MB/s;` +
  ` emulator capacity (downloads, ${cd.mailboxes} drives x 4): ${cd.MB_per_s} MB/s -> ratio ${f(100 * mb(od.bytes) / od.seconds / cd.MB_per_s)} %`);
if (cu) console.log(`    capacity for the listing's downloadUrls (no /content and 302, as the backup fetches them): ${cu.MB_per_s} MB/s -> ratio ${f(100 * mb(od.bytes) / od.seconds / cu.MB_per_s)} %`);
console.log(`    backup CPU (user + system): ${f(od.cpu_s, 2)} s = ${f(od.cpu_s / (od.bytes / 1e9), 2)} s per GB`);
}
if (r.inc_first) {
const i1 = r.inc_first, i0 = r.inc_nochange, ic = r.inc_churn1;
console.log(`(b) first backup of ${i1.items} items: ${f(i1.seconds)} s, ${i1.requests} requests, peak RSS ${f(i1.rss_kb / 1024)} MiB`);
console.log(`(b) no-change run: ${i0.requests} requests, ${f(i0.seconds, 2)} s, ${i0.items} items written, peak RSS ${f(i0.rss_kb / 1024)} MiB`);
console.log(`(b) 1 % churn: ${ic.requests} requests, ${f(ic.seconds, 2)} s, ${ic.items} items written`);
}
const d = r.mem_drive;
if (d) console.log(`(c) onedrive ${d.items} files, ${f(mb(d.bytes))} MB in ${f(d.seconds, 1)} s: peak RSS ${f(d.rss_kb / 1024)} MiB`);
if (r.mem_tenant) console.log(`(c) tenant of many mailboxes, ${r.mem_tenant.items} items: peak RSS ${f(r.mem_tenant.rss_kb / 1024)} MiB in ${f(r.mem_tenant.seconds)} s`);
if (r.mem_mailbox) console.log(`(c) one mailbox, ${r.mem_mailbox.items} items (${r.mem_mailbox.requests} requests): peak RSS ${f(r.mem_mailbox.rss_kb / 1024)} MiB in ${f(r.mem_mailbox.seconds)} s`);
EOF
