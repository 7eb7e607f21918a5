#!/usr/bin/env bash
# tests/cli/cli_integration_test.sh M365VAULT_BINARY
#
# Drives the real m365vault binary through the command-line contract: init,
# tenant add/list/show/remove, --json output (parsed with python3), exit codes
# (0 ok, 1 error, 2 bad usage), secrets never printed nor stored in clear,
# file modes, snapshots and check on an empty repository, --help everywhere.
set -u
BIN=${1:?usage: cli_integration_test.sh PATH_TO_M365VAULT}
export M365VAULT_TEST_FAST_KDF=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m365vault-cli-it.XXXXXX")
. "$(dirname "$0")/lib.sh"
trap 'fusermount3 -u "$WORK/mnt" 2>/dev/null; rm -rf "$WORK"' EXIT
export M365VAULT_DIR="$WORK/vault"
export M365VAULT_PASSPHRASE="it-passphrase"
TID=72f988bf-86f1-41af-91ab-2d7cd011db47
CID=0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40
SECRET="it-Secret~value.$$.unique"

mode() { stat -c %a "$1"; }

# --- init ---
expect 0 "$BIN" init
contains "$OUT" "Created vault"
[ "$(mode "$M365VAULT_DIR")" = 700 ] || fail "vault folder mode $(mode "$M365VAULT_DIR")"
[ "$(mode "$M365VAULT_DIR/vault.db")" = 600 ] || fail "vault.db mode"
[ "$(mode "$M365VAULT_DIR/master.key")" = 600 ] || fail "master.key mode"
expect 1 "$BIN" init
contains "$ERR" "m365vault: a vault already exists"

# --- tenant add ---
printf '%s\n' "$SECRET" >"$WORK/secret"
chmod 600 "$WORK/secret"
expect 0 "$BIN" tenant add contoso --tenant-id $TID --client-id $CID --client-secret-file "$WORK/secret"
contains "$OUT" "Added tenant contoso"
lacks "$OUT$ERR" "$SECRET"
expect 1 "$BIN" tenant add contoso --tenant-id $TID --client-id $CID --client-secret-file "$WORK/secret"
contains "$ERR" "already exists"
expect 2 "$BIN" tenant add 'bad/name' --tenant-id $TID --client-id $CID --client-secret-file "$WORK/secret"
contains "$ERR" "m365vault: tenant name"
expect 2 "$BIN" tenant add fabrikam --tenant-id not-a-guid --client-id $CID --client-secret-file "$WORK/secret"
contains "$ERR" "is not a GUID"
expect 2 "$BIN" tenant add fabrikam --tenant-id $TID --client-id $CID
contains "$ERR" "exactly one of"
expect 2 "$BIN" tenant add fabrikam --tenant-id $TID --client-id $CID --client-secret-file "$WORK/secret" \
  --certificate "$WORK/secret"
expect 1 "$BIN" tenant add fabrikam --tenant-id $TID --client-id $CID --client-secret-file "$WORK/missing"
contains "$ERR" "cannot read"
expect 0 "$BIN" tenant add fabrikam --tenant-id $TID --client-id $CID --client-secret-file "$WORK/secret" \
  --storage "$WORK/fabrikam-repo" --region eu --graph-url https://localhost:8443 --login-url https://localhost:8443
[ -f "$WORK/fabrikam-repo/config" ] || fail "no repository in --storage"
[ "$(mode "$WORK/fabrikam-repo")" = 700 ] || fail "repository folder mode $(mode "$WORK/fabrikam-repo")"
if grep -rqF "$SECRET" "$M365VAULT_DIR" "$WORK/fabrikam-repo"; then fail "client secret stored in clear"; fi

