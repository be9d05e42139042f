#!/usr/bin/env bash
# owctl's offline commands end to end, and the client-side checks of the
# online ones (no server needed): outputs and exit codes (0 ok, 1 invalid or
# failed, 2 usage, 3 RPC/connection error).
#   owctl_test.sh OWCTL WORKFLOWS_DIR
set -u
OWCTL="$1" WF="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0 passes=0
check() { # check NAME EXPECTED_RC ACTUAL_RC
  if [ "$2" = "$3" ]; then passes=$((passes + 1)); else
    failures=$((failures + 1)); echo "FAIL $1: exit $3, want $2"; fi
}
expect() { # expect NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else
    failures=$((failures + 1)); echo "FAIL $1: $3"; fi
}
has() { grep -qF -- "$2" "$1"; }

# A port nothing listens on: online commands fail with exit 3.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ONEWINDOW_ADDR="127.0.0.1:$port"
unset ONEWINDOW_TOKEN

cd "$tmp" || exit 1
cat >licence.asl.yaml <<'EOF'
StartAt: Check
States:
  Check:
    Type: Task
    Resource: dept:DSF/tax-clearance
    TimeoutSeconds: 604800
    Retry: [{ErrorEquals: [Dept.Unavailable], MaxAttempts: 3}]
    Catch: [{ErrorEquals: [States.Timeout], Next: Refused}]
    ResultPath: $.tax
    Next: Opinions
  Opinions:
    Type: Parallel
    ResultPath: $.opinions
    Branches:
      - StartAt: Fire
        States:
          Fire: {Type: Task, Resource: dept:CB/fire-safety, End: true}
      - StartAt: Hygiene
        States:
          Hygiene: {Type: Task, Resource: dept:IAM/hygiene, End: true}
    Next: Decide
  Decide:
    Type: Choice
    Choices:
      - Variable: $.premises.area
        NumericGreaterThan: 100
        Next: Refused
      - And:
          - Variable: $.opinions[0].approved
            BooleanEquals: true
          - Variable: $.opinions[1].approved
            BooleanEquals: true
        Next: Granted
    Default: Refused
  Granted:
    Type: Pass
    Parameters: {decision: granted}
    End: true
  Refused: {Type: Fail, Error: Licence.Refused, Cause: refused}
EOF

# --- render -----------------------------------------------------------------
"$OWCTL" workflow render licence.asl.yaml >out.mmd 2>err; check "render mermaid" 0 $?
expect "mermaid header" "$(has out.mmd 'flowchart TD'; echo $?)" "$(head -3 out.mmd)"
expect "mermaid task with department" "$(has out.mmd 's_Check("Check<br/>Task · DSF<br/>tax-clearance<br/>timeout 7 d")'; echo $?)" "no Check node"
expect "mermaid choice rule" "$(has out.mmd 's_Decide -->|"$.premises.area #gt; 100"| s_Refused'; echo $?)" "no rule edge"
expect "mermaid catch" "$(has out.mmd 's_Check -.->|"catch States.Timeout"| s_Refused'; echo $?)" "no catch edge"
expect "mermaid retry" "$(has out.mmd 's_Check -.->|"retry Dept.Unavailable ×3"| s_Check'; echo $?)" "no retry loop"
expect "mermaid cluster" "$(has out.mmd 'subgraph c_Opinions_b2 ["branch 2"]'; echo $?)" "no branch cluster"
"$OWCTL" workflow render licence.asl.yaml -o out.dot; check "render dot by extension" 0 $?
expect "dot ids" "$(has out.dot '"state-Check" [id="state-Check", class="state task"'; echo $?)" "$(grep Check out.dot | head -2)"
"$OWCTL" workflow render licence.asl.yaml --format mermaid -o out2.mmd; check "render -o" 0 $?
expect "-o same as stdout" "$(cmp -s out.mmd out2.mmd; echo $?)" "differs"
if command -v dot >/dev/null; then
  "$OWCTL" workflow render licence.asl.yaml --format svg -o out.svg; check "render svg" 0 $?
  expect "svg ids" "$(has out.svg 'id="state&#45;Decide"'; echo $?)" "no state id in SVG"
  # The drawing in the README is of the catalogue's current definition.
  committed="$WF/../docs/img/food-licence.svg"
  "$OWCTL" workflow render "$WF/food-licence.asl.yaml" --format svg -o fresh.svg; check "render catalogue svg" 0 $?
  ids() { grep -o 'id="state&#45;[^"]*"' "$1" | sort -u; }
  expect "docs/img/food-licence.svg has the definition's states" "$([ -s "$committed" ] && [ "$(ids "$committed")" = "$(ids fresh.svg)" ] && [ -n "$(ids fresh.svg)" ]; echo $?)" "re-render with: owctl workflow render workflows/food-licence.asl.yaml -o docs/img/food-licence.svg"
