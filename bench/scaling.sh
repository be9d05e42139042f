#!/usr/bin/env bash
# bench/scaling.sh: how throughput, recovery and memory change as the store
# grows. For each size: a fresh store is filled with CLOSED cases (run to the
# end by in-process departments) and OPEN ones (a copy of the demo workflow
# whose departments have no worker, so they stay parked on their three
# tasks); onewindowd is restarted and we measure
#   ready_ms     process start -> first answered gRPC call
#   recovery_ms  what onewindowd logs ("N open cases recovered in X ms")
#   rss_mb       VmRSS after recovery, and after a closed-loop run
#   cases/s, p99 closed loop C=64 with in-process departments.
# Sizes (closed:open) default to "1000:100 100000:1000"; OW_SCALING_SIZES
# overrides, e.g. "1000000:10000" (1M cases takes about 10+ minutes to fill
# on 2 cores). Uses build-release (run bench/run.sh once, or it builds).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OW_BENCH_BUILD:-$repo/build-release}"
out="$repo/bench/out"
sizes="${OW_SCALING_SIZES:-1000:100 100000:1000}"
mkdir -p "$out"
results="$out/scaling.jsonl"
: >"$results"
say() { echo "scaling.sh: $*" >&2; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DOW_BUILD_TESTS=OFF -DOW_BUILD_BENCH=ON >&2
fi
cmake --build "$build" -j2 --target onewindowd ow-bench >&2

tmp="$(mktemp -d -t ow-scaling.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Workflows: the demo, and a parked copy addressed to departments nobody
# serves (HOLDDSF, HOLDCB, HOLDIAM).
mkdir -p "$tmp/wf"
cp "$repo/workflows/food-licence.asl.yaml" "$tmp/wf/"
sed 's#dept:\([A-Z]*\)/#dept:HOLD\1/#' "$repo/workflows/food-licence.asl.yaml" \
  >"$tmp/wf/food-licence-held.asl.yaml"
input="$repo/workflows/food-licence.input.json"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# start LEVEL LOG: starts onewindowd on $data; sets ready_ms.
start() {
  port="$(free_port)"
  addr="127.0.0.1:$port"
  local t0
  t0="$(date +%s%N)"
  "$build/onewindowd" --listen "$addr" --http-listen "" --data-dir "$data" --workflows "$tmp/wf" \
    --log-level "$1" >"$2" 2>&1 &
  server_pid=$!
  ready_ms="$("$build/ow-bench" --addr "$addr" --wait-ready 600 --since-ns "$t0" | jq '.ready_ms')"
}
stop() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }
drive() {
  "$build/ow-bench" --addr "$addr" --data "$input" --json --timeout-s 1800 "$@"
}

for size in $sizes; do
  closed="${size%%:*}"
  open="${size##*:}"
  data="$tmp/data-$closed"
  say "size $closed closed + $open open: filling"
  start warn "$out/scaling-fill.log"
  t_fill="$(date +%s)"
  fill="$(drive --service food-licence --cases "$closed" --concurrency 128 \
    --in-process-departments DSF,CB,IAM --label fill || true)"
  drive --service food-licence-held --cases "$open" --concurrency 64 \
    --submit-only --label park >/dev/null || true
  t_fill=$(( $(date +%s) - t_fill ))
  stop
  disk="$(du -sm "$data" | cut -f1)"

  say "size $closed+$open: restart (log info) for recovery"
  start info "$out/scaling-recover.log"
  rss_recovered="$(rss_mb)"
  recovery_ms="$(sed -n 's/.* \([0-9]*\) open cases recovered in \([0-9]*\) ms.*/\2/p' "$out/scaling-recover.log" | tail -1)"
  recovered="$(sed -n 's/.* \([0-9]*\) open cases recovered in \([0-9]*\) ms.*/\1/p' "$out/scaling-recover.log" | tail -1)"
  ready_info="$ready_ms"
  stop

  say "size $closed+$open: restart (log warn), closed loop C=64"
  start warn "$out/scaling-run.log"
  run="$(drive --service food-licence --cases 3000 --warmup 300 --concurrency 64 \
    --in-process-departments DSF,CB,IAM --label "run-$closed" || true)"
  rss_run="$(rss_mb)"
  stop
  # Anything that did not come out as JSON is recorded as null / 0.
  for v in fill run; do
    if ! printf '%s' "${!v}" | jq -e . >/dev/null 2>&1; then
      say "$v: no JSON result: ${!v}"
      printf -v "$v" 'null'
    fi
  done
  num() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]] && echo "$1" || echo 0; }
  jq -cn --argjson closed "$closed" --argjson open "$open" \
    --argjson recovered "$(num "$recovered")" --argjson recovery_ms "$(num "$recovery_ms")" \
    --argjson ready_ms "$(num "$ready_info")" --argjson rss_recovered "$(num "$rss_recovered")" \
    --argjson rss_run "$(num "$rss_run")" --argjson disk_mb "$(num "$disk")" --argjson fill_s "$(num "$t_fill")" \
    --argjson fill "$fill" --argjson run "$run" \
    '{closed: $closed, open: $open, recovered: $recovered, recovery_ms: $recovery_ms,
      ready_ms: $ready_ms, rss_recovered_mb: $rss_recovered, rss_after_run_mb: $rss_run,
      disk_mb: $disk_mb, fill_s: $fill_s,
      fill_cases_per_s: ($fill.completed_cases_per_s // 0),
      cases_per_s: ($run.completed_cases_per_s // 0), p50_ms: ($run.p50_ms // 0),
      p99_ms: ($run.p99_ms // 0), failed: ($run.failed // 0)}' >>"$results"
  rm -rf "$data"
done

echo
echo "Scaling (closed loop C=64, in-process departments, log warn; recovery at log info)"
printf '%9s %7s %9s %11s %9s %9s %9s %8s %9s %8s %8s\n' closed open recovered recovery_ms ready_ms rss_rec rss_run disk_mb cases/s p50_ms p99_ms
jq -r '[.closed, .open, .recovered, .recovery_ms, .ready_ms, .rss_recovered_mb, .rss_after_run_mb, .disk_mb, .cases_per_s, .p50_ms, .p99_ms] | @tsv' "$results" |
  awk -F'\t' '{ printf "%9d %7d %9d %11d %9.0f %9.1f %9.1f %8d %9.0f %8.2f %8.2f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'
