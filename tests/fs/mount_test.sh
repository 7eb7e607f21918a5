#!/usr/bin/env bash
# tests/fs/mount_test.sh TEST_REPO_TOOL MOUNT_TOOL
#
# Real-mount integration test of the fs module: builds a repository from a
# known source tree, mounts it, and checks with ordinary tools that the mount
# shows the same bytes, sizes, mtimes and metadata, refuses every write with
# EROFS, turns a corrupt pack into EIO without dying, shows a snapshot
# committed while mounted, and unmounts on SIGTERM.
set -euo pipefail

TOOL=$1
MOUNT=$2
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "SKIP: no /dev/fuse or fusermount3"; exit 77
fi
WORK=$(mktemp -d /tmp/m365vault-fs-test.XXXXXX)
SRC=$WORK/src
REPO=$WORK/repo
KEY=$WORK/key
MNT=$WORK/mnt
MNT2=$WORK/mnt2
LOG=$WORK/mount.log
MOUNT_PID=

is_mounted() { grep -q " $1 fuse" /proc/mounts; }

cleanup() {
  set +e
  for m in "$MNT" "$MNT2"; do
    if is_mounted "$m"; then fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; fi
  done
  if [ -n "$MOUNT_PID" ]; then kill "$MOUNT_PID" 2>/dev/null; wait "$MOUNT_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$LOG" ]; then echo "--- mount log:" >&2; tail -20 "$LOG" >&2; fi
  exit 1
}
step() { echo "--- $*"; }

# Runs a command that must fail with "Read-only file system".
expect_erofs() {
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then fail "$what succeeded on a read-only mount"; fi
  case "$out" in
    *"Read-only file system"*) ;;
    *) fail "$what: expected 'Read-only file system', got: $out" ;;
  esac
}

# Files and directories with their mtimes (ns), sizes and types, for comparing trees.
listing() {
  (cd "$1" && find . -mindepth 1 \( -type f -printf 'f %s %T@ %P\n' \) -o \( -type d -printf 'd %T@ %P\n' \) | LC_ALL=C sort)
}

