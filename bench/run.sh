#!/usr/bin/env bash
# bench/run.sh: builds Release, starts a fresh onewindowd (temp data dir,
# free 127.0.0.1 port, workflows/ deployed) and one ow-adapter-sim per
# department, then measures:
#   closed loop C=1, 8, 64; open loop at 50% and 90% of the closed-loop peak;
#   the ceilings (synced RocksDB batches, gRPC unary echo);
#   the engine alone, in process (ow-engine-bench: no gRPC, same store);
#   the BullMQ peer (when redis-server and npm are usable);
#   the micro-benchmarks.
# Prints one table and draws bench/out/latency.png (p50/p99 vs load).
# Latency runs from a case's due time (open loop) or send (closed loop) to
# its terminal change on the watch stream; late_p99 is how late the driver
# itself sent its submits (open loop) and rply_p99 how long a submit took
# to its handled reply, both at the 99th percentile: the part of the tail
# spent before the engine ran the case.
# Stops everything it started. Bounded: about 5-8 minutes on 2 cores once
# built.
#
# Environment knobs (defaults in brackets):
#   OW_BENCH_BUILD      build dir [build-release]
#   OW_BENCH_LOG_LEVEL  onewindowd log level for the main series [warn]
#   OW_BENCH_SECONDS    target length of each measured run, s [8]
#   OW_BENCH_PEER       0 skips the BullMQ peer [1]
#   OW_BENCH_MICRO      0 skips the micro-benchmarks [1]
#   OW_BENCH_SIM        ow-adapter-sim binary to use [$build/ow-adapter-sim]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OW_BENCH_BUILD:-$repo/build-release}"
out="$repo/bench/out"
shared="$repo/../shared"
log_level="${OW_BENCH_LOG_LEVEL:-warn}"
secs="${OW_BENCH_SECONDS:-8}"
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

say() { echo "run.sh: $*" >&2; }

# ---- build (only what is needed) ----
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DOW_BUILD_TESTS=OFF -DOW_BUILD_BENCH=ON >&2
fi
say "building Release targets in $build"
cmake --build "$build" -j2 --target onewindowd ow-adapter-sim ow-bench \
  ow-ceilings ow-engine-bench ow-micro-bench >&2

# ---- tools ----
if ! command -v gnuplot >/dev/null; then
  say "installing gnuplot-nox"
  (apt-get install -y gnuplot-nox >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && apt-get install -y gnuplot-nox >/dev/null 2>&1; }) ||
    say "gnuplot-nox could not be installed: no plot"
fi

tmp="$(mktemp -d -t ow-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; fi
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

