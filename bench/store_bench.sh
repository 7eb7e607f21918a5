#!/usr/bin/env bash
# bench/store_bench.sh: the store benchmark of issue 2 (see bench/README.md).
#
#   bench/store_bench.sh [--dir DIR] [--size-mb N] [--seed S] [--tools "m365vault restic borg"]
#                        [--sweep] [--readers N] [--build DIR] [--keep]
#
# Generates an M365-like tree (bench/store_gen.py) into DIR/src, ingests it
# (v1) with every tool, applies a day of churn, ingests again (v2), and prints
# wall time, CPU (user+sys), peak RSS and repository size for each, plus the
# ratios m365vault/restic and m365vault/borg. The page cache is dropped before
# every run so each tool reads cold. --sweep also runs `store_bench chunk-sweep`
# on v1 (a hard-linked copy kept before the churn) and v2.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
DIR=/tmp/m365bench
SIZE_MB=2048
SEED=1
TOOLS="m365vault restic borg"
SWEEP=0
KEEP=0
READERS=2
BUILD="$ROOT/build-bench"

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --size-mb) SIZE_MB="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    --sweep) SWEEP=1; shift ;;
    --readers) READERS="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

STORE_BENCH="$BUILD/bench/store_bench"
if [[ " $TOOLS " == *" m365vault "* ]] && [ ! -x "$STORE_BENCH" ]; then
  echo "building store_bench in $BUILD" >&2
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target store_bench
fi
for t in $TOOLS; do
  case "$t" in
    restic|borg) command -v "$t" >/dev/null || { echo "$t is not installed (apt-get install -y $t)" >&2; exit 1; } ;;
  esac
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install -y time" >&2; exit 1; }

SRC="$DIR/src"
RES="$DIR/results"
rm -rf "$DIR"
mkdir -p "$DIR" "$RES"

export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="$DIR/restic-repo" RESTIC_CACHE_DIR="$DIR/restic-cache"
export BORG_PASSPHRASE=bench BORG_BASE_DIR="$DIR/borg-base" BORG_CACHE_DIR="$DIR/borg-cache"
BORG_REPO_PATH="$DIR/borg-repo"
M365_REPO="$DIR/m365vault-repo"

drop_caches() {
  sync
  if ! echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
    # Unprivileged fallback: evict the source's and repositories' pages.
    python3 - "$DIR" <<'EOF'
import os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        try:
            fd = os.open(os.path.join(d, f), os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        except OSError:
            pass
EOF
  fi
}

# run TOOL PHASE CMD...: cold cache, /usr/bin/time -v, log in RES.
run() {
  local tool="$1" phase="$2"
  shift 2
  drop_caches
  echo "load before $tool $phase: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES/load.txt"
  echo "== $tool $phase: $*" >&2
  if ! /usr/bin/time -v -o "$RES/$tool-$phase.time" "$@" > "$RES/$tool-$phase.log" 2>&1; then
    echo "$tool $phase failed; see $RES/$tool-$phase.log" >&2
    tail -20 "$RES/$tool-$phase.log" >&2
    exit 1
  fi
  tail -3 "$RES/$tool-$phase.log" | sed 's/^/   /' >&2
}

repo_of() {
  case "$1" in
    m365vault) echo "$M365_REPO" ;;
    restic) echo "$DIR/restic-repo" ;;
    borg) echo "$BORG_REPO_PATH" ;;
  esac
}

ingest() {  # ingest TOOL PHASE
  case "$1" in
    m365vault) run m365vault "$2" "$STORE_BENCH" backup "$M365_REPO" "$SRC" --readers "$READERS" ;;
    restic) run restic "$2" restic backup --host bench "$SRC" ;;
    borg) run borg "$2" borg create --compression zstd,3 --stats "$BORG_REPO_PATH::$2" "$SRC" ;;
  esac
  du -sb "$(repo_of "$1")" | cut -f1 > "$RES/$1-$2.size"
}

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); $(uptime)" | tee "$RES/machine.txt" >&2
echo "== restic $(restic version 2>/dev/null | cut -d' ' -f2 || true), $(borg --version 2>/dev/null || true)" | tee -a "$RES/machine.txt" >&2

echo "== generating ${SIZE_MB} MB into $SRC (seed $SEED)" >&2
python3 "$HERE/store_gen.py" generate "$SRC" --size-mb "$SIZE_MB" --seed "$SEED" | tee "$RES/gen.txt" >&2

