#!/bin/sh
# Stop an emulator started with start.sh: stop.sh DIR
set -eu
[ $# -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
dir=$1
pid=""
[ -f "$dir/emulator.pid" ] && pid=$(cat "$dir/emulator.pid")
[ -z "$pid" ] && [ -f "$dir/emulator.json" ] && pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$dir/emulator.json")
[ -n "$pid" ] || { echo "no emulator pid in $dir" >&2; exit 1; }
kill "$pid" 2>/dev/null || exit 0
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 50 ] && { kill -9 "$pid" 2>/dev/null || true; break; }
  sleep 0.1
done
rm -f "$dir/emulator.pid"
