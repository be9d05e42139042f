#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs the engine with its
# embedded RocksDB (./data) and the demo workflows (workflows/), plus one
# simulated department per department the workflows use. Ctrl-C stops all.
#   deploy/run.sh [--listen ADDR] [--data-dir DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
LISTEN="127.0.0.1:50051"
DATA="$OW_ROOT/data"
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) LISTEN="$2"; shift 2 ;;
    --data-dir) DATA="$2"; shift 2 ;;
    *) echo "usage: $0 [--listen ADDR] [--data-dir DIR]" >&2; exit 2 ;;
  esac
done
ow_install_packages
BUILD="${BUILD_DIR:-$OW_ROOT/build}"
ow_build "$BUILD" Release onewindowd owctl ow-adapter-sim

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$BUILD/onewindowd" --listen "$LISTEN" --data-dir "$DATA" \
  --workflows "$OW_ROOT/workflows" --calendar-dir "$OW_ROOT/deploy/calendars" &
pids+=($!)
# Wait until it answers.
for _ in $(seq 1 100); do
  "$BUILD/owctl" --addr "$LISTEN" workflow list >/dev/null 2>&1 && break
  sleep 0.1
done
depts=$("$BUILD/owctl" --addr "$LISTEN" --json workflow list |
  python3 -c 'import json,sys; print(" ".join(sorted({d for w in json.load(sys.stdin) for d in w.get("departments", [])})))')
for d in $depts; do
  # COUNTER tasks are the clerk's: nobody simulates the citizen.
  [ "$d" = COUNTER ] && continue
  "$BUILD/ow-adapter-sim" --department "$d" --addr "$LISTEN" --latency-ms 200 &
  pids+=($!)
done
cat <<MSG

OneWindow is running on $LISTEN (data in $DATA), departments simulated: ${depts/COUNTER/}
Web console: http://127.0.0.1:8080 (no sign-in needed without an auth file)
In another terminal:
  $BUILD/owctl --addr $LISTEN workflow list
  id=\$($BUILD/owctl --addr $LISTEN case submit --service food-licence --data $OW_ROOT/workflows/food-licence.input.json)
  $BUILD/owctl --addr $LISTEN case watch \$id
  $BUILD/owctl --addr $LISTEN --json case get \$id
Ctrl-C stops everything.
MSG
wait "${pids[0]}"