fi
PATH=/nonexistent "$OWCTL" workflow render licence.asl.yaml --format svg >/dev/null 2>err
check "svg without graphviz" 1 $?
expect "names graphviz" "$(grep -q 'apt-get install graphviz' err; echo $?)" "$(cat err)"
"$OWCTL" workflow render licence.asl.yaml --format png >/dev/null 2>&1; check "render bad format" 2 $?
sed 's/Next: Decide/Next: Decied/' licence.asl.yaml >bad.asl.yaml
"$OWCTL" workflow render bad.asl.yaml >out 2>err; check "render invalid" 1 $?
expect "render invalid names file, path, line" "$(grep -q '^bad.asl.yaml: $.States.Opinions.Next: .*(line 21' err; echo $?)" "$(cat err)"
expect "render invalid prints nothing" "$([ ! -s out ]; echo $?)" "$(cat out)"
"$OWCTL" workflow render missing.asl.yaml >/dev/null 2>err; check "render missing file" 1 $?

# --- validate keeps the contract's form ---------------------------------------
"$OWCTL" workflow validate bad.asl.yaml >out 2>/dev/null; check "validate invalid" 1 $?
expect "validate form" "$(grep -q '^bad.asl.yaml: \$.States.Opinions.Next: .* (line 21' out; echo $?)" "$(cat out)"
"$OWCTL" workflow validate licence.asl.yaml >out; check "validate valid" 0 $?
expect "validate valid line" "$(grep -qx 'licence.asl.yaml: valid' out; echo $?)" "$(cat out)"

# --- test ---------------------------------------------------------------------
cat >licence.test.yaml <<'EOF'
workflow: licence.asl.yaml
cases:
  - name: granted after a retry
    input: {premises: {area: 80}}
    mocks:
      Check: [{error: Dept.Unavailable, cause: down}, {result: {clear: true}}]
      Fire: {result: {approved: true}}
      Hygiene: {result: {approved: true}}
    expect:
      status: SUCCEEDED
      output: {decision: granted}
      states: [Check, Opinions, Decide, Granted]
  - name: too large
    input: {premises: {area: 120}}
    mocks:
      Check: {result: {clear: true}}
      Fire: {result: {approved: true}}
      Hygiene: {result: {approved: true}}
    expect: {status: FAILED, error: Licence.Refused, states: [Check, Opinions, Decide, Refused]}
  - name: tax office too slow
    input: {premises: {area: 80}}
    mocks:
      Check: {result: {clear: true}, after_seconds: 700000}
    expect: {status: FAILED, error: Licence.Refused, states: [Check, Refused]}
EOF
"$OWCTL" workflow test licence.test.yaml >out; check "test passing" 0 $?
expect "summary last" "$(tail -n 1 out | grep -qx '3 passed, 0 failed'; echo $?)" "$(cat out)"
expect "PASS lines" "$(grep -c '^PASS licence.test.yaml: ' out | grep -qx 3; echo $?)" "$(cat out)"
mkdir sub && cp licence.asl.yaml sub/ && cp licence.test.yaml sub/
"$OWCTL" workflow test sub >out; check "test a directory" 0 $?
expect "directory found the file" "$(grep -q '^PASS sub/licence.test.yaml' out; echo $?)" "$(cat out)"