for t in $TOOLS; do
  case "$t" in
    m365vault) "$STORE_BENCH" init "$M365_REPO" > /dev/null ;;
    restic) restic init --repository-version 2 > /dev/null ;;
    borg) borg init -e repokey-blake2 "$BORG_REPO_PATH" > /dev/null 2>&1 ;;
  esac
done

# The v1 copy for the sweep is hard-linked before any ingest: linking changes
# every file's ctime, which restic and borg (rightly) take as a change.
if [ "$SWEEP" = 1 ]; then cp -al "$SRC" "$DIR/v1"; fi

for t in $TOOLS; do ingest "$t" v1; done

echo "== churn" >&2
python3 "$HERE/store_gen.py" churn "$SRC" --seed $((SEED + 1)) | tee "$RES/churn.txt" >&2

for t in $TOOLS; do ingest "$t" v2; done

# --- report ---
field() {  # field FILE PATTERN -> value after ": "
  grep -F "$2" "$1" | head -1 | sed 's/.*: //'
}
wall_s() {  # h:mm:ss or m:ss.ss -> seconds
  awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<< "$1"
}

declare -A WALL CPU RSS SIZE
printf '\n%-10s %-3s %9s %9s %9s %6s %10s %12s\n' tool run wall_s user_s sys_s cpu% rss_MiB repo_MiB | tee "$RES/table.txt"
for t in $TOOLS; do
  for p in v1 v2; do
    f="$RES/$t-$p.time"
    w=$(wall_s "$(field "$f" "Elapsed (wall clock)")")
    u=$(field "$f" "User time")
    s=$(field "$f" "System time")
    c=$(field "$f" "Percent of CPU")
    r=$(field "$f" "Maximum resident set size")
    z=$(cat "$RES/$t-$p.size")
    WALL[$t-$p]=$w; CPU[$t-$p]=$(awk "BEGIN{print $u+$s}"); RSS[$t-$p]=$r; SIZE[$t-$p]=$z
    printf '%-10s %-3s %9.2f %9.2f %9.2f %6s %10.1f %12.1f\n' "$t" "$p" "$w" "$u" "$s" "$c" \
      "$(awk "BEGIN{print $r/1024}")" "$(awk "BEGIN{print $z/1048576}")" | tee -a "$RES/table.txt"
  done
done

ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1/$2; else print \"-\" }"; }
if [[ " $TOOLS " == *" m365vault "* ]]; then
  {
    echo
    printf '%-22s %12s %12s %10s\n' metric "m/restic" "m/borg" target
    row() {  # row NAME ARRAY KEY TARGET
      local name="$1" key="$3" target="$4" a b
      local -n arr="$2"
      a=-; b=-
      [[ " $TOOLS " == *" restic "* ]] && a=$(ratio "${arr[m365vault-$key]}" "${arr[restic-$key]}")
      [[ " $TOOLS " == *" borg "* ]] && b=$(ratio "${arr[m365vault-$key]}" "${arr[borg-$key]}")
      printf '%-22s %12s %12s %10s\n' "$name" "$a" "$b" "$target"
    }
    row "first ingest wall" WALL v1 "<= 0.5"
    row "incremental wall" WALL v2 "<= 0.3"
    row "first ingest cpu" CPU v1 ""
    row "incremental cpu" CPU v2 ""
    row "repo size (after v2)" SIZE v2 "<= 1.0"
    row "peak RSS v1" RSS v1 "<= 1.0"
    row "peak RSS v2" RSS v2 "<= 1.0"
  } | tee -a "$RES/table.txt"
fi
echo "(borg: --compression zstd,3; restic: repository v2, compression auto; m365vault: zstd 1, $READERS readers)" | tee -a "$RES/table.txt"
echo "results in $RES" >&2

if [ "$SWEEP" = 1 ] && [ -x "$STORE_BENCH" ]; then
  echo "== chunk sweep (v1 + v2)" >&2
  drop_caches
  "$STORE_BENCH" chunk-sweep "$DIR/v1" "$SRC" --work "$DIR" --readers "$READERS" | tee "$RES/sweep.txt"
fi

if [ "$KEEP" = 0 ]; then
  rm -rf "$SRC" "$DIR/v1" "$DIR/restic-repo" "$DIR/borg-repo" "$M365_REPO" "$M365_REPO.cache" \
    "$DIR/restic-cache" "$DIR/borg-cache" "$DIR/borg-base"
fi
