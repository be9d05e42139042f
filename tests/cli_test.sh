#!/usr/bin/env bash
# The owctl contract against a real onewindowd on 127.0.0.1: outputs and
# exit codes (0 ok, 1 invalid/failed, 2 usage, 3 RPC/connection error).
#   cli_test.sh ONEWINDOWD OWCTL SIM WORKFLOWS_DIR
set -u
ONEWINDOWD="$1" OWCTL="$2" SIM="$3" WF="$4"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0 passes=0
check() { # check NAME EXPECTED_RC ACTUAL_RC
  if [ "$2" = "$3" ]; then passes=$((passes + 1)); else
    failures=$((failures + 1)); echo "FAIL $1: exit $3, want $2"; fi
}
expect() { # expect NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else
    failures=$((failures + 1)); echo "FAIL $1: $3"; fi
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ONEWINDOW_ADDR="127.0.0.1:$port"

# No server yet: connection error is exit 3.
"$OWCTL" --timeout-ms 500 workflow list >/dev/null 2>&1; check "no server" 3 $?

"$ONEWINDOWD" --listen "$ONEWINDOW_ADDR" --data-dir "$tmp/data" >"$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do "$OWCTL" workflow list >/dev/null 2>&1 && break; sleep 0.1; done

out=$("$OWCTL" workflow deploy "$WF/food-licence.asl.yaml"); check "deploy" 0 $?
expect "deploy prints NAME@VERSION" "$([ "$out" = "food-licence@1" ]; echo $?)" "got '$out'"
out=$("$OWCTL" workflow deploy "$WF/food-licence.asl.yaml")
expect "redeploy unchanged" "$([ "$out" = "food-licence@1" ]; echo $?)" "got '$out'"
"$OWCTL" workflow list | grep -q food-licence; check "list" 0 $?
"$OWCTL" workflow get food-licence@1 | grep -q DepartmentOpinions; check "get" 0 $?
"$OWCTL" workflow get nope >/dev/null 2>&1; check "get unknown" 1 $?
"$OWCTL" workflow validate "$WF/food-licence.asl.yaml" >/dev/null; check "validate ok" 0 $?
echo '{"StartAt": "X", "States": {}}' >"$tmp/bad.json"
out=$("$OWCTL" workflow validate "$tmp/bad.json"); check "validate bad" 1 $?
expect "validate names file and path" "$(echo "$out" | grep -q "^$tmp/bad.json: \\$"; echo $?)" "got '$out'"
"$OWCTL" workflow frobnicate >/dev/null 2>&1; check "usage error" 2 $?

id=$("$OWCTL" case submit --service food-licence --data "$WF/food-licence.input.json" --request-id cli-1)
check "submit" 0 $?
expect "submit prints the case number alone" "$([[ "$id" =~ ^[A-Z]{2,4}-[0-9]{4}-[0-9]{6,}-[0-9]$ ]]; echo $?)" "got '$id'"
id2=$("$OWCTL" case submit --service food-licence --data "$WF/food-licence.input.json" --request-id cli-1)
expect "same request id, same case" "$([ "$id" = "$id2" ]; echo $?)" "$id vs $id2"
"$OWCTL" case submit --service nope --data-json '{}' >/dev/null 2>&1; check "submit unknown service" 1 $?
"$OWCTL" case submit --service food-licence --data-json '{oops' >/dev/null 2>&1; check "submit bad json" 1 $?

# A clerk acts for each department by hand.
for d in DSF CB IAM; do
  tok=$("$OWCTL" --json task activate --department "$d" --max 1 |
    python3 -c 'import json,sys; t=json.load(sys.stdin); print(t[0]["token"] if t else "")')
  expect "activate $d" "$([ -n "$tok" ]; echo $?)" "no task"
  "$OWCTL" task complete "$tok" --result "$WF/approved.result.json" >/dev/null; check "complete $d" 0 $?
  "$OWCTL" task complete "$tok" --result-json '{}' >/dev/null 2>&1; check "complete twice $d" 1 $?
done
tok=$("$OWCTL" --json task activate --department IAM --max 1 |
  python3 -c 'import json,sys; t=json.load(sys.stdin); print(t[0]["token"] if t else "")')
"$OWCTL" task fail "$tok" --error Dept.Failure --cause "printer jam" >/dev/null; check "fail" 0 $?
# Retried after 1 s: a simulated IAM finishes it.
"$SIM" --department IAM >"$tmp/sim.log" 2>&1 &
pids+=($!)
"$OWCTL" case watch "$id" >/dev/null; check "watch until succeeded" 0 $?
st=$("$OWCTL" --json case get "$id" | python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["status"], c["output"]["decision"], c["service"], c["version"])')
expect "case get --json" "$([ "$st" = "SUCCEEDED granted food-licence 1" ]; echo $?)" "got '$st'"
"$OWCTL" case history "$id" | grep -q TaskFailed; check "history shows the failure" 0 $?
"$OWCTL" case get OW-0000999999 >/dev/null 2>&1; check "get unknown case" 1 $?

id3=$("$OWCTL" case submit --service food-licence --data "$WF/food-licence.input.json")
"$OWCTL" case cancel "$id3" --reason "applicant withdrew" >/dev/null; check "cancel" 0 $?
st=$("$OWCTL" --json case get "$id3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
expect "cancelled" "$([ "$st" = CANCELLED ]; echo $?)" "got '$st'"
"$OWCTL" case cancel "$id3" --reason again >/dev/null 2>&1; check "cancel twice" 1 $?

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