cat >failing.test.yaml <<'EOF'
workflow: licence.asl.yaml
cases:
  - name: wrong decision
    input: {premises: {area: 80}}
    mocks:
      Check: {result: {}}
      Fire: {result: {approved: true}}
      Hygiene: {result: {approved: true}}
    expect: {status: SUCCEEDED, output: {decision: refused}}
  - name: no mock
    input: {premises: {area: 80}}
    mocks:
      Check: {result: {}}
      Fire: {result: {approved: true}}
    expect: {status: SUCCEEDED}
  - name: typo
    mocks:
      Hygeine: {result: {}}
    expect: {status: SUCCEEDED}
  - name: choice
    mocks:
      Decide: {result: {}}
    expect: {status: SUCCEEDED}
EOF
"$OWCTL" workflow test licence.test.yaml failing.test.yaml >out; check "test failing" 1 $?
expect "failing summary" "$(tail -n 1 out | grep -qx '3 passed, 4 failed'; echo $?)" "$(cat out)"
expect "first difference" "$(grep -qxF 'FAIL failing.test.yaml: wrong decision: /output/decision: expected "refused", got "granted"' out; echo $?)" "$(cat out)"
expect "unmocked task named" "$(grep -qxF 'FAIL failing.test.yaml: no mock: Task state "Hygiene" was reached with no mock' out; echo $?)" "$(cat out)"
expect "missing state: file, line, state" "$(grep -qF 'FAIL failing.test.yaml: typo: $.cases[2].mocks.Hygeine: no state named "Hygeine" in licence.asl.yaml (line 18); hint: did you mean "Hygiene"?' out; echo $?)" "$(cat out)"
expect "non-Task mock: file, line, state" "$(grep -qF 'FAIL failing.test.yaml: choice: $.cases[3].mocks.Decide: state "Decide" is a Choice state; only Task states take mocks (line 22)' out; echo $?)" "$(cat out)"
"$OWCTL" workflow test nothing-here.test.yaml >out; check "test missing file" 1 $?
expect "missing file counted" "$(tail -n 1 out | grep -qx '0 passed, 1 failed'; echo $?)" "$(cat out)"
"$OWCTL" --json workflow test licence.test.yaml >out; check "test --json" 0 $?
expect "test --json summary" "$(python3 -c 'import json,sys; j=json.load(open("out")); sys.exit(0 if j["passed"]==3 and j["failed"]==0 else 1)'; echo $?)" "$(cat out)"

# --- diff ---------------------------------------------------------------------
sed -e 's/Default: Refused/Default: AskDocuments/' -e 's/MaxAttempts: 3/MaxAttempts: 5/' licence.asl.yaml >v2.asl.yaml
cat >>v2.asl.yaml <<'EOF'
  AskDocuments: {Type: Task, Resource: dept:COUNTER/more-documents, Next: Decide}
EOF
"$OWCTL" workflow diff licence.asl.yaml v2.asl.yaml >out; check "diff files" 0 $?
expect "diff added" "$(grep -qx '+ AskDocuments (Task)' out; echo $?)" "$(cat out)"
expect "diff changed" "$(grep -qx '~ Decide (Choice): Default' out; echo $?)" "$(cat out)"
expect "diff retry" "$(grep -qx '~ Check (Task): Retry' out; echo $?)" "$(cat out)"
"$OWCTL" workflow diff v2.asl.yaml licence.asl.yaml >out; check "diff reversed" 0 $?
expect "diff removed" "$(grep -qx -- '- AskDocuments (Task)' out; echo $?)" "$(cat out)"
"$OWCTL" workflow diff licence.asl.yaml bad.asl.yaml >/dev/null 2>err; check "diff invalid" 1 $?
"$OWCTL" --timeout-ms 500 workflow diff licence@1 v2.asl.yaml >/dev/null 2>&1; check "diff deployed, no server" 3 $?

