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

CAL="$WF/../deploy/calendars"
"$ONEWINDOWD" --listen "$ONEWINDOW_ADDR" --data-dir "$tmp/data" --http-listen "" --calendar-dir "$CAL" >"$tmp/server.log" 2>&1 &
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
sim_pid=$!
pids+=($sim_pid)
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

# --- The counter: due date, receipt, documents, listings ------------------------
# From here on the departments answer by hand only.
kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null
json_field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$1"; }
sha_a=$(printf 'floor plan' | sha256sum | cut -d' ' -f1)
sha_b=$(printf 'lease' | sha256sum | cut -d' ' -f1)
ca=$("$OWCTL" case submit --service food-licence --data "$WF/food-licence.input.json" \
  --document "id=doc-1,name=floor-plan.pdf,type=application/pdf,size=10,sha256=$sha_a")
check "submit with a document" 0 $?
"$OWCTL" --json case get "$ca" >"$tmp/ca.json"; check "get with due date" 0 $?
due=$(json_field due_date <"$tmp/ca.json")
# The day of submission in Macau (UTC+8), and the 30th working day after it
# by the same calendar file the server reads.
day=$(python3 -c 'import datetime,json,sys; c=json.load(open(sys.argv[1]))
print((datetime.datetime.fromtimestamp(c["created_at_ms"]/1000, datetime.timezone.utc) + datetime.timedelta(hours=8)).date())' "$tmp/ca.json")
want=$("$OWCTL" calendar due --from "$day" --working-days 30 --calendar "$CAL/macau.yaml" 2>/dev/null)
check "calendar due" 0 $?
expect "due date = calendar due (30 working days, macau)" "$([ -n "$due" ] && [ "$due" = "$want" ]; echo $?)" "case says '$due', calendar due says '$want' from $day"
"$OWCTL" case get "$ca" | grep -qx "Due: *$due"; check "case get shows Due" 0 $?
"$OWCTL" case receipt "$ca" >"$tmp/receipt" 2>"$tmp/receipt.err"; check "receipt" 0 $?
for line in "Case number *$ca" "Service *飲食場所牌照" " *Licença de estabelecimento de comidas e bebidas" \
    " *Food establishment licence" " *(food-licence, version 1)" "Due date *$due (30 working days, calendar macau)" \
    "Status *RUNNING" "Documents *1. floor-plan.pdf  application/pdf  10 bytes  sha256 $sha_a"; do
  expect "receipt line '$line'" "$(grep -qx -- "$line" "$tmp/receipt"; echo $?)" "$(cat "$tmp/receipt" "$tmp/receipt.err")"
done
"$OWCTL" --json case receipt "$ca" >"$tmp/receipt.json"; check "receipt --json" 0 $?
r=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(r["case_id"], r["title"]["en"], r["title"]["pt"], r["due_date"], r["deadline_working_days"], r["calendar"], len(r["documents"]), r["documents"][0]["sha256"])' "$tmp/receipt.json")
expect "receipt --json fields" "$([ "$r" = "$ca Food establishment licence Licença de estabelecimento de comidas e bebidas $due 30 macau 1 $sha_a" ]; echo $?)" "got '$r'"
bad="${ca%?}$(( (${ca: -1} + 1) % 10 ))"
"$OWCTL" case receipt "$bad" >/dev/null 2>"$tmp/err"; check "receipt with a wrong check digit" 1 $?
expect "check digit named" "$(grep -q 'INVALID_ARGUMENT.*check digit' "$tmp/err"; echo $?)" "$(cat "$tmp/err")"
"$OWCTL" case documents add "$ca" --document "id=doc-2,name=lease.pdf,type=application/pdf,size=5,sha256=$sha_b" >/dev/null
check "documents add" 0 $?
n=$("$OWCTL" --json case get "$ca" | json_field documents.1.name)
expect "second document on the case" "$([ "$n" = lease.pdf ]; echo $?)" "got '$n'"
"$OWCTL" case receipt "$ca" | grep -qx " *2. lease.pdf  application/pdf  5 bytes  sha256 $sha_b"
check "receipt lists the added document" 0 $?
"$OWCTL" case documents add "$ca" --document "id=doc-3,name=x.pdf,type=application/pdf,size=5,sha256=" >/dev/null 2>&1
check "document without a digest" 2 $?

cb=$("$OWCTL" case submit --service food-licence --data "$WF/food-licence.input.json")
"$OWCTL" --json case list --service food-licence --status RUNNING >"$tmp/list.json"; check "list filtered" 0 $?
ids=$(python3 -c 'import json,sys; print(" ".join(sorted(c["id"] for c in json.load(open(sys.argv[1]))["cases"])))' "$tmp/list.json")
expect "running food-licence cases" "$([ "$ids" = "$(printf '%s\n' "$ca" "$cb" | sort | tr '\n' ' ' | sed 's/ $//')" ]; echo $?)" "got '$ids'"
"$OWCTL" --json case list --department DSF --limit 1 >"$tmp/p1.json"; check "list page 1" 0 $?
tokn=$(json_field next_page_token <"$tmp/p1.json")
expect "page token given" "$([ -n "$tokn" ]; echo $?)" "$(cat "$tmp/p1.json")"
"$OWCTL" case list --department DSF --limit 1 | tail -n 1 | grep -qx "next_page_token: $tokn"
check "page token printed last" 0 $?
p2=$("$OWCTL" --json case list --department DSF --limit 1 --page-token "$tokn" | json_field cases.0.id)
p1=$(json_field cases.0.id <"$tmp/p1.json")
expect "page 2 continues" "$([ -n "$p2" ] && [ "$p2" != "$p1" ]; echo $?)" "$p1 then $p2"
"$OWCTL" case list --status SUCCEEDED --limit 1 --page-token "$tokn" >/dev/null 2>&1
check "page token of another query" 1 $?

# --- The analyst: diff against running cases, migrate -------------------------
# Case cb moves on to IssueLicence; ca stays in the opinions.
for d in DSF CB IAM; do
  tok=$("$OWCTL" --json task activate --department "$d" --max 10 --lease-ms 30000 |
    python3 -c 'import json,sys; print(next((t["token"] for t in json.load(sys.stdin) if t["case_id"]==sys.argv[1]), ""))' "$cb")
  "$OWCTL" task complete "$tok" --result "$WF/approved.result.json" >/dev/null; check "complete $d for $cb" 0 $?
done
for _ in $(seq 1 50); do
  "$OWCTL" --json case get "$cb" | grep -q '"current_states":\["IssueLicence"\]' && break; sleep 0.1
done
sed 's/IssueLicence/IssuePermit/g' "$WF/food-licence.asl.yaml" >"$tmp/food-licence-v2.asl.yaml"
v=$("$OWCTL" workflow deploy "$tmp/food-licence-v2.asl.yaml" --name food-licence --service-file "$WF/food-licence.service.yaml")
expect "deploy v2" "$([ "$v" = food-licence@2 ]; echo $?)" "got '$v'"
"$OWCTL" workflow diff food-licence@1 food-licence@2 >"$tmp/diff"; check "diff deployed versions" 0 $?
for line in "+ IssuePermit (Task)" "- IssueLicence (Task)" \
    "running cases of food-licence@1: 1 could move to food-licence@2, 1 could not" \
    "  $cb  cannot move: state \"IssueLicence\" is not in food-licence@2"; do
  expect "diff line '$line'" "$(grep -qxF -- "$line" "$tmp/diff"; echo $?)" "$(cat "$tmp/diff")"
done
expect "diff: $ca could move" "$(grep -q "^  $ca  could move (at " "$tmp/diff"; echo $?)" "$(cat "$tmp/diff")"
"$OWCTL" case migrate "$cb" --to-version 2 >/dev/null 2>"$tmp/err"; check "migrate refused" 1 $?
expect "refusal names the state" "$(grep -q 'IssueLicence' "$tmp/err"; echo $?)" "$(cat "$tmp/err")"
"$OWCTL" case migrate "$ca" --to-version 2 >/dev/null; check "migrate" 0 $?
v=$("$OWCTL" --json case get "$ca" | json_field version)
expect "case runs version 2" "$([ "$v" = 2 ]; echo $?)" "got '$v'"
"$OWCTL" case history "$ca" | grep -q CaseMigrated; check "migration in history" 0 $?
"$OWCTL" case verify "$ca" >/dev/null; check "verify after migration" 0 $?

# --- A department asks the citizen for more, through the counter's queue -------
"$OWCTL" workflow deploy "$WF/tax-clearance.asl.yaml" >/dev/null; check "deploy tax-clearance" 0 $?
ct=$("$OWCTL" case submit --service tax-clearance --data "$WF/tax-clearance.input.json")
take() { # take DEPARTMENT CASE -> the full task JSON of that case, or nothing
  for _ in $(seq 1 50); do
    t=$("$OWCTL" --json task activate --department "$1" --max 20 --lease-ms 30000 |
      python3 -c 'import json,sys; print(next((json.dumps(t) for t in json.load(sys.stdin) if t["case_id"]==sys.argv[1]), ""))' "$2")
    [ -n "$t" ] && { echo "$t"; return; }
    sleep 0.1
  done
}
for d in DSF FSS; do
  tok=$(take "$d" "$ct" | json_field token)
  "$OWCTL" task complete "$tok" --result-json '{"approved": true}' >/dev/null; check "tax-clearance: $d check" 0 $?
done
tok=$(take DSF "$ct" | json_field token)
"$OWCTL" task fail "$tok" --error Dept.MoreDocumentsNeeded --cause "power of attorney" >/dev/null
check "DSF asks for a document" 0 $?
take COUNTER "$ct" >"$tmp/counter.json"
r=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); i=t["input"]
print(t["task_type"], i["for_department"], i["requested"])' "$tmp/counter.json")
expect "the counter's queue shows the request" "$([ "$r" = "more-documents DSF power of attorney" ]; echo $?)" "got '$r' from $(cat "$tmp/counter.json")"
sha_p=$(printf 'power of attorney' | sha256sum | cut -d' ' -f1)
"$OWCTL" task complete "$(json_field token <"$tmp/counter.json")" --result-json \
  "{\"documents\": [{\"id\": \"doc-9\", \"name\": \"poa.pdf\", \"media_type\": \"application/pdf\", \"size_bytes\": 17, \"sha256\": \"$sha_p\"}]}" >/dev/null
check "counter completes with the document" 0 $?
take DSF "$ct" >"$tmp/dsf.json"
expect "DSF gets the document" "$(grep -q "$sha_p" "$tmp/dsf.json"; echo $?)" "$(cat "$tmp/dsf.json")"
"$OWCTL" task complete "$(json_field token <"$tmp/dsf.json")" --result-json '{"approved": true, "certificate_no": "C-1"}' >/dev/null
timeout 30 "$OWCTL" case watch "$ct" >"$tmp/watch.out"; check "tax-clearance resumes and ends" 0 $?
dec=$("$OWCTL" --json case get "$ct" | json_field output.decision)
expect "certificate issued" "$([ "$dec" = issued ]; echo $?)" "got '$dec'"

# --- An analyst who may not list cases still gets the diff ----------------------
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addr2="127.0.0.1:$port2"
{ echo "principals:"
  "$OWCTL" auth token new --name ana --role analyst --out "$tmp/ana.token" | grep '^- '
  "$OWCTL" auth token new --name clerk --role counter --out "$tmp/clerk.token" | grep '^- '
} >"$tmp/auth.yaml"
"$ONEWINDOWD" --listen "$addr2" --data-dir "$tmp/data2" --http-listen "" --auth-file "$tmp/auth.yaml" >"$tmp/server2.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do "$OWCTL" --addr "$addr2" --token-file "$tmp/ana.token" workflow list >/dev/null 2>&1 && break; sleep 0.1; done
A2=(--addr "$addr2" --token-file "$tmp/ana.token")
"$OWCTL" "${A2[@]}" workflow deploy "$WF/food-licence.asl.yaml" >/dev/null; check "analyst deploys" 0 $?
"$OWCTL" "${A2[@]}" workflow deploy "$tmp/food-licence-v2.asl.yaml" --name food-licence --service-file "$WF/food-licence.service.yaml" >/dev/null
"$OWCTL" --addr "$addr2" --token-file "$tmp/clerk.token" case submit --service food-licence --data "$WF/food-licence.input.json" >/dev/null
check "counter submits" 0 $?
"$OWCTL" "${A2[@]}" case list >/dev/null 2>&1; check "analyst may not list cases" 3 $?
"$OWCTL" "${A2[@]}" workflow diff food-licence@1 food-licence@2 >"$tmp/diff" 2>"$tmp/err"; check "analyst diff" 0 $?
expect "analyst diff shows the definitions' diff" "$(grep -qxF '+ IssuePermit (Task)' "$tmp/diff"; echo $?)" "$(cat "$tmp/diff")"
expect "analyst diff notes the cases" "$(grep -q '^owctl: note: the running cases of food-licence@1 were not looked at: this principal may not list cases' "$tmp/err"; echo $?)" "$(cat "$tmp/err")"
expect "no bare PERMISSION_DENIED error" "$(! grep -q '^owctl: PERMISSION_DENIED' "$tmp/err"; echo $?)" "$(cat "$tmp/err")"
u=$("$OWCTL" "${A2[@]}" --json workflow diff food-licence@1 food-licence@2 2>/dev/null | json_field cases.unavailable)
expect "analyst diff --json" "$([ "$u" = PERMISSION_DENIED ]; echo $?)" "got '$u'"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