wait_for() {  # wait_for SECONDS CMD...: polls every 0.1 s
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

step "source tree"
A="$SRC/alice@contoso.com"
B="$SRC/bob@contoso.com"
mkdir -p "$A/Mail/Inbox" "$A/Documents/Ünïcödé dir" "$B/empty dir" "$B/deep/a/b/c/d"
: > "$A/Mail/Inbox/empty.eml"
printf x > "$A/Documents/one byte.txt"
head -c 5000000 /dev/urandom > "$B/big file.bin"
head -c 300001 /dev/urandom > "$A/Documents/Ünïcödé dir/報告 2026 (final).docx"
echo "deep" > "$B/deep/a/b/c/d/leaf.txt"
for i in $(seq 1 150); do
  printf 'Subject: message %d\n\nbody %d\n' "$i" "$i" > "$A/Mail/Inbox/2026-11-20 0900 message $i [id$i].eml"
done
t=1790000000
while IFS= read -r -d '' p; do  # deepest first, so directory mtimes stick
  t=$((t + 61))
  touch -h -d "@$t.$((t % 1000000000))" "$p"
done < <(find "$SRC" -mindepth 1 -depth -print0)

step "repository and first snapshot"
"$TOOL" init "$REPO" "$KEY" contoso
read -r ID1 SNAP1 < <("$TOOL" backup "$REPO" "$KEY" "$SRC" exchange)
[ -n "$SNAP1" ] || fail "backup printed no snapshot name"

step "mount (foreground)"
mkdir -p "$MNT" "$MNT2"
start=$(date +%s%N)
"$MOUNT" --foreground "$KEY" "$MNT" "$REPO" 2>"$LOG" &
MOUNT_PID=$!
wait_for 10 is_mounted "$MNT" || fail "not mounted after 10 s"
wait_for 10 test -d "$MNT/contoso" || fail "tenant directory missing"
echo "ready in $(( ($(date +%s%N) - start) / 1000000 )) ms"

step "layout"
[ "$(ls "$MNT")" = "contoso" ] || fail "root lists: $(ls "$MNT")"
[ "$(ls "$MNT/contoso")" = "exchange" ] || fail "tenant lists: $(ls "$MNT/contoso")"
[ "$(ls "$MNT/contoso/exchange" | LC_ALL=C sort | tr '\n' ' ')" = "$SNAP1 latest " ] ||
  fail "type lists: $(ls "$MNT/contoso/exchange")"
[ -L "$MNT/contoso/exchange/latest" ] || fail "latest is not a symlink"
[ "$(readlink "$MNT/contoso/exchange/latest")" = "$SNAP1" ] || fail "latest -> $(readlink "$MNT/contoso/exchange/latest")"
D="$MNT/contoso/exchange/$SNAP1"
[ -e "$D/nope" ] && fail "a missing name exists"
[ -e "$D/nope" ] && fail "a missing name exists (cached negative entry)"

step "find and stat: names, sizes, mtimes, modes"
diff <(listing "$SRC") <(listing "$D") || fail "find listing differs from the source"
[ "$(stat -c '%s %Y %a %U' "$D/bob@contoso.com/big file.bin")" = "$(stat -c '%s %Y' "$B/big file.bin") 444 $(id -un)" ] ||
  fail "stat of big file: $(stat -c '%s %Y %a %U' "$D/bob@contoso.com/big file.bin")"
[ "$(stat -c '%a %F' "$D/bob@contoso.com/empty dir")" = "555 directory" ] || fail "directory mode"
[ "$(stat -c %s "$A/Mail/Inbox/empty.eml")" = 0 ] || fail "empty file size"
[ "$(find "$MNT/contoso/exchange/latest/" -type f | wc -l)" = 155 ] || fail "find through latest"

step "cat/cmp every file"
while IFS= read -r -d '' f; do
  cmp "$SRC/$f" "$D/$f" || fail "content differs: $f"
done < <(cd "$SRC" && find . -type f -printf '%P\0')

step "rsync -a and tar from the mount equal the source"
rsync -a "$D/" "$WORK/rsync/"
diff -r "$SRC" "$WORK/rsync" || fail "rsync copy differs"
diff <(listing "$SRC") <(listing "$WORK/rsync") || fail "rsync copy: mtimes/sizes differ"
mkdir "$WORK/tar"
tar --format=posix -C "$D" -cf - . | tar -C "$WORK/tar" -xf -
diff -r "$SRC" "$WORK/tar" || fail "tar copy differs"
diff <(listing "$SRC") <(listing "$WORK/tar") || fail "tar copy: mtimes/sizes differ"

step "parallel readers"
pids=()
for i in 1 2 3 4; do
  cat "$D/bob@contoso.com/big file.bin" > "$WORK/par.$i" & pids+=($!)
done
cat "$D/alice@contoso.com/Documents/Ünïcödé dir/報告 2026 (final).docx" > "$WORK/par.doc" & pids+=($!)
cat "$D/alice@contoso.com/Mail/Inbox/2026-11-20 0900 message 7 [id7].eml" > "$WORK/par.eml" & pids+=($!)
for p in "${pids[@]}"; do wait "$p" || fail "a parallel reader failed"; done
for i in 1 2 3 4; do cmp "$B/big file.bin" "$WORK/par.$i" || fail "parallel reader $i got wrong bytes"; done
cmp "$A/Documents/Ünïcödé dir/報告 2026 (final).docx" "$WORK/par.doc" || fail "parallel doc reader"
cmp "$A/Mail/Inbox/2026-11-20 0900 message 7 [id7].eml" "$WORK/par.eml" || fail "parallel eml reader"

step "extended attributes"
f="$D/alice@contoso.com/Documents/one byte.txt"
out=$(getfattr --absolute-names -d "$f")
echo "$out" | grep -qx 'user.m365.id="id:alice@contoso.com/Documents/one byte.txt"' || fail "getfattr -d: $out"
echo "$out" | grep -qx 'user.m365.etag="etag-1"' || fail "getfattr -d etag: $out"
echo "$out" | grep -q 'user.m365.weburl=' || fail "getfattr -d weburl: $out"
[ "$(getfattr --absolute-names --only-values -n user.m365.id "$f")" = "id:alice@contoso.com/Documents/one byte.txt" ] || fail "getfattr -n"
out=$(getfattr --absolute-names -n user.m365.nope "$f" 2>&1) && fail "a missing attribute was found"
echo "$out" | grep -q "No such attribute" || fail "missing attribute: $out"
[ "$(getfattr --absolute-names --only-values -n user.m365.snapshot.id "$D")" = "$ID1" ] || fail "snapshot id xattr"
[ "$(getfattr --absolute-names --only-values -n user.m365.snapshot.partial "$D")" = "false" ] || fail "snapshot partial xattr"
[ "$(getfattr --absolute-names --only-values -n user.m365.snapshot.job "$D")" = "job-test" ] || fail "snapshot job xattr"

step "every write is EROFS"
g="$D/bob@contoso.com/big file.bin"
expect_erofs "create" sh -c "echo x > '$D/new.txt'"
expect_erofs "create in root" touch "$MNT/new"
expect_erofs "write" sh -c "echo x >> '$f'"
expect_erofs "open O_RDWR" sh -c "exec 3<>'$f'"
expect_erofs "mkdir" mkdir "$D/newdir"
expect_erofs "rename" mv "$f" "$D/renamed.txt"
expect_erofs "unlink" rm -f "$f"
expect_erofs "rmdir" rmdir "$D/bob@contoso.com/empty dir"
expect_erofs "setfattr" setfattr -n user.m365.id -v x "$f"
expect_erofs "removexattr" setfattr -x user.m365.id "$f"
expect_erofs "truncate" truncate -s 0 "$g"
expect_erofs "chmod" chmod 644 "$g"
expect_erofs "touch (utimes)" touch "$g"
expect_erofs "symlink" ln -s x "$D/link"
expect_erofs "link" ln "$g" "$D/hardlink"
cmp "$B/big file.bin" "$g" || fail "content changed after write attempts"

step "a backup committed while mounted shows up"
echo "new file" > "$B/new.txt"
head -c 3000000 /dev/urandom > "$B/victim.bin"
find "$REPO/data" -type f | sort > "$WORK/packs.before"
sleep 1  # a different second than the first snapshot
read -r ID2 SNAP2 < <("$TOOL" backup "$REPO" "$KEY" "$SRC" exchange)
latest_is_new() { [ "$(readlink "$MNT/contoso/exchange/latest")" = "$SNAP2" ]; }
wait_for 2 latest_is_new || fail "latest does not point to $SNAP2 within 2 s: $(readlink "$MNT/contoso/exchange/latest")"
[ -d "$MNT/contoso/exchange/$SNAP2" ] || fail "new snapshot directory missing"
ls "$MNT/contoso/exchange" | grep -qx "$SNAP2" || fail "new snapshot not listed"
cmp "$B/new.txt" "$MNT/contoso/exchange/latest/bob@contoso.com/new.txt" || fail "new file content"
[ -e "$D/bob@contoso.com/new.txt" ] && fail "the old snapshot changed"
V="$MNT/contoso/exchange/$SNAP2/bob@contoso.com/victim.bin"
[ "$(stat -c %s "$V")" = 3000000 ] || fail "victim size"

step "corruption gives EIO, a log line, and the mount stays up"
find "$REPO/data" -type f | sort > "$WORK/packs.after"
new_packs=$(comm -13 "$WORK/packs.before" "$WORK/packs.after")
[ -n "$new_packs" ] || fail "the second backup wrote no pack"
for p in $new_packs; do
  size=$(stat -c %s "$p")
  chmod u+w "$p"
  head -c 256 /dev/zero | dd of="$p" bs=1 seek=$((size / 2)) conv=notrunc status=none
done
out=$(cat "$V" 2>&1 >/dev/null) && fail "reading a corrupt file succeeded"
case "$out" in *"Input/output error"*) ;; *) fail "corrupt read: expected EIO, got: $out" ;; esac
grep -q "read failed: tenant contoso, snapshot exchange/$SNAP2 (id $ID2), path bob@contoso.com/victim.bin" "$LOG" ||
  fail "no log line naming the snapshot and path"