server_pid=""
# Credentials of the TLS + auth runs: a development CA and server
# certificate, an admin token for ow-bench, one department token per sim.
secure_dir="$tmp/secure"
make_secure() {
  [ -f "$secure_dir/auth.yaml" ] && return 0
  mkdir -p "$secure_dir"
  "$repo/deploy/make-dev-certs.sh" "$secure_dir" >/dev/null
  echo "principals:" >"$secure_dir/auth.yaml"
  "$build/owctl" auth token new --name bench --role admin \
    --out "$secure_dir/token-bench" 2>/dev/null | grep '^- ' >>"$secure_dir/auth.yaml"
  for d in DSF CB IAM; do
    "$build/owctl" auth token new --name "sim-$d" --role department --department "$d" \
      --out "$secure_dir/token-$d" 2>/dev/null | grep '^- ' >>"$secure_dir/auth.yaml"
  done
}
# client_args WHO: the credential flags of a client (bench, DSF, ...) when
# the server runs with TLS and auth.
client_args() {
  if [ "${secure:-0}" = 1 ]; then
    echo --tls-ca "$secure_dir/ca.crt" --token-file "$secure_dir/token-$1"
  fi
}
# start_server LOG_LEVEL: fresh data dir, free port, waits until it serves.
# $sim_concurrency (default 8) sets the sims' --concurrency; secure=1 runs
# the server with TLS and an auth file.
start_server() {
  local level="$1"
  local extra=()
  if [ "${secure:-0}" = 1 ]; then
    make_secure
    extra=(--auth-file "$secure_dir/auth.yaml" --tls-cert "$secure_dir/server.crt"
      --tls-key "$secure_dir/server.key")
  fi
  port="$(free_port)"
  addr="127.0.0.1:$port"
  rm -rf "$tmp/data"
  "$build/onewindowd" --listen "$addr" --data-dir "$tmp/data" \
    --workflows "$repo/workflows" --log-level "$level" \
    --http-listen "${http_addr:-}" "${extra[@]}" \
    >"$out/onewindowd.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  # shellcheck disable=SC2046
  "$build/ow-bench" --addr "$addr" --wait-ready 20 $(client_args bench) >/dev/null ||
    { say "onewindowd did not start"; tail -20 "$out/onewindowd.log" >&2; exit 1; }
  sim_pids=()
  for d in DSF CB IAM; do
    # shellcheck disable=SC2046
    "${OW_BENCH_SIM:-$build/ow-adapter-sim}" --department "$d" --addr "$addr" --latency-ms 0 \
      --concurrency "${sim_concurrency:-8}" --max-in-flight 1024 --log-level warn \
      --summary-ms 600000 $(client_args "$d") >"$out/sim-$d.log" 2>&1 &
    sim_pids+=($!)
    pids+=($!)
  done
  sleep 0.5
}
stop_server() {
  for p in "${sim_pids[@]}" "$server_pid"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

# bench LABEL ARGS...: one ow-bench run, its JSON appended to results.
bench() {
  local label="$1"
  shift
  say "$label"
  local line s0 s1 d0 d1
  s0="$(cpu_ticks "$server_pid")"
  d0="$(cpu_ticks "${sim_pids[@]}")"
  # shellcheck disable=SC2046
  line="$("$build/ow-bench" --addr "$addr" --service food-licence \
    --data "$repo/workflows/food-licence.input.json" --json --label "$label" \
    --timeout-s 120 $(client_args bench) "$@" || true)"
  s1="$(cpu_ticks "$server_pid")"
  d1="$(cpu_ticks "${sim_pids[@]}")"
  if [ -z "$line" ]; then say "$label: no result"; return; fi
  # CPU per case (includes the warm-up cases of the run).
  line="$(echo "$line" | jq -c --argjson s "$((s1 - s0))" --argjson d "$((d1 - d0))" --argjson hz "$hz" \
    '. + {server_cpu_us_per_case: (if (.completed + .warmup) > 0 then $s * 1e6 / $hz / (.completed + .warmup) else 0 end),
          sims_cpu_us_per_case: (if (.completed + .warmup) > 0 then $d * 1e6 / $hz / (.completed + .warmup) else 0 end)}')"
  echo "$line" >>"$results"
  echo "$line" | jq -r '"  \(.completed_cases_per_s|floor) cases/s, p50 \(.p50_ms*100|round/100) ms, p99 \(.p99_ms*100|round/100) ms, failed \(.failed)"' >&2
}

