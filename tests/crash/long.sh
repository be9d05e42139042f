#!/usr/bin/env bash
# Long crash run: builds what it needs, then SIGKILLs onewindowd under load
# OW_CRASH_KILLS times (default 50) and checks every acknowledged case.
#
#   tests/crash/long.sh [BUILD_DIR]
#
# Environment: OW_CRASH_KILLS, OW_CRASH_SECONDS, OW_CRASH_MIN_MS,
# OW_CRASH_MAX_MS, OW_CRASH_SUBMITTERS, OW_CRASH_GAP_MS, OW_CRASH_SEED,
# OW_CRASH_QUIESCE_SECONDS, OW_CRASH_KEEP (see tests/crash_test.cc).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-crash}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target crash_test onewindowd ow-adapter-sim \
  -j"${OW_BUILD_JOBS:-2}"
export OW_CRASH_KILLS="${OW_CRASH_KILLS:-50}"
export OW_CRASH_SECONDS="${OW_CRASH_SECONDS:-600}"
exec "$build/crash_test" --gtest_filter=CrashTest.SigkillUnderLoad
