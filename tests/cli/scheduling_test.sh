#!/usr/bin/env bash
# tests/cli/scheduling_test.sh M365VAULT_BINARY
#
# Scheduled protection through the real binary: the default express profile,
# profile set/show (text and --json), schedule validation, status (text and
# --json), one daemon per vault, SIGTERM exits cleanly. With Node.js: against
# the Graph emulator, profile test (each rule's matches, unprotected objects),
# the daemon's first pass (discovery + backups), SIGTERM mid-run leaving a
# consistent vault and repository (check passes, no job left running).
set -u
BIN=${1:?usage: scheduling_test.sh PATH_TO_M365VAULT}
BIN=$(realpath "$BIN")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export M365VAULT_TEST_FAST_KDF=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m365vault-sched-it.XXXXXX")
. "$(dirname "$0")/lib.sh"
DPIDS=()
cleanup() {
  for p in "${DPIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$WORK/emu/emulator.pid" ] && "$REPO/tests/graph_emulator/stop.sh" "$WORK/emu" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
export M365VAULT_DIR="$WORK/vault"
export M365VAULT_PASSPHRASE="it-passphrase"
TID=72f988bf-86f1-41af-91ab-2d7cd011db47
CID=0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40

expect 0 "$BIN" init
printf 'secret-value\n' >"$WORK/secret"; chmod 600 "$WORK/secret"
expect 0 "$BIN" tenant add contoso --tenant-id $TID --client-id $CID --client-secret-file "$WORK/secret"

# --- the lazily created express profile ---
expect 0 "$BIN" profile show contoso
contains "$OUT" "express (default)"
contains "$OUT" "exchange: 00:00,06:00,12:00,18:00 (default)"
expect 0 "$BIN" profile show contoso --json
[ "$(echo "$OUT" | json 'd["mode"], d["types"], d["default"]')" = "express ['exchange', 'onedrive'] True" ] ||
  fail "default profile json: $OUT"
expect 1 "$BIN" profile show nobody
expect 2 "$BIN" profile set contoso --mode advanced --rule 'exchange:include:user:*'
contains "$ERR" "at least one rule for type 'onedrive'"
expect 2 "$BIN" profile set contoso --rule 'exchange:keep:user:*'
expect 0 "$BIN" profile set contoso --mode advanced --discovery-at 03:30 \
  --rule 'exchange:exclude:user:ceo@*' --rule 'exchange:include:user:*=>staff' --rule 'onedrive:include:user:*'
expect 0 "$BIN" profile show contoso --json
[ "$(echo "$OUT" | json 'd["mode"], d["discovery"], len(d["rules"]), d["rules"][1]["container"]')" = \
  "advanced 03:30 3 staff" ] || fail "advanced profile json: $OUT"

# --- schedules ---
expect 0 "$BIN" schedule set contoso --type exchange --at 06:00,12:00,18:00,00:00
contains "$OUT" "00:00,06:00,12:00,18:00 UTC"
expect 2 "$BIN" schedule set contoso --type exchange --at 06:00,12:00,18:00,00:00,03:00
contains "$ERR" "at most 4"
expect 2 "$BIN" schedule set contoso --type exchange --at 25:00
expect 2 "$BIN" schedule set contoso --type teams --at 06:00
expect 0 "$BIN" schedule set contoso --type onedrive --at 01:15 --json
[ "$(echo "$OUT" | json 'd["at"]')" = "['01:15']" ] || fail "schedule json: $OUT"

# --- status ---
expect 0 "$BIN" status
contains "$OUT" "contoso (advanced profile"
contains "$OUT" "never"
expect 0 "$BIN" status contoso --json
[ "$(echo "$OUT" | json 'd["tenants"][0]["types"][1]["schedule"], d["warnings"]')" = "['01:15'] 0" ] ||
  fail "status json: $OUT"
expect 1 "$BIN" status nobody

# --- one daemon per vault; SIGTERM exits 0 ---
"$BIN" daemon --log-file "$WORK/d1.log" --log-level debug --poll 1 --max-parallel 1 2>"$WORK/d1.err" &
D1=$!; DPIDS+=($D1)
wait_for 10 grep -q "daemon started" "$WORK/d1.log" 2>/dev/null || fail "daemon did not start: $(cat "$WORK/d1.err")"
expect 1 "$BIN" daemon
contains "$ERR" "another daemon (pid $D1) is running"
kill -TERM $D1
wait $D1; rc=$?
[ $rc -eq 0 ] || fail "daemon exited $rc after SIGTERM"
contains "$(cat "$WORK/d1.log")" "daemon stopped"

# --- against the Graph emulator ---
if ! command -v node >/dev/null; then
  fail "node not found: the emulator part cannot run (scripts/install-deps installs nodejs)"