hz="$(getconf CLK_TCK)"
# cpu_ticks PID...: user+system CPU ticks of the processes, summed.
cpu_ticks() {
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

# cases_for RATE: enough cases for about $secs seconds at RATE, bounded.
cases_for() {
  awk -v r="$1" -v s="$secs" -v lo="$2" -v hi="$3" \
    'BEGIN { n = int(r * s); if (n < lo) n = lo; if (n > hi) n = hi; print n }'
}

# ---- the engine ----
start_server "$log_level"
say "onewindowd on $addr (log level $log_level), sims DSF CB IAM"
bench "warm-up C=64" --cases 2000 --concurrency 64
bench "closed C=1" --cases 400 --concurrency 1 --warmup 20
c1="$(tail -1 "$results" | jq '.completed_cases_per_s')"
bench "closed C=8" --cases "$(cases_for "$(awk -v x="$c1" 'BEGIN{print x*5}')" 1000 8000)" \
  --concurrency 8 --warmup 100
c8="$(tail -1 "$results" | jq '.completed_cases_per_s')"
bench "closed C=64" --cases "$(cases_for "$(awk -v x="$c8" 'BEGIN{print x*1.5}')" 2000 30000)" \
  --concurrency 64 --warmup 500
peak="$(jq -s '[.[] | select(.label | startswith("closed")) | .completed_cases_per_s] | max' "$results")"
for pct in 50 90; do
  rate="$(awk -v p="$peak" -v q="$pct" 'BEGIN { printf "%.0f", p * q / 100 }')"
  bench "open ${pct}% (${rate}/s)" --rate "$rate" \
    --cases "$(cases_for "$rate" 500 30000)" --warmup "$(cases_for "$rate" 100 1000 | awk '{print int($1/8)}')" \
    --max-in-flight 4096
done
stop_server

# The same C=64 run with the server logging at info (its default level):
# what per-case logging costs.
if [ "$log_level" != "info" ]; then
  start_server info
  bench "closed C=64, log info" --cases "$(cases_for "$(awk -v x="$c8" 'BEGIN{print x*1.5}')" 2000 30000)" \
    --concurrency 64 --warmup 500
  stop_server
fi

# Sims at --concurrency 1 and 64 (the main series uses 8): no cliff.
for sc in 1 64; do
  sim_concurrency=$sc start_server "$log_level"
  bench "closed C=64, sims c$sc" --cases "$(cases_for "$(awk -v x="$c8" 'BEGIN{print x*1.5}')" 2000 30000)" \
    --concurrency 64 --warmup 500
  stop_server
done

# The same C=64 run while /metrics is scraped every second over HTTP.
http_addr="127.0.0.1:$(free_port)"
start_server "$log_level"
if curl -fsS "http://$http_addr/metrics" >/dev/null 2>&1; then
  ( while kill -0 "$server_pid" 2>/dev/null; do
      curl -fsS "http://$http_addr/metrics" >/dev/null 2>&1 || true
      sleep 1
    done ) &
  scraper=$!
  pids+=("$scraper")
  bench "closed C=64, scrape 1s" --cases "$(cases_for "$(awk -v x="$c8" 'BEGIN{print x*1.5}')" 2000 30000)" \
    --concurrency 64 --warmup 500
  kill "$scraper" 2>/dev/null || true
else
  say "no /metrics on $http_addr: scrape run skipped"
fi
stop_server
http_addr=""

# The same C=64 run over TLS with an auth file (every call authenticated).
secure=1 start_server "$log_level"
secure=1 bench "closed C=64, TLS+auth" --cases "$(cases_for "$(awk -v x="$c8" 'BEGIN{print x*1.5}')" 2000 30000)" \
  --concurrency 64 --warmup 500
stop_server

# ---- ceilings ----
say "ceilings (RocksDB synced batches, gRPC echo)"
ceil="$("$build/ow-ceilings" --seconds 2 --threads 1,8,64 --json --dir "$tmp/ceil")"
echo "$ceil" >"$out/ceilings.json"

# ---- the engine alone ----
# The same cases with no network: what the shards, the dispatcher and the
# store cost, and so how much of srv_us/c the gRPC layer adds.
say "engine in process (ow-engine-bench, C=64, 3 runs)"
engine_alone=""
for run in 1 2 3; do
  line="$("$build/ow-engine-bench" --workflows "$repo/workflows" \
    --service food-licence --cases 20000 --concurrency 64 2>>"$out/engine-bench.log" || true)"
  engine_alone="$engine_alone  $line"$'\n'
done

# ---- BullMQ peer ----
peer=""
if [ "${OW_BENCH_PEER:-1}" != 0 ]; then
  if ! command -v redis-server >/dev/null; then
    say "installing redis-server"
    (apt-get install -y redis-server >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && apt-get install -y redis-server >/dev/null 2>&1; }) ||
      say "redis-server could not be installed"
  fi
  if command -v redis-server >/dev/null && command -v npm >/dev/null &&
    [ -x "$shared/peers/bullmq/bullmq-bench.sh" ]; then
    say "BullMQ peer (n 2000, c 32)"
    rc=0
    timeout 240 "$shared/peers/bullmq/bullmq-bench.sh" --n 2000 --c 32 --json \
      >"$tmp/bullmq.out" 2>"$out/bullmq.log" || rc=$?
    echo "bullmq-bench.sh exit status $rc" >>"$out/bullmq.log"
    peer="$(grep '^{' "$tmp/bullmq.out" | tail -1 || true)"
    if ! echo "$peer" | jq -e .cases_per_s >/dev/null 2>&1; then
      say "BullMQ peer failed (see bench/out/bullmq.log)"
      peer=""
    else
      echo "$peer" >"$out/bullmq.json"
    fi
  else
    say "BullMQ peer skipped: redis-server, npm or the peer script missing"
  fi
fi

# ---- micro-benchmarks ----
if [ "${OW_BENCH_MICRO:-1}" != 0 ]; then
  say "micro-benchmarks"
  "$build/ow-micro-bench" --benchmark_min_time=0.3 >"$out/micro.txt" 2>/dev/null || true
fi

# ---- report ----
echo
echo "OneWindow food-licence (3 departments + licence = 4 tasks/case; log level $log_level; sims latency 0)"
printf '%-24s %7s %6s %8s %8s %8s %8s %8s %9s %8s %8s %8s %8s\n' run cases failed cases/s tasks/s p50_ms p90_ms p99_ms p99.9_ms late_p99 rply_p99 srv_us/c sims_us/c
jq -r '[.label, .completed, .failed + .unfinished, .completed_cases_per_s, .tasks_per_s, .p50_ms, .p90_ms, .p99_ms, .p999_ms, .send_delay_p99_ms, .submit_reply_p99_ms, .server_cpu_us_per_case, .sims_cpu_us_per_case] | @tsv' "$results" |
  awk -F'\t' '{ printf "%-24s %7d %6d %8.0f %8.0f %8.2f %8.2f %8.2f %9.2f %8.2f %8.2f %8.0f %8.0f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
