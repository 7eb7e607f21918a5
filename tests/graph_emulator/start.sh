#!/bin/sh
# Start the Graph emulator in the background: start.sh DIR [server.js args...]
# Waits (up to 30 s) for DIR/emulator.json and prints its path. Log: DIR/emulator.log
set -eu
[ $# -ge 1 ] || { echo "usage: $0 STATE_DIR [args...]" >&2; exit 2; }
dir=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir/emulator.json"
nohup node "$here/server.js" --state-dir "$dir" "$@" >"$dir/emulator.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$dir/emulator.pid"
i=0
while [ ! -s "$dir/emulator.json" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "emulator exited; see $dir/emulator.log" >&2; cat "$dir/emulator.log" >&2; exit 1; fi
  i=$((i + 1))
  if [ "$i" -gt 300 ]; then echo "emulator did not start within 30 s" >&2; kill "$pid" 2>/dev/null || true; exit 1; fi
  sleep 0.1
done
echo "$dir/emulator.json"
