#!/usr/bin/env bash
# tests/cli/profile_rules_test.sh M365VAULT_BINARY
#
# Advanced scan-profile rules by user, group and site against the Graph
# emulator (HTTPS), through the real binary: the expected selection is
# computed independently from the emulator's ground truth (users, drive URLs,
# groups with their transitive members) and must equal, per type and per
# rule, what `profile test --json` and `discover --json` report; a backup
# then holds exactly the selected users. Also: an exchange site rule is
# refused. Needs Node.js (emulator) and python3; skipped without Node.js.
set -u
BIN=${1:?usage: profile_rules_test.sh PATH_TO_M365VAULT}
BIN=$(realpath "$BIN")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export M365VAULT_TEST_FAST_KDF=1
if ! command -v node >/dev/null; then echo "FAIL: node not found (scripts/install-deps installs nodejs)"; exit 1; fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m365vault-rules-it.XXXXXX")
. "$(dirname "$0")/lib.sh"
cleanup() {
  [ -f "$WORK/emu/emulator.pid" ] && "$REPO/tests/graph_emulator/stop.sh" "$WORK/emu" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
export M365VAULT_DIR="$WORK/vault"
export M365VAULT_PASSPHRASE="it-passphrase"

"$REPO/tests/graph_emulator/start.sh" "$WORK/emu" --seed 5 --users 40 --messages-per-user 2 --files-per-user 2 \
  --contacts-per-user 1 --events-per-user 1 --max-file-mb 1 >/dev/null || { echo "emulator did not start"; exit 1; }
EMU=$WORK/emu/emulator.json
expect 0 "$BIN" init
add_emulator_tenant emu
curl -sf "$(field control_url)/control/truth?kinds=users,groups&hashes=0" >"$WORK/truth.ndjson" ||
  { echo "no truth"; exit 1; }

# The profile under test (first match decides, per type). One user's exact personal site is excluded.
SITE_USER=$(python3 -c "
import json,sys
us=[o for o in map(json.loads, open('$WORK/truth.ndjson')) if o['type']=='user']
print([u for u in us if u['hasDrive'] and u['index']>2][3]['driveWebUrl'].rsplit('/',1)[0])")
RULES=(
  'exchange:exclude:group:Sales EMEA Interns'
  'exchange:include:group:sales*=>sales'
  'exchange:include:group:Zoë'"'"'s ?Team? *=>team'
  'exchange:include:user:*9@*=>nines'
  "onedrive:exclude:site:$SITE_USER"
  'onedrive:include:group:engineering@*=>eng'
  'onedrive:include:site:https://contoso-my.sharepoint.com/personal/a*'
  'onedrive:include:mailbox:*1@*=>ones'
)
ARGS=(); for r in "${RULES[@]}"; do ARGS+=(--rule "$r"); done

# A mailbox has no site: refused, nothing stored.
expect 2 "$BIN" profile set emu --mode advanced --rule 'exchange:include:site:https://*' --rule 'onedrive:include:user:*'
contains "$ERR" "no site URL"
expect 0 "$BIN" profile show emu --json
contains "$OUT" '"mode": "express"'
expect 0 "$BIN" profile set emu --mode advanced "${ARGS[@]}"

# The expected selection, from the ground truth alone.
python3 - "$WORK/truth.ndjson" "${RULES[@]}" >"$WORK/expected.json" <<'PY' || fail "computing the expectation"
import json, re, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
users = [o for o in truth if o["type"] == "user"]
groups = [o for o in truth if o["type"] == "group"]
def wild(p, t):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p)
    return re.fullmatch(rx, t, re.IGNORECASE | re.DOTALL) is not None
rules = []
for text in sys.argv[2:]:
    typ, action, fld, rest = text.split(":", 3)
    pat, _, cont = rest.partition("=>")
    rules.append(dict(text=text, type=typ, include=action == "include", field=fld, pattern=pat, container=cont or "default"))
def user_groups(u):  # displayName and mail of every group the user is in (nested included)
    names = []
    for g in groups:
        if u["id"] in g["transitiveUsers"]:
            names.append(g["displayName"])
            if g["mail"]: names.append(g["mail"])
    return names
out = {}
for typ, has in (("exchange", "hasMailbox"), ("onedrive", "hasDrive")):
    res = {"discovered": 0, "protected": {}, "unprotected": [], "rules": {}}
    for r in rules:
        if r["type"] != typ: continue
        res["rules"][r["text"]] = {"matched": [], "groups": sorted(g["displayName"] for g in groups
            if wild(r["pattern"], g["displayName"]) or (g["mail"] and wild(r["pattern"], g["mail"])))}
    for u in users:
        if not u[has]: continue
        res["discovered"] += 1
        site = u["driveWebUrl"].rsplit("/", 1)[0] if (typ == "onedrive" and u["driveWebUrl"]) else ""
        drive = u["driveWebUrl"] if typ == "onedrive" and u["driveWebUrl"] else ""
        for r in rules:
            if r["type"] != typ: continue
            f, p = r["field"], r["pattern"]
            hit = (f in ("user", "mailbox") and wild(p, u["userPrincipalName"])) or \
                  (f == "group" and any(wild(p, n) for n in user_groups(u))) or \
                  (f == "site" and ((site and wild(p, site)) or (drive and wild(p, drive))))
            if hit:
                res["rules"][r["text"]]["matched"].append(u["userPrincipalName"])
                if r["include"]: res["protected"][u["userPrincipalName"]] = r["container"]
                else: res["unprotected"].append(u["userPrincipalName"])
                break
        else:
            res["unprotected"].append(u["userPrincipalName"])
    out[typ] = res
# The expectation must be able to tell a wrong selection from a right one.
for typ, res in out.items():
    assert 0 < len(res["protected"]) < res["discovered"], (typ, res)
    for text, r in res["rules"].items():
        assert r["matched"], "rule matches nothing in this tenant: " + text
json.dump(out, open(sys.stdout.fileno(), "w"))
PY

# compare OUTPUT_JSON_FILE: the "types" of profile test / discover against the expectation.
compare() {
  python3 - "$WORK/expected.json" "$1" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1])); got = json.load(open(sys.argv[2]))