echo
peak_c="$(jq -s '[.[] | select(.label | test("^closed C=[0-9]+$")) | .completed_cases_per_s] | max' "$results")"
echo "$ceil" | jq -r --argjson peak "$peak_c" --slurpfile runs "$results" '
  def f0: . * 1 | floor;
  def pct: (. * 1000 | round) / 10 | tostring + "%";
  "Ceilings (same run): engine peak \($peak | f0) cases/s = \($peak * 5 | f0) transitions/s (1 submit + 4 task answers per case)",
  "  RocksDB synced, 1 transition/batch : \(.rocksdb_single_transitions_per_s | f0) transitions/s (\(.rocksdb_single_ms_per_sync*100|round/100) ms/sync) -> engine at \($peak * 5 / .rocksdb_single_transitions_per_s | pct)",
  "  RocksDB synced, 64 transitions/batch: \(.rocksdb_group64_transitions_per_s | f0) transitions/s (\(.rocksdb_group64_ms_per_sync*100|round/100) ms/sync) -> engine at \($peak * 5 / .rocksdb_group64_transitions_per_s | pct)",
  (.grpc_echo_calls_per_s | to_entries | sort_by(.key | tonumber)[] | .key as $k | .value as $v |
    ($runs | map(select(.label == "closed C=\($k)")) | first) as $r |
    "  gRPC unary echo, \($k) threads: \($v | f0) calls/s" +
    (if $r then " -> engine closed C=\($k): \($r.completed_cases_per_s | f0) cases/s = \($r.completed_cases_per_s / $v | pct) of the echo call rate" else "" end))'
if [ -n "$engine_alone" ]; then
  echo "Engine in process, no gRPC (ow-engine-bench, synced store):"
  printf '%s' "$engine_alone"
fi
if [ -n "$peer" ]; then
  echo "$peer" | jq -r --argjson peak "$peak_c" '"BullMQ peer (n \(.n), c \(.c), appendfsync everysec): \(.cases_per_s) cases/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms -> OneWindow peak (synced) = \($peak / .cases_per_s * 100 | round / 100)x"'
else
  echo "BullMQ peer: not run"
fi
if [ -s "$out/micro.txt" ]; then
  echo
  echo "Micro-benchmarks (bench/out/micro.txt):"
  echo "  benchmark                                 wall        CPU"
  grep '^BM_' "$out/micro.txt" | awk '{ printf "  %-36s %9s %s %9s %s\n", $1, $2, $3, $4, $5 }'
fi

# ---- plot ----
if command -v gnuplot >/dev/null; then
  for mode in closed open; do
    jq -r --arg m "$mode" 'select(.mode == $m and (.label | test("^(closed C=[0-9]+$|open)"))) |
      [.completed_cases_per_s, .p50_ms, .p99_ms, (.label | gsub(" "; "_"))] | @tsv' \
      "$results" | sort -n >"$out/latency-$mode.dat"
  done
  gnuplot <<EOF 2>/dev/null || say "gnuplot failed"
set terminal pngcairo size 900,560 noenhanced
set output "$out/latency.png"
set title "OneWindow food-licence: latency vs load (durable commits, 2 cores, log $log_level)"
set xlabel "achieved cases/s"
set ylabel "submit -> SUCCEEDED latency, ms"
set logscale y
set grid
set key top left
plot "$out/latency-closed.dat" using 1:2 with linespoints pt 7 lc 1 title "closed loop p50", \
     "$out/latency-closed.dat" using 1:3 with linespoints pt 5 lc 1 dt 2 title "closed loop p99", \
     "$out/latency-open.dat" using 1:2 with linespoints pt 7 lc 2 title "open loop p50", \
     "$out/latency-open.dat" using 1:3 with linespoints pt 5 lc 2 dt 2 title "open loop p99", \
     "$out/latency-closed.dat" using 1:3:4 with labels offset 0,1 font ",8" notitle, \
     "$out/latency-open.dat" using 1:3:4 with labels offset 0,1 font ",8" notitle
EOF
  [ -f "$out/latency.png" ] && echo && echo "Plot: bench/out/latency.png"
fi
