# tests/cli/lib.sh: helpers the CLI integration scripts source. The script
# sets WORK (a private temp folder) before sourcing.
#   fail MSG            count a failure (the script ends with finish NAME)
#   expect CODE CMD...  run CMD, keep stdout/stderr in $OUT/$ERR, check the exit code
#   contains / lacks TEXT PART
#   json EXPR           evaluate a Python expression over the JSON on stdin (as d)
#   wait_for SECONDS CMD...  until CMD succeeds
#   field KEY           a field of the emulator's emulator.json ($EMU)
#   add_emulator_tenant NAME  `tenant add NAME` with the emulator's ids, secret and URLs
#   finish NAME         report and exit 1 if anything failed
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
expect() {
  local want=$1; shift
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
  if [ "$got" -ne "$want" ]; then fail "'$*' exited $got, want $want; stderr: $ERR"; fi
}
contains() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1";; esac; }
lacks() { case "$1" in *"$2"*) fail "did not expect '$2' in: $1";; esac; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
wait_for() {
  local t=$(( $1 * 10 )); shift
  while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
  return 1
}
field() { node -e "process.stdout.write(String(require(process.argv[1])[process.argv[2]]))" "$EMU" "$1"; }
add_emulator_tenant() {
  expect 0 "$BIN" tenant add "$1" --tenant-id "$(field tenant_id)" --client-id "$(field client_id)" \
    --client-secret-file "$(field client_secret_file)" --graph-url "$(field graph_url)" \
    --login-url "$(field login_url)" --ca-file "$(field ca_file)"
}
finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
  echo "$1: all passed"
}
