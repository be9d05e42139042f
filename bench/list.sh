#!/usr/bin/env bash
# bench/list.sh: how fast the counter finds cases as the store grows.
# For each size N (default "1000 1000000"; OW_LIST_SIZES overrides) a fresh
# onewindowd gets N food-licence cases submitted with no department serving
# (so they stay open, with their tasks, timers and index entries), then
# ow-bench times 200 ListCases pages of 50 for each filter: none, service,
# running, department (open task at DSF), applicant (case-insensitive name).
# Prints one table; JSON lines go to bench/out/list.jsonl.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OW_BENCH_BUILD:-$repo/build}"
out="$repo/bench/out"
sizes="${OW_LIST_SIZES:-1000 1000000}"
mkdir -p "$out"
results="$out/list.jsonl"
: >"$results"
tmp="$(mktemp -d /tmp/ow-list.XXXXXX)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
cmake --build "$build" -j2 --target onewindowd ow-bench >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
addr="127.0.0.1:$port"
for n in $sizes; do
  rm -rf "$tmp/data"
  "$build/onewindowd" --listen "$addr" --http-listen "" --data-dir "$tmp/data" \
    --workflows "$repo/workflows" --log-level warn >"$out/list-server.log" 2>&1 &
  server=$!
  "$build/ow-bench" --addr "$addr" --wait-ready 30 >/dev/null
  t0=$SECONDS
  "$build/ow-bench" --addr "$addr" --service food-licence \
    --data "$repo/workflows/food-licence.input.json" --cases "$n" \
    --concurrency 128 --submit-only --no-request-ids --timeout-s 3600 >/dev/null
  echo "list.sh: $n cases submitted in $((SECONDS - t0)) s" >&2
  for f in none service running department applicant; do
    "$build/ow-bench" --addr "$addr" --service food-licence --list 200 \
      --list-filter "$f" --label "$n" >>"$results"
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
echo "ListCases, 50 per page, 200 pages walked with page tokens (nproc $(nproc))"
printf '%9s %-11s %8s %8s %8s\n' cases filter p50_ms p99_ms max_ms
jq -r '[.label, .list_filter, .list_p50_ms, .list_p99_ms, .list_max_ms] | @tsv' "$results" |
  awk -F'\t' '{ printf "%9s %-11s %8.2f %8.2f %8.2f\n", $1, $2, $3, $4, $5 }'