is_mounted "$MNT" || fail "the mount died"
kill -0 "$MOUNT_PID" || fail "the mount process died"
cmp "$A/Documents/one byte.txt" "$D/alice@contoso.com/Documents/one byte.txt" || fail "reads after the corruption"
ls "$D/alice@contoso.com/Mail/Inbox" > /dev/null || fail "listing after the corruption"

step "mount errors"
expect_error() {  # expect_error TEXT CMD...
  local text=$1; shift
  local out
  if out=$("$@" 2>&1); then fail "$* succeeded"; fi
  case "$out" in *"$text"*) ;; *) fail "$*: expected '$text', got: $out" ;; esac
}
expect_error "does not exist" "$MOUNT" "$KEY" "$WORK/nope" "$REPO"
expect_error "not a directory" "$MOUNT" "$KEY" "$KEY" "$REPO"
expect_error "not empty" "$MOUNT" "$KEY" "$WORK" "$REPO"
expect_error "already a mount point" "$MOUNT" "$KEY" "$MNT" "$REPO"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/wrong.key"
expect_error "Wrong key" "$MOUNT" "$WORK/wrong.key" "$MNT2" "$REPO"
is_mounted "$MNT2" && fail "mounted with a wrong key"

step "daemon mode: ready when the command returns; fusermount3 -u unmounts"
start=$(date +%s%N)
"$MOUNT" "$KEY" "$MNT2" "$REPO"
echo "daemon mount returned in $(( ($(date +%s%N) - start) / 1000000 )) ms"
is_mounted "$MNT2" || fail "daemon mount not mounted"
[ "$(readlink "$MNT2/contoso/exchange/latest")" = "$SNAP2" ] || fail "daemon mount contents"
cmp "$A/Documents/one byte.txt" "$MNT2/contoso/exchange/$SNAP1/alice@contoso.com/Documents/one byte.txt" ||
  fail "daemon mount read"
fusermount3 -u "$MNT2"
is_mounted "$MNT2" && fail "still mounted after fusermount3 -u"

step "SIGTERM unmounts"
kill -TERM "$MOUNT_PID"
rc=0
wait "$MOUNT_PID" || rc=$?
MOUNT_PID=
[ "$rc" = 0 ] || fail "mount process exited with $rc after SIGTERM"
is_mounted "$MNT" && fail "still mounted after SIGTERM"

echo "PASS"