bad = []
types = {t["type"]: t for t in got["types"]}
for typ, e in exp.items():
    t = types.get(typ)
    if t is None: bad.append("no type " + typ); continue
    if t["discovered"] != e["discovered"]: bad.append(f"{typ}: discovered {t['discovered']} != {e['discovered']}")
    prot = {p["object"]: p["container"] for p in t["protected"]}
    if prot != e["protected"]: bad.append(f"{typ}: protected {sorted(prot.items())} != {sorted(e['protected'].items())}")
    if sorted(t["unprotected"]) != sorted(e["unprotected"]): bad.append(f"{typ}: unprotected {t['unprotected']} != {e['unprotected']}")
    rules = {r["rule"]: r for r in t["rules"]}
    for text, er in e["rules"].items():
        r = rules.get(text)
        if r is None: bad.append("missing rule " + text); continue
        if sorted(r["matched"]) != sorted(er["matched"]): bad.append(f"{text}: matched {r['matched']} != {er['matched']}")
        if r["field"] == "group" and sorted(r.get("groups", [])) != er["groups"]:
            bad.append(f"{text}: groups {r.get('groups')} != {er['groups']}")
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
}

expect 0 "$BIN" profile test emu --json
echo "$OUT" >"$WORK/test.json"
compare "$WORK/test.json" || fail "profile test --json differs from the ground truth"
expect 0 "$BIN" profile test emu
contains "$OUT" "rule 1 exchange:exclude:group:Sales EMEA Interns:"
contains "$OUT" "(groups: Sales EMEA Interns)"
contains "$OUT" "unprotected (discovered but not protected):"

expect 0 "$BIN" discover emu --json
echo "$OUT" >"$WORK/discover.json"
compare "$WORK/discover.json" || fail "discover --json differs from the ground truth"
python3 - "$WORK/truth.ndjson" "$WORK/discover.json" <<'PY' || fail "discover --json: drive URLs or groups"
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
d = json.load(open(sys.argv[2]))
urls = {o["userPrincipalName"]: o["driveWebUrl"] or "" for o in truth if o["type"] == "user"}
bad = [u["upn"] for u in d["users"] if u["drive_url"] != urls[u["upn"]]]
names = sorted(g["display_name"] for g in d["groups"])
assert not bad, bad
assert "Sales EMEA Interns" in names and "Engineering" in names and "All Company" not in names, names
PY
expect 0 "$BIN" discover emu
contains "$OUT" "Scan profile (advanced):"
contains "$OUT" "onedrive:include:group:engineering@*=>eng:"

# A backup holds exactly the selected users, per type.
expect 0 "$BIN" backup emu --type exchange --type onedrive --no-progress
for typ in exchange onedrive; do
  expect 0 "$BIN" ls emu latest --type $typ --json
  echo "$OUT" >"$WORK/ls.json"
  python3 - "$WORK/expected.json" "$WORK/ls.json" $typ <<'PY' || fail "$typ backup holds other users than the profile selects"
import json, sys
exp = json.load(open(sys.argv[1]))[sys.argv[3]]
got = sorted(e["name"] for e in json.load(open(sys.argv[2]))["entries"])
want = sorted(exp["protected"])
if got != want: print("backed up", got, "\nexpected", want); sys.exit(1)
PY
done

finish profile_rules_test