# --- calendar due ---------------------------------------------------------------
CAL="$WF/../deploy/calendars/macau.yaml"
out=$("$OWCTL" calendar due --from 2026-11-27 --working-days 1); check "due, default calendar" 0 $?
expect "Friday + 1 working day = Monday" "$([ "$out" = 2026-11-30 ]; echo $?)" "got '$out'"
out=$("$OWCTL" calendar due --from 2026-12-18 --working-days 3 --calendar "$CAL"); check "due, macau" 0 $?
# 19/20 weekend, 20-22 Establishment Day, its rest day and the solstice, 24-25
# Christmas: 23, 28, 29.
expect "macau holidays skipped" "$([ "$out" = 2026-12-29 ]; echo $?)" "got '$out'"
"$OWCTL" --json calendar due --from 2026-12-18 --working-days 3 --calendar "$CAL" >out; check "due --json" 0 $?
expect "due --json names the days off" "$(python3 -c 'import json,sys; j=json.load(open("out")); d={x["date"]: x["why"] for x in j["days_off"]}
sys.exit(0 if j["due_date"]=="2026-12-29" and j["calendar"]=="macau" and d["2026-12-25"]=="Christmas Day" and d["2026-12-26"]=="weekend (sat)" and "2026-12-23" not in d else 1)'; echo $?)" "$(cat out)"
"$OWCTL" calendar due --from 2027-12-01 --working-days 40 --calendar "$CAL" >out 2>err; check "due into a year without holidays" 0 $?
expect "note on the year without holidays" "$(grep -q 'lists no holidays in 2028' err; echo $?)" "$(cat err)"
out=$("$OWCTL" calendar due --working-days 1); check "due from today" 0 $?
expect "due from today is a date" "$([[ "$out" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; echo $?)" "got '$out'"
"$OWCTL" calendar due --from 2026-02-30 --working-days 1 >/dev/null 2>err; check "due bad date" 2 $?
expect "bad date named" "$(grep -q '^owctl: --from 2026-02-30: ' err; echo $?)" "$(cat err)"
"$OWCTL" calendar due --from 2026-02-03 --working-days 0 >/dev/null 2>&1; check "due 0 working days" 2 $?
"$OWCTL" calendar due --from 2026-02-03 --working-days 3651 >/dev/null 2>&1; check "due too many working days" 2 $?
"$OWCTL" calendar due --from 2026-02-03 >/dev/null 2>&1; check "due needs --working-days" 2 $?
"$OWCTL" calendar due --from 2026-02-03 --working-days 2 --calendar nope.yaml >/dev/null 2>err; check "due missing calendar" 1 $?
printf 'weekend: [sat, sun]\nholidayz: []\n' >bad-cal.yaml
"$OWCTL" calendar due --from 2026-02-03 --working-days 2 --calendar bad-cal.yaml >/dev/null 2>err; check "due bad calendar" 1 $?
expect "bad calendar: file, key, line" "$(grep -q '^owctl: --calendar bad-cal.yaml: .*line 2.*unknown key "holidayz"' err; echo $?)" "$(cat err)"
printf 'weekend: [mon, tue, wed, thu, fri, sat, sun]\n' >closed.yaml
"$OWCTL" calendar due --from 2026-02-03 --working-days 2 --calendar closed.yaml >/dev/null 2>err; check "due, no working day" 1 $?
head -c 300000 /dev/zero | tr '\0' '#' >big.yaml
"$OWCTL" calendar due --from 2026-02-03 --working-days 2 --calendar big.yaml >/dev/null 2>err; check "due, oversized calendar" 1 $?

# --- run-local is unchanged -----------------------------------------------------
echo '{"premises": {"area": 120}}' >in.json
out=$("$OWCTL" run-local licence.asl.yaml in.json --echo-tasks); check "run-local echo" 1 $?
expect "run-local error form" "$([ "$out" = '{"Error": "Licence.Refused", "Cause": "refused"}' ]; echo $?)" "$out"
"$OWCTL" run-local licence.asl.yaml in.json >/dev/null 2>err; check "run-local no result" 1 $?

