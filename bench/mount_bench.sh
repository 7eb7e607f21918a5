#!/usr/bin/env bash
# bench/mount_bench.sh [BUILD_DIR]
#
# The mount benchmark of issue 5: the same data backed up by m365vault, restic
# and borg, each mounted, then timed: mount-ready, `find | wc -l`, `ls -lR`
# (warm), cold sequential read of the biggest file (page cache dropped), `tar
# cf - <mail subtree> | wc -c`, `rsync -a` of one user's OneDrive, and the
# mount process's peak RSS. The source tree itself is the limit.
#
# Env: BIG_MB (default 512), MAIL_FILES (20000), DRIVE_FILES (2000).
set -euo pipefail
BUILD=${1:-build}
TOOL=$BUILD/tests/fs/m365vault-test-repo
MOUNT=$BUILD/tests/fs/m365vault-mount-test
BIG_MB=${BIG_MB:-512}
MAIL_FILES=${MAIL_FILES:-20000}
DRIVE_FILES=${DRIVE_FILES:-2000}
W=$(mktemp -d /tmp/m365vault-bench.XXXXXX)
export RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench RESTIC_CACHE_DIR=$W/restic-cache BORG_BASE_DIR=$W/borg-base
PIDS=()

cleanup() {
  set +e
  for m in "$W"/mnt-*; do mountpoint -q "$m" && { fusermount3 -u "$m" || umount -l "$m"; }; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

now() { date +%s%N; }
ms_since() { echo $(( ($(now) - $1) / 1000000 )); }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(cannot drop caches)" >&2; }
wait_ready() {  # wait_ready PATH: until PATH lists
  local deadline=$(( $(now) + 120000000000 ))
  until ls "$1" >/dev/null 2>&1; do [ "$(now)" -lt "$deadline" ] || return 1; sleep 0.01; done
}

echo "generating data in $W/src (big file ${BIG_MB} MiB, $MAIL_FILES mails, $DRIVE_FILES drive files)"
SRC=$W/src
mkdir -p "$SRC/alice/Mail" "$SRC/alice/OneDrive" "$SRC/bob/Mail"
python3 - "$SRC" "$MAIL_FILES" "$DRIVE_FILES" <<'PY'
import os, random, sys
src, mails, drive = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(1)
for i in range(mails):
    d = os.path.join(src, "alice" if i % 2 else "bob", "Mail", "folder%02d" % (i % 40))
    os.makedirs(d, exist_ok=True)
    body = ("Subject: message %d\n\n" % i).encode() + rnd.randbytes(rnd.randint(2000, 20000))
    open(os.path.join(d, "2026-11-20 0900 message %d [id%d].eml" % (i, i)), "wb").write(body)
for i in range(drive):
    d = os.path.join(src, "alice", "OneDrive", "dir%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "doc%d.bin" % i), "wb").write(rnd.randbytes(rnd.randint(20000, 200000)))
PY
head -c $((BIG_MB << 20)) /dev/urandom > "$SRC/alice/OneDrive/big.bin"

echo "backing up (m365vault, restic, borg)"
t=$(now); "$TOOL" init "$W/m365" "$W/key" contoso >/dev/null
read -r _ SNAP < <("$TOOL" backup "$W/m365" "$W/key" "$SRC" onedrive); echo "  m365vault backup $(ms_since $t) ms"
t=$(now); restic init -q -r "$W/restic" && (cd "$W" && restic backup -q -r "$W/restic" src); echo "  restic backup $(ms_since $t) ms"
t=$(now); borg init -e repokey "$W/borg" && (cd "$W" && borg create "$W/borg::s1" src); echo "  borg backup $(ms_since $t) ms"

declare -A R  # R[system,metric]

measure() {  # measure SYSTEM ROOT PID: ROOT = the directory equal to $SRC
  local sys=$1 root=$2 pid=$3 t
  drop_caches
  t=$(now); dd if="$root/alice/OneDrive/big.bin" of=/dev/null bs=1M status=none
  local ms=$(ms_since $t); R[$sys,read]=$(( BIG_MB * 1000 / (ms > 0 ? ms : 1) ))
  find "$root" >/dev/null  # warm
  t=$(now); n=$(find "$root" | wc -l); R[$sys,find]=$(ms_since $t); R[$sys,count]=$n
  ls -lR "$root" >/dev/null
  t=$(now); ls -lR "$root" >/dev/null; R[$sys,lsR]=$(ms_since $t)
  drop_caches
  t=$(now); tar cf - -C "$root/alice" Mail | wc -c >/dev/null; R[$sys,tar]=$(ms_since $t)
  t=$(now); rsync -a "$root/alice/OneDrive/" "$W/rsync-$sys/" --exclude big.bin; R[$sys,rsync]=$(ms_since $t)
  rm -rf "$W/rsync-$sys"
  if [ -n "$pid" ]; then R[$sys,rss]=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status"); else R[$sys,rss]=0; fi
}

echo "measuring: source tree"
R[source,ready]=0
measure source "$SRC" ""

echo "measuring: m365vault"
mkdir "$W/mnt-m365"; t=$(now)
"$MOUNT" --foreground --cache-mb 64 "$W/key" "$W/mnt-m365" "$W/m365" 2>"$W/m365.log" & PIDS+=($!)
wait_ready "$W/mnt-m365/contoso/onedrive/$SNAP/alice"; R[m365vault,ready]=$(ms_since $t)
measure m365vault "$W/mnt-m365/contoso/onedrive/$SNAP" "${PIDS[-1]}"

echo "measuring: restic"
mkdir "$W/mnt-restic"; t=$(now)
restic mount -q -r "$W/restic" "$W/mnt-restic" >/dev/null 2>&1 & PIDS+=($!)
wait_ready "$W/mnt-restic/snapshots/latest/src/alice"; R[restic,ready]=$(ms_since $t)
measure restic "$W/mnt-restic/snapshots/latest/src" "${PIDS[-1]}"

echo "measuring: borg"
mkdir "$W/mnt-borg"; t=$(now)
borg mount -f "$W/borg::s1" "$W/mnt-borg" >/dev/null 2>&1 & PIDS+=($!)
wait_ready "$W/mnt-borg/src/alice"; R[borg,ready]=$(ms_since $t)
# borg mount -f runs python in the foreground process itself
measure borg "$W/mnt-borg/src" "${PIDS[-1]}"

printf '\n%-10s %9s %9s %8s %8s %9s %8s %8s %8s\n' system ready_ms read_MB/s find_ms lsR_ms tar_ms rsync_ms rss_MB entries
for s in source m365vault restic borg; do
  printf '%-10s %9s %9s %8s %8s %9s %8s %8s %8s\n' $s "${R[$s,ready]}" "${R[$s,read]}" "${R[$s,find]}" \
    "${R[$s,lsR]}" "${R[$s,tar]}" "${R[$s,rsync]}" "${R[$s,rss]}" "${R[$s,count]}"
done
ratio() { python3 -c "a,b=$1,$2; print('%.1fx' % (a/b) if b else 'n/a')"; }
echo
for other in restic borg; do
  echo "m365vault vs $other: read $(ratio ${R[m365vault,read]} ${R[$other,read]}) faster," \
    "find $(ratio ${R[$other,find]} ${R[m365vault,find]}), ls -lR $(ratio ${R[$other,lsR]} ${R[m365vault,lsR]})," \
    "tar $(ratio ${R[$other,tar]} ${R[m365vault,tar]}), rsync $(ratio ${R[$other,rsync]} ${R[m365vault,rsync]})," \
    "RSS $(ratio ${R[m365vault,rss]} ${R[$other,rss]}) of theirs"
done
echo "m365vault vs source (warm): find $(ratio ${R[m365vault,find]} ${R[source,find]}) slower," \
  "ls -lR $(ratio ${R[m365vault,lsR]} ${R[source,lsR]}) slower"
