#!/usr/bin/env bash
# Builds and runs the ASL library's libFuzzer targets.
#
#   tests/fuzz/run.sh [--short | SECONDS] [TARGET...]
#
# --short runs each target 60 s (for CI); SECONDS runs each that long
# (default 600). TARGETs: json yaml validator jsonpath intrinsics compiled
# jsonata interpreter (default: all that exist).
#
# Environment:
#   OW_FUZZ_BUILD  build folder (default: build-fuzz in the repository)
#   CXX            clang++ to use (default: clang++-14, else clang++)
#   JOBS           targets run at the same time (default 1)
#   OW_CONFORMANCE_DIR  seed source (default: ../shared/conformance)
#
# Corpora live in $OW_FUZZ_BUILD/corpus/<target> (seeded from the
# conformance suites and workflows/ by make_corpus.py the first time) and
# grow from run to run; findings are written to $OW_FUZZ_BUILD/artifacts/.
# Prints one line per target: runs, executions per second, corpus size,
# and FINDING lines. Exits 1 when any target crashed, leaked or timed out,
# 2 on a usage or build error.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${OW_FUZZ_BUILD:-$root/build-fuzz}"
seconds=600
targets=()
for arg in "$@"; do
  case "$arg" in
    --short) seconds=60 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) seconds="$arg" ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/fuzz_*.cc; do
    t="$(basename "$f" .cc)"; targets+=("${t#fuzz_}")
  done
fi

cxx="${CXX:-}"
if [ -z "$cxx" ]; then
  if command -v clang++-14 >/dev/null; then cxx=clang++-14; else cxx=clang++; fi
fi
if ! command -v "$cxx" >/dev/null; then
  echo "run.sh: $cxx not found (apt-get install clang-14)" >&2; exit 2
fi
mkdir -p "$build"
cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 2; }
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j"${BUILD_JOBS:-2}" "${build_targets[@]}" >"$build/build.log" 2>&1 ||
  { tail -40 "$build/build.log" >&2; exit 2; }

for t in "${targets[@]}"; do
  if [ ! -d "$build/corpus/$t" ]; then
    python3 "$here/make_corpus.py" "$build/corpus" >/dev/null || exit 2
    break
  fi
done
mkdir -p "$build/artifacts" "$build/logs"

max_len() {
  case "$1" in
    jsonpath|intrinsics) echo 8192 ;;
    *) echo 65536 ;;
  esac
}

run_one() {
  local t="$1" log="$build/logs/$1.log"
  mkdir -p "$build/corpus/$t"
  "$build/fuzz_$t" "$build/corpus/$t" -dict="$here/fuzz.dict" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 \
    -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1
  echo $? >"$log.rc"
}

pids=()
for t in "${targets[@]}"; do
  if [ ! -x "$build/fuzz_$t" ]; then echo "run.sh: no target $t" >&2; exit 2; fi
  run_one "$t" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "${JOBS:-1}" ]; do wait -n; done
done
wait

failed=0
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  rc="$(cat "$log.rc" 2>/dev/null || echo 1)"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  corpus="$(find "$build/corpus/$t" -type f | wc -l)"
  printf '%-11s runs=%-9s exec/s=%-7s corpus=%-6s %s\n' "$t" "${runs:-?}" \
    "${eps:-?}" "$corpus" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")"
  if [ "$rc" != 0 ]; then
    failed=1
    grep -E "^==[0-9]+==ERROR|runtime error|property violated|SUMMARY|Test unit written" "$log" |
      head -5 | sed "s/^/  FINDING $t: /"
  fi
done
exit "$failed"