# --- tenant list / show ---
expect 0 "$BIN" tenant list
contains "$OUT" "NAME"
contains "$OUT" "contoso"
contains "$OUT" "fabrikam"
lacks "$OUT" "$SECRET"
expect 0 "$BIN" tenant list --json
[ "$(echo "$OUT" | json 'len(d["tenants"])')" = 2 ] || fail "tenant list --json: $OUT"
[ "$(echo "$OUT" | json 'd["tenants"][1]["region"]')" = eu ] || fail "region in json"
[ "$(echo "$OUT" | json 'd["tenants"][0]["graph_url"]')" = https://graph.microsoft.com ] || fail "default graph url"
[ "$(echo "$OUT" | json 'd["tenants"][1]["login_url"]')" = https://localhost:8443 ] || fail "login url"
lacks "$OUT" "$SECRET"
expect 0 "$BIN" --json tenant show contoso
[ "$(echo "$OUT" | json 'd["credential_kind"]')" = client_secret ] || fail "tenant show --json: $OUT"
expect 0 "$BIN" tenant show fabrikam
contains "$OUT" "Region:      eu"
lacks "$OUT" "$SECRET"

# --- errors ---
M365VAULT_PASSPHRASE=wrong expect 1 "$BIN" tenant list
contains "$ERR" "m365vault: wrong passphrase"
echo wrong >"$WORK/pp"
expect 1 env -u M365VAULT_PASSPHRASE "$BIN" tenant list --passphrase-file "$WORK/pp"
contains "$ERR" "wrong passphrase"
echo it-passphrase >"$WORK/pp"
expect 0 env -u M365VAULT_PASSPHRASE "$BIN" --passphrase-file "$WORK/pp" tenant list
expect 2 env -u M365VAULT_PASSPHRASE "$BIN" tenant list </dev/null
contains "$ERR" "no passphrase"
expect 1 "$BIN" --vault "$WORK/none" tenant list
contains "$ERR" "m365vault init"
expect 1 "$BIN" tenant show nobody
contains "$ERR" "no tenant named 'nobody'"
expect 1 "$BIN" snapshots nobody
expect 1 "$BIN" check nobody
expect 1 "$BIN" jobs nobody
expect 2 "$BIN" frobnicate
contains "$ERR" "unknown command"
expect 2 "$BIN" tenant
expect 2 "$BIN" snapshots --bogus-flag
expect 2 "$BIN"
expect 2 "$BIN" ls contoso

# --- snapshots, ls, check, jobs on an empty repository ---
expect 0 "$BIN" snapshots contoso
contains "$OUT" "No snapshots"
expect 0 "$BIN" snapshots --json
[ "$(echo "$OUT" | json 'len(d["snapshots"])')" = 0 ] || fail "snapshots --json: $OUT"
expect 1 "$BIN" ls contoso latest
contains "$ERR" "no snapshots"
expect 0 "$BIN" check contoso
contains "$OUT" "No errors found"
expect 0 "$BIN" check contoso --read-data --json
[ "$(echo "$OUT" | json 'd["ok"]')" = True ] || fail "check --json: $OUT"
expect 0 "$BIN" prune contoso --dry-run --json
[ "$(echo "$OUT" | json 'd["dry_run"]')" = True ] || fail "prune --json: $OUT"
expect 0 "$BIN" jobs --json
[ "$(echo "$OUT" | json 'len(d["jobs"])')" = 3 ] || fail "jobs --json: $OUT"
[ "$(echo "$OUT" | json 'd["jobs"][-1]["kind"]')" = check ] || fail "oldest job is the first check"
expect 0 "$BIN" jobs contoso
contains "$OUT" "succeeded"
expect 0 "$BIN" job show 1 --json
[ "$(echo "$OUT" | json 'd["status"]')" = succeeded ] || fail "job show --json: $OUT"
expect 0 "$BIN" job show 1 --output "$WORK/report.txt"
contains "$(cat "$WORK/report.txt")" "Kind:      check"
[ "$(mode "$WORK/report.txt")" = 600 ] || fail "report mode"
expect 1 "$BIN" job show 424242
expect 2 "$BIN" job show notanumber

# --- mount (when the binary has it and FUSE is usable here) ---
if "$BIN" mount --help >/dev/null 2>&1 && [ -r /dev/fuse ] && [ -w /dev/fuse ] && command -v fusermount3 >/dev/null; then
  mkdir -p "$WORK/mnt"
  expect 0 "$BIN" mount "$WORK/mnt" --tenant contoso
  [ -d "$WORK/mnt/contoso" ] || fail "mount does not show the tenant"
  touch "$WORK/mnt/contoso/x" 2>/dev/null && fail "mount is writable"
  fusermount3 -u "$WORK/mnt" || fail "cannot unmount"
  M365VAULT_PASSPHRASE=wrong expect 1 "$BIN" mount "$WORK/mnt"
  contains "$ERR" "wrong passphrase"
  expect 1 "$BIN" mount "$WORK/no-such-dir"
else
  echo "cli_integration_test: mount not tested (no fs module or no usable /dev/fuse)"
fi

# --- certificate credential ---
printf -- '-----BEGIN CERTIFICATE-----\nMIIBcertUNIQUECERT\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIEkeyUNIQUEKEY\n-----END PRIVATE KEY-----\n' >"$WORK/app.pem"
expect 0 "$BIN" tenant add certco --tenant-id $TID --client-id $CID --certificate "$WORK/app.pem" --json
[ "$(echo "$OUT" | json 'd["credential_kind"]')" = certificate ] || fail "certificate tenant: $OUT"
if grep -rqF UNIQUEKEY "$M365VAULT_DIR"; then fail "private key stored in clear"; fi
head -3 "$WORK/app.pem" >"$WORK/cert-only.pem"
expect 2 "$BIN" tenant add certco2 --tenant-id $TID --client-id $CID --certificate "$WORK/cert-only.pem"
contains "$ERR" "no private key"
expect 0 "$BIN" tenant remove certco --purge

# --- audit log ---
expect 0 "$BIN" audit --json
[ "$(echo "$OUT" | json 'd["audit"][-1]["action"]')" = vault.create ] || fail "audit --json: $OUT"
contains "$OUT" '"action": "tenant.add"'
lacks "$OUT" "$SECRET"

# --- tenant remove ---
expect 0 "$BIN" tenant remove fabrikam --purge
[ ! -e "$WORK/fabrikam-repo" ] || fail "purge left the repository"
expect 0 "$BIN" tenant remove contoso
[ -f "$M365VAULT_DIR/repos/contoso/config" ] || fail "remove without --purge deleted the repository"
expect 0 "$BIN" tenant list --json
[ "$(echo "$OUT" | json 'len(d["tenants"])')" = 0 ] || fail "tenants left: $OUT"
expect 1 "$BIN" tenant remove contoso

# --- --help on every command ---
for cmd in "" init audit tenant "tenant add" "tenant list" "tenant show" "tenant remove" snapshots ls cat check \
  prune jobs job "job show"; do
  # shellcheck disable=SC2086
  expect 0 "$BIN" $cmd --help
  contains "$OUT" "Usage: m365vault"
done

if [ "$failures" -ne 0 ]; then
  echo "cli_integration_test: $failures failures" >&2
  exit 1
fi
echo "cli_integration_test: all passed"
