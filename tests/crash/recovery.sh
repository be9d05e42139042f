#!/usr/bin/env bash
# Recovery figures: fills a store with open cases (half waiting on a one-day
# Wait, half on a task no worker serves), SIGKILLs onewindowd and measures
# start-to-serving time, the engine's own recovery time and RSS per open
# case.
#
#   tests/crash/recovery.sh [BUILD_DIR] [COUNTS]    COUNTS default 10000,100000
#
# OW_RECOVERY_THREADS sets the submitting threads (default 16).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-crash}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target crash_test onewindowd ow-adapter-sim \
  -j"${OW_BUILD_JOBS:-2}"
export OW_RECOVERY_CASES="${2:-${OW_RECOVERY_CASES:-10000,100000}}"
exec "$build/crash_test" --gtest_filter=Recovery.OpenCases