else
  "$REPO/tests/graph_emulator/start.sh" "$WORK/emu" --seed 7 --users 4 --messages-per-user 5 --files-per-user 3 \
    --max-file-mb 1 >/dev/null || fail "emulator did not start"
  EMU=$WORK/emu/emulator.json
  add_emulator_tenant emu
  expect 0 "$BIN" discover emu --json
  FIRST=$(echo "$OUT" | json '[u["upn"] for u in d["users"] if u["types"]["exchange"]=="yes"][0]')
  NMBX=$(echo "$OUT" | json 'len([u for u in d["users"] if u["types"]["exchange"]=="yes"])')
  expect 0 "$BIN" profile set emu --mode advanced --rule "exchange:exclude:mailbox:$FIRST" \
    --rule 'exchange:include:user:*=>all' --type exchange
  expect 0 "$BIN" profile test emu --json
  [ "$(echo "$OUT" | json 'd["types"][0]["rules"][0]["matched"] == ["'"$FIRST"'"], d["types"][0]["unprotected"] == ["'"$FIRST"'"], len(d["types"][0]["rules"][1]["matched"]) == '"$NMBX"' - 1')" = \
    "True True True" ] || fail "profile test json: $OUT"
  expect 0 "$BIN" profile test emu
  contains "$OUT" "exchange: $((NMBX - 1)) of $NMBX objects protected"
  contains "$OUT" "unprotected (discovered but not protected): 1"
  # The tenant was never backed up: the daemon's first pass runs it now.
  "$BIN" daemon --log-file "$WORK/d2.log" --poll 1 --max-parallel 2 2>"$WORK/d2.err" &
  D2=$!; DPIDS+=($D2)
  wait_for 120 grep -q "emu/exchange: backup succeeded\|emu/exchange: backup partial" "$WORK/d2.log" 2>/dev/null ||
    fail "no backup by the daemon: $(cat "$WORK/d2.log" "$WORK/d2.err")"
  kill -TERM $D2; wait $D2; rc=$?
  [ $rc -eq 0 ] || fail "daemon 2 exited $rc"
  # The advanced rules decided what the backup took: the excluded mailbox is absent.
  expect 0 "$BIN" ls emu latest --type exchange
  SECOND=$(echo "$OUT" | grep -v -F "$FIRST" | grep '@' | head -1)
  [ -n "$SECOND" ] || fail "no protected mailbox in the snapshot: $OUT"
  if echo "$OUT" | grep -q -F "$FIRST"; then fail "excluded mailbox $FIRST was backed up: $OUT"; fi
  expect 0 "$BIN" status emu --json
  [ "$(echo "$OUT" | json 'd["tenants"][0]["types"][0]["last_status"], d["tenants"][0]["types"][0]["items"] > 0, d["tenants"][0]["types"][0]["protected"] == '"$NMBX"' - 1, d["tenants"][0]["types"][1]["in_profile"]')" = \
    "succeeded True True False" ] || fail "status after the daemon's run: $OUT"
  expect 0 "$BIN" status emu
  contains "$OUT" "$((NMBX - 1))/$NMBX"
  # --- a container with its own schedule, a run of one container ---
  expect 0 "$BIN" profile set emu --mode advanced --type exchange --clear-rules \
    --rule "exchange:include:mailbox:$FIRST=>vip" --rule 'exchange:include:user:*=>staff'
  expect 2 "$BIN" schedule set emu --type exchange --container nope --at 05:00
  contains "$ERR" "no exchange objects into a container 'nope'"
  expect 0 "$BIN" schedule set emu --type exchange --container vip --at 05:00,09:00 --json
  expect 0 "$BIN" schedule show emu --json
  [ "$(echo "$OUT" | json 'd["container_schedules"]["exchange"]["vip"]')" = "['05:00', '09:00']" ] ||
    fail "schedule show json: $OUT"
  expect 0 "$BIN" schedule show emu
  contains "$OUT" "container vip: 05:00,09:00"
  expect 0 "$BIN" backup emu --type exchange --container vip --json
  [ "$(echo "$OUT" | json 'd["runs"][0]["objects_total"], d["runs"][0]["status"]')" = "1 succeeded" ] ||
    fail "backup of container vip: $OUT"
  expect 0 "$BIN" jobs emu --json
  [ "$(echo "$OUT" | json 'd["jobs"][0]["scope"], d["jobs"][0]["containers"] > 0')" = "container:vip True" ] ||
    fail "jobs json after a container run: $OUT"
  expect 0 "$BIN" status emu --json
  [ "$(echo "$OUT" | json '[(c["container"], c["schedule"], c["last_status"]) for c in d["tenants"][0]["types"][0]["containers"]]')" = \
    "[('vip', ['05:00', '09:00'], 'succeeded')]" ] || fail "status json containers: $OUT"
  expect 2 "$BIN" backup emu --type exchange --container nope
  contains "$ERR" "no exchange container 'nope'"
  expect 0 "$BIN" schedule remove emu --type exchange --container vip
  expect 1 "$BIN" schedule remove emu --type exchange --container vip
  contains "$ERR" "has no schedule of its own"

  # --- the profile chooses the app registration it signs in with ---
  printf 'not-the-secret\n' >"$WORK/wrong.secret"; chmod 600 "$WORK/wrong.secret"
  expect 0 "$BIN" tenant credential add emu wrong --client-id "$(field client_id)" --client-secret-file "$WORK/wrong.secret"
  expect 0 "$BIN" tenant credential add emu cert-app --client-id "$(field client_id)" \
    --certificate "$(field client_cert_file)" --json
  [ "$(echo "$OUT" | json 'd["credential_kind"]')" = "certificate" ] || fail "credential add json: $OUT"
  expect 2 "$BIN" tenant credential add emu bad --client-id nope --client-secret-file "$WORK/wrong.secret"
  expect 1 "$BIN" profile set emu --credential missing
  contains "$ERR" "no credential named 'missing'"
  expect 0 "$BIN" profile set emu --credential wrong
  expect 1 "$BIN" backup emu --type exchange --container vip
  contains "$OUT$ERR" "Invalid client secret"
  expect 1 "$BIN" tenant credential remove emu wrong
  contains "$ERR" "signs in with credential 'wrong'"
  expect 0 "$BIN" profile set emu --credential cert-app
  expect 0 "$BIN" backup emu --type exchange --container vip --json
  [ "$(echo "$OUT" | json 'd["runs"][0]["status"]')" = "succeeded" ] || fail "backup with the certificate app: $OUT"
  expect 0 "$BIN" tenant credential list emu --json
  [ "$(echo "$OUT" | json 'd["profile_uses"], [c["name"] for c in d["credentials"]]')" = "cert-app ['cert-app', 'wrong']" ] ||
    fail "credential list json: $OUT"
  if grep -q "not-the-secret" "$M365VAULT_DIR/vault.db"; then fail "a credential is stored in clear"; fi
  expect 0 "$BIN" tenant credential remove emu wrong
  expect 0 "$BIN" profile set emu --credential ''
  expect 0 "$BIN" profile show emu --json
  [ "$(echo "$OUT" | json 'd["credential"]')" = "" ] || fail "credential reset: $OUT"

  # --- licence expiry ---
  expect 0 "$BIN" tenant set emu --license-expires "$(date -u -d '+10 days' +%F)"
  expect 0 "$BIN" status emu --json
  [ "$(echo "$OUT" | json '[w["kind"] for w in d["tenants"][0]["warnings"]], d["warnings"] >= 1')" = \
    "['license_expiring'] True" ] || fail "licence warning: $OUT"
  expect 0 "$BIN" status emu
  contains "$OUT" "WARNING: the licence / subscription expires on"
  expect 0 "$BIN" tenant set emu --license-expires "$(date -u -d '-1 day' +%F)"
  expect 0 "$BIN" status emu --json
  [ "$(echo "$OUT" | json '[w["kind"] for w in d["tenants"][0]["warnings"]]')" = "['license_expired']" ] ||
    fail "licence expired warning: $OUT"
  expect 2 "$BIN" tenant set emu --license-expires 2026-02-30
  expect 0 "$BIN" tenant set emu --license-expires none --json
  [ "$(echo "$OUT" | json 'd["license_expires"]')" = "" ] || fail "licence cleared: $OUT"

  # SIGTERM mid-run: the daemon waits for the run; the repository stays consistent.
  "$BIN" backup emu --type exchange >/dev/null 2>&1  # (a manual run still works alongside)
  expect 0 "$BIN" profile set emu --mode express --type exchange --type onedrive
  "$BIN" daemon --log-file "$WORK/d3.log" --poll 1 2>"$WORK/d3.err" &
  D3=$!; DPIDS+=($D3)
  wait_for 60 grep -q "emu/onedrive: backup started" "$WORK/d3.log" 2>/dev/null || fail "no onedrive run started"
  kill -TERM $D3; wait $D3; rc=$?
  [ $rc -eq 0 ] || fail "daemon 3 exited $rc after SIGTERM mid-run"
  expect 0 "$BIN" jobs emu --json
  [ "$(echo "$OUT" | json 'sum(1 for j in d["jobs"] if j["status"] in ("running","interrupted"))')" = 0 ] ||
    fail "a job was left running: $OUT"
  expect 0 "$BIN" check emu
fi

finish scheduling_test