# --- auth token new ---------------------------------------------------------------
"$OWCTL" auth token new --name clerk1 --role counter >out; check "token new" 0 $?
tok=$(sed -n 's/^token: //p' out)
expect "token form" "$([[ "$tok" =~ ^ow_[A-Za-z0-9_-]{43}$ ]]; echo $?)" "$(cat out)"
sha=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
expect "entry" "$(grep -qxF -e "- {name: clerk1, role: counter, token_sha256: $sha}" out; echo $?)" "$(cat out)"
"$OWCTL" auth token new --name clerk1 --role counter >out2
expect "tokens differ" "$([ "$(sed -n 's/^token: //p' out2)" != "$tok" ]; echo $?)" "same token twice"
"$OWCTL" auth token new --name dsf --role department --department DSF --out dsf.token >out; check "token --out" 0 $?
expect "token file mode" "$([ "$(stat -c %a dsf.token)" = 600 ]; echo $?)" "$(stat -c %a dsf.token)"
sha=$(tr -d '\n' <dsf.token | sha256sum | cut -d' ' -f1)
expect "department entry" "$(grep -qxF -e "- {name: dsf, role: department, department: DSF, token_sha256: $sha}" out; echo $?)" "$(cat out)"
expect "token not printed with --out" "$(! grep -q 'ow_' out; echo $?)" "$(cat out)"
"$OWCTL" auth token new --name x --role root >/dev/null 2>&1; check "bad role" 2 $?
"$OWCTL" auth token new --name x --role department >/dev/null 2>&1; check "department role needs department" 2 $?
"$OWCTL" auth token new --name x --role counter --department DSF >/dev/null 2>&1; check "department only with department role" 2 $?
"$OWCTL" auth token new --name 'a b' --role counter >/dev/null 2>&1; check "bad name" 2 $?

# --- client flags (no server) -------------------------------------------------------
"$OWCTL" --timeout-ms 500 --token-file dsf.token workflow list >/dev/null 2>&1; check "token file, no server" 3 $?
"$OWCTL" --token-file nope.token workflow list >/dev/null 2>err; check "missing token file" 2 $?
expect "names the token file" "$(grep -q 'token-file nope.token' err; echo $?)" "$(cat err)"
ONEWINDOW_TOKEN='has space' "$OWCTL" workflow list >/dev/null 2>&1; check "bad token" 2 $?
"$OWCTL" --tls-ca nope.pem workflow list >/dev/null 2>&1; check "missing CA file" 2 $?
"$OWCTL" --tls-cert c.pem workflow list >/dev/null 2>&1; check "cert without key" 2 $?
"$OWCTL" case list --version 2 >/dev/null 2>&1; check "list --version without --service" 2 $?
"$OWCTL" case list --since 2026-13-01 >/dev/null 2>&1; check "list bad date" 2 $?
"$OWCTL" case submit --service x --data-json '{}' --document id=1,name=a.pdf >/dev/null 2>err; check "document missing keys" 2 $?
expect "names the missing key" "$(grep -q 'type= is required' err; echo $?)" "$(cat err)"
"$OWCTL" case documents add OW-1 --document "id=1,name=a\\,b.pdf,type=application/pdf,size=x,sha256=$sha" >/dev/null 2>err; check "document bad size" 2 $?
"$OWCTL" --timeout-ms 500 case documents add OW-1 --document "id=1,name=a\\,b.pdf,type=application/pdf,size=10,sha256=$sha" >/dev/null 2>&1; check "document ok, no server" 3 $?
"$OWCTL" case migrate OW-1 >/dev/null 2>&1; check "migrate needs --to-version" 2 $?
"$OWCTL" --timeout-ms 500 case verify OW-1 >/dev/null 2>&1; check "verify, no server" 3 $?
"$OWCTL" --timeout-ms 500 case receipt OW-1 >/dev/null 2>&1; check "receipt, no server" 3 $?
"$OWCTL" case receipt >/dev/null 2>&1; check "receipt needs ID" 2 $?
"$OWCTL" --timeout-ms 500 whoami >/dev/null 2>&1; check "whoami, no server" 3 $?
"$OWCTL" admin backup >/dev/null 2>&1; check "backup needs --to" 2 $?

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
