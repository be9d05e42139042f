#!/usr/bin/env bash
# Builds the engine with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DOW_SANITIZE=ON, -O1) and runs the unit and engine tests under them,
# plus the hostile-request test against an instrumented onewindowd.
#
#   tests/sanitize.sh            build (in build-asan) and run them all
#   tests/sanitize.sh TEST...    only these test binaries (e.g. core_test)
#
# Environment: OW_ASAN_BUILD (build folder, default build-asan in the
# repository), JOBS (test binaries run at once, default nproc).
# A sanitizer report aborts the binary that hit it; the script prints one
# line per binary and exits 1 when any failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${OW_ASAN_BUILD:-$root/build-asan}"

# Unit and engine tests; hostile_test drives a real onewindowd process, and
# http_bridge_e2e_test real onewindowd, ow-adapter-http and
# ow-test-department processes.
tests=(asl_test jsonata_test core_test store_test manifest_test render_test
       scheduler_test service_test daemon_test owctl_lib_test
       adapter_sdk_test adapter_sdk_async_test http_test identity_test
       hostile_test http_bridge_e2e_test)
[ $# -gt 0 ] && tests=("$@")

t0=$SECONDS
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DOW_SANITIZE=ON \
  -DOW_JEMALLOC=OFF -DOW_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 2; }
targets=(onewindowd)
for t in "${tests[@]}"; do targets+=(--target "$t"); done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" \
  >"$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 2; }
echo "sanitize: built in $((SECONDS - t0)) s"

# Leaks are reported too (the suppressions cover third-party singletons
# that live until exit); any report fails the binary.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build/logs"

run_one() {
  local t="$1" log="$build/logs/$1.log" s=$SECONDS
  (cd "$build" && timeout 1200 "./$t" --gtest_brief=1) >"$log" 2>&1
  local rc=$?
  echo "$rc $((SECONDS - s))" >"$log.rc"
}

for t in "${tests[@]}"; do
  run_one "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "${JOBS:-$(nproc)}" ]; do wait -n; done
done
wait

failed=0
for t in "${tests[@]}"; do
  log="$build/logs/$t.log"
  read -r rc secs <"$log.rc"
  passed="$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)"
  if [ "$rc" = 0 ]; then
    printf 'sanitize: %-24s ok   %4s tests %4s s\n' "$t" "${passed:-?}" "$secs"
  else
    failed=1
    printf 'sanitize: %-24s FAILED (exit %s) after %s s\n' "$t" "$rc" "$secs"
    grep -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|SUMMARY|\[  FAILED  \]" \
      "$log" | head -8 | sed 's/^/  /'
  fi
done
echo "sanitize: $((SECONDS - t0)) s in all"
exit "$failed"
