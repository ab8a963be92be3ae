# `msl test`: the examples' tests pass; every expectation form passes and
# fails with the expected and actual value and the line of its `expect`;
# --run, the JSON and JUnit reports, --coverage and --threshold; the exit
# statuses.  Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok,
# bad, expect_status, expect_stderr).
tc=$tmp/test_cmd
mkdir -p "$tc"

# tc_stdout NAME TEXT: the last command's standard output contains TEXT
tc_stdout() {
  if grep -qF -- "$2" "$tmp/out"; then ok; else bad "$1: stdout lacks '$2': $(head -c 600 "$tmp/out")"; fi
}

# ---- the examples ------------------------------------------------------------------------
expect_status "test: examples pass" 0 "$msl" test examples/*.ms
if tail -1 "$tmp/out" | grep -qE '^[1-9][0-9]* passed, 0 failed$'; then ok; else bad "test: examples summary: $(tail -1 "$tmp/out")"; fi

# one expectation of an example made wrong: the run fails, naming the line and the actual status
sed 's/^  expect setup is blocked$/  expect setup is in_progress/' examples/saas_onboarding.ms >"$tc/saas.ms"
line=$(grep -n '^  expect setup is in_progress$' "$tc/saas.ms" | cut -d: -f1)
expect_status "test: a wrong expectation" 1 "$msl" test "$tc/saas.ms"
tc_stdout "test: a wrong expectation" "$tc/saas.ms:$line:3: FAIL \"the assignment starts the kickoff; an urgent ticket blocks set-up\": expect setup is in_progress"
tc_stdout "test: a wrong expectation" "expected in_progress, actual blocked"
if tail -1 "$tmp/out" | grep -qE '^[0-9]+ passed, 1 failed$'; then ok; else bad "test: wrong expectation summary: $(tail -1 "$tmp/out")"; fi

# ---- every expectation form, holding -------------------------------------------------------
cat >"$tc/forms.ms" <<'MS'
account { seats: int = 10 }
event login { user: string }
event report_created
event ticket_opened { severity: string = "low" }
segment big = account.seats >= 100
milestone first "First login" {
  start at @2026-01-01
  deadline 5d
  exit count(login) >= 1
  on achieved emit "hello"
}
milestone reports "Reports" {
  start after first
  action one "One report" done when count(report_created) >= 1
  action two "Two reports" done when count(report_created) >= 2
  action three "Three reports" done when count(report_created) >= 3
  blocked when count(ticket_opened where severity == "high" within 2d) > 0
}
milestone big_only "Big accounts" {
  segments big
  exit count(login) >= 1
}
milestone active "Active" {
  mode continuous
  entry count(login) >= 2
  exit count(login within 2d) >= 2
}
milestone ratio "Reports per ticket" {
  segments big
  exit count(report_created) / count(ticket_opened) > 1
}
playbook flow "Flow" {
  step a "A" tracks first auto
  step b "B" tracks reports auto
  on complete emit "flow_done"
}
test "every form holds" {
  as_of @2026-01-10
  account acme { seats = 5 }
  events {
    @2026-01-03 login { user = "x" }
    @2026-01-02 login { user = "y" }
    @2026-01-04 report_created
    @2026-01-12 report_created
  }
  expect first is completed at @2026-01-02
  expect first.started_at == @2026-01-01
  expect first.deadline_at == @2026-01-06
  expect first.on_time == true
  expect reports is in_progress
  expect reports.entered_at == @2026-01-02
  expect reports.progress == 0.3333
  expect active is not_achieving
  expect active.achieved_at == @2026-01-03
  expect active.lost_at == @2026-01-04
  expect flow.step == b
  expect signal "hello" at @2026-01-02
  expect signal "hello"
}
test "control events" {
  as_of @2026-01-09
  events {
    @2026-01-02 login { user = "x" }
    @2026-01-03 ms.complete { milestone = "reports" }
  }
  expect reports is completed at @2026-01-03
  expect flow.step == done
  expect signal "flow_done" at @2026-01-03
}
MS
expect_status "test: every form holds" 0 "$msl" test -v "$tc/forms.ms"
tc_stdout "test: -v lists each test" "PASS $tc/forms.ms: \"every form holds\" ("
tc_stdout "test: -v lists each test" "PASS $tc/forms.ms: \"control events\" ("
if [ "$(tail -1 "$tmp/out")" = "2 passed, 0 failed" ]; then ok; else bad "test: forms summary: $(tail -1 "$tmp/out")"; fi

# ---- every expectation form, failing --------------------------------------------------------
head -n "$(grep -n '^test ' "$tc/forms.ms" | head -1 | cut -d: -f1)" "$tc/forms.ms" | sed '$d' >"$tc/fails.ms"
cat >>"$tc/fails.ms" <<'MS'
test "every form fails" {
  as_of @2026-01-10
  events {
    @2026-01-02 login { user = "y" }
    @2026-01-04 report_created
  }
  expect first is in_progress
  expect first is completed at @2026-01-03
  expect first.achieved_at == @2026-01-03
  expect first.on_time == false
  expect reports.progress == 0.5
  expect active.lost_at == @2026-01-04
  expect flow.step == done
  expect signal "hello" at @2026-01-03
  expect signal "flow_done"
  expect big_only is not_started
}
test "no as-of time" {
  expect first is not_started
}
test "a runtime error" {
  account { seats = 100 }
  events { @2026-01-02 report_created }
  expect first is not_started
}
MS
expect_status "test: every form fails" 1 "$msl" test "$tc/fails.ms"
at() { echo "$tc/fails.ms:$(grep -nF -- "$1" "$tc/fails.ms" | head -1 | cut -d: -f1):3: FAIL \"every form fails\": $1"; }
tc_stdout "test: status fails" "$(at 'expect first is in_progress') — expected in_progress, actual completed"
tc_stdout "test: status at fails" "$(at 'expect first is completed at @2026-01-03') — expected completed at 2026-01-03T00:00:00Z, actual completed at 2026-01-02T00:00:00Z"
tc_stdout "test: time field fails" "$(at 'expect first.achieved_at == @2026-01-03') — expected 2026-01-03T00:00:00Z, actual 2026-01-02T00:00:00Z"
tc_stdout "test: bool field fails" "$(at 'expect first.on_time == false') — expected false, actual true"
tc_stdout "test: progress fails" "$(at 'expect reports.progress == 0.5') — expected 0.5, actual 0.3333"
tc_stdout "test: empty field fails" "$(at 'expect active.lost_at == @2026-01-04') — expected 2026-01-04T00:00:00Z, actual empty"
tc_stdout "test: step fails" "$(at 'expect flow.step == done') — expected done, actual b"
tc_stdout "test: signal at fails" "$(at 'expect signal "hello" at @2026-01-03') — expected emitted at 2026-01-03T00:00:00Z, actual emitted at 2026-01-02T00:00:00Z"
tc_stdout "test: signal fails" "$(at 'expect signal "flow_done"') — expected emitted, actual not emitted"
tc_stdout "test: milestone that does not apply" "$(at 'expect big_only is not_started') — milestone \`big_only\` does not apply to the test account"
tc_stdout "test: no as-of time" "FAIL \"no as-of time\": the test has no events and no \`as_of\`"
tc_stdout "test: runtime error" "FAIL \"a runtime error\": runtime error: integer division by zero in exit of milestone \`ratio\`"
if [ "$(tail -1 "$tmp/out")" = "0 passed, 3 failed" ]; then ok; else bad "test: fails summary: $(tail -1 "$tmp/out")"; fi
if [ "$(grep -c ': FAIL "every form fails"' "$tmp/out")" = 10 ]; then ok; else bad "test: one line per failed expectation: $(cat "$tmp/out")"; fi

# ---- --run ------------------------------------------------------------------------------------
expect_status "test: --run" 0 "$msl" test -v --run '^control' "$tc/forms.ms" "$tc/fails.ms"
if [ "$(wc -l <"$tmp/out")" = 2 ] && head -1 "$tmp/out" | grep -qF "PASS $tc/forms.ms: \"control events\" (" &&
  [ "$(tail -1 "$tmp/out")" = "1 passed, 0 failed" ]; then ok; else bad "test: --run output: $(cat "$tmp/out")"; fi
expect_status "test: --run extended regex" 1 "$msl" test --run 'holds|runtime (error|failure)$' "$tc/forms.ms" "$tc/fails.ms"
if [ "$(tail -1 "$tmp/out")" = "1 passed, 1 failed" ]; then ok; else bad "test: --run ERE: $(tail -1 "$tmp/out")"; fi
expect_status "test: --run matching nothing" 0 "$msl" test --run 'nothing like this' "$tc/forms.ms"
expect_stderr "test: --run matching nothing" "no test matches --run"
expect_status "test: --run bad regex" 2 "$msl" test --run '(' "$tc/forms.ms"
expect_stderr "test: --run bad regex" "--run: \`(\` is not a regular expression"

# ---- JUnit and JSON count what the text counts ---------------------------------------------
"$msl" test "$tc/forms.ms" "$tc/fails.ms" "$tc/saas.ms" >"$tc/text.out"
"$msl" test --format junit "$tc/forms.ms" "$tc/fails.ms" "$tc/saas.ms" >"$tc/junit.xml"
"$msl" test --format json "$tc/forms.ms" "$tc/fails.ms" "$tc/saas.ms" >"$tc/report.json"
want=$(tail -1 "$tc/text.out")
got=$(python3 - "$tc/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites"
cases = root.findall("./testsuite/testcase")
failed = [c for c in cases if c.find("failure") is not None]
suites = root.findall("testsuite")
assert sum(int(s.get("tests")) for s in suites) == len(cases) == int(root.get("tests"))
assert sum(int(s.get("failures")) for s in suites) == len(failed) == int(root.get("failures"))
assert all(s.get("name").endswith(".ms") and s.get("time") for s in suites)
assert all(f.find("failure").get("message") and f.find("failure").text for f in failed)
print(f"{len(cases) - len(failed)} passed, {len(failed)} failed")
PY
)
if [ "$got" = "$want" ]; then ok; else bad "test: junit counts '$got', text '$want'"; fi
got=$(python3 - "$tc/report.json" <<'PY'
import sys, json
r = json.load(open(sys.argv[1]))
failed = [t for t in r["tests"] if not t["passed"]]
assert len(failed) == r["failed"] and len(r["tests"]) - len(failed) == r["passed"]
assert all(t["failures"] for t in failed)
x = [f for t in failed for f in t["failures"] if f["expect"] == "expect setup is in_progress"][0]
assert x["expected"] == "in_progress" and x["actual"] == "blocked" and x["column"] == 3
print(f'{r["passed"]} passed, {r["failed"]} failed')
PY
)
if [ "$got" = "$want" ]; then ok; else bad "test: json counts '$got', text '$want'"; fi

# ---- coverage -------------------------------------------------------------------------------------
expect_status "test: --coverage" 0 "$msl" test --coverage "$tc/forms.ms"
tc_stdout "test: --coverage per file" "coverage of $tc/forms.ms: "
tc_stdout "test: --coverage criterion" "  covered  first: exit, true and false"
tc_stdout "test: --coverage action" "  missing  reports: action \`three\`, only false"
tc_stdout "test: --coverage blocked when" "  missing  reports: blocked when, only false"
tc_stdout "test: --coverage entry" "  covered  active: entry, true and false"
tc_stdout "test: --coverage step" "  covered  flow: step \`b\`, entered"
tc_stdout "test: --coverage signal expected" "  covered  first: signal \"hello\", expected"
tc_stdout "test: --coverage never evaluated" "  missing  big_only: exit, never evaluated"
if tail -2 "$tmp/out" | head -1 | grep -qE '^coverage: [0-9]+ of [0-9]+ \([0-9]+\.[0-9]{2}%\)$'; then ok; else bad "test: coverage total: $(tail -2 "$tmp/out")"; fi
expect_status "test: --threshold 100" 1 "$msl" test --threshold 100 "$tc/forms.ms"
expect_stderr "test: --threshold 100" "is below --threshold 100%"
expect_status "test: --threshold 0" 0 "$msl" test --threshold 0 "$tc/forms.ms"
expect_status "test: --threshold not a number" 2 "$msl" test --threshold lots "$tc/forms.ms"
"$msl" test --coverage --format json "$tc/forms.ms" >"$tc/cov.json"
if python3 -c '
import sys, json
c = json.load(open(sys.argv[1]))["coverage"]
items = c["files"][0]["items"]
assert c["covered"] == sum(i["covered"] for i in items) and c["total"] == len(items)
assert {"unit": "flow", "kind": "step", "name": "b", "seen": "entered", "covered": True} in items
' "$tc/cov.json"; then ok; else bad "test: coverage JSON"; fi

# ---- imports: the tests of an imported module do not run, its milestones are not covered here --
cat >"$tc/lib.ms" <<'MS'
event login { user: string }
milestone lib_login "Logged in" { exit count(login) >= 1 }
test "the module's own test, which fails" {
  as_of @2026-01-01
  expect lib_login is completed
}
MS
cat >"$tc/main.ms" <<'MS'
import "lib"
milestone two "Two logins" { exit count(login) >= 2 }
test "two logins" {
  events {
    @2026-01-01 login { user = "a" }
    @2026-01-02 login { user = "b" }
  }
  expect two is completed at @2026-01-02
  expect lib_login is completed at @2026-01-01
}
MS
expect_status "test: imported tests do not run" 0 "$msl" test --coverage "$tc/main.ms"
if [ "$(tail -1 "$tmp/out")" = "1 passed, 0 failed" ]; then ok; else bad "test: imports: $(cat "$tmp/out")"; fi
tc_stdout "test: imports: own coverage" "coverage of $tc/main.ms: 1 of 1 (100.00%)"
expect_status "test: the module's own tests" 1 "$msl" test "$tc/lib.ms"

# ---- rule errors, usage, I/O ------------------------------------------------------------------------
sed 's/expect flow.step == b/expect flow.step == c/' "$tc/forms.ms" >"$tc/errors.ms"
expect_status "test: rule errors" 1 "$msl" test "$tc/errors.ms" "$tc/forms.ms"
expect_stderr "test: rule errors" "error[E056]: playbook \`flow\` has no step \`c\`"
tc_stdout "test: rule errors" "$tc/errors.ms: tests not run: it has errors"
if [ "$(tail -1 "$tmp/out")" = "2 passed, 0 failed" ]; then ok; else bad "test: other files still run: $(tail -1 "$tmp/out")"; fi
expect_status "test: unknown option" 2 "$msl" test --formt json "$tc/forms.ms"
expect_stderr "test: unknown option" "unknown option \`--formt\` for test; did you mean \`--format\`?"
expect_status "test: option without its value" 2 "$msl" test "$tc/forms.ms" --run
expect_stderr "test: option without its value" "--run needs a value"
expect_status "test: unknown format" 2 "$msl" test --format xml "$tc/forms.ms"
expect_status "test: no file" 2 "$msl" test
expect_status "test: a .msc" 2 "$msl" test "$tc/forms.msc"
expect_status "test: missing file" 4 "$msl" test "$tc/nope.ms"

# ---- native code: refused without --allow-ffi (exit 2, nothing runs), run with it ------------
if [ -f tests/ffi/libmsl_ffitest.so ]; then
  expect_status "test: extern refused" 2 "$msl" test tests/ffi/needs_allow_ffi.ms
  expect_stderr "test: extern refused" "extern fn add_int needs library ./libmsl_ffitest.so: run with --allow-ffi"
  tc_stdout "test: extern refused" "tests/ffi/needs_allow_ffi.ms: tests not run: it calls native code from outside the stdlib"
  expect_status "test: --allow-ffi" 0 "$msl" test --allow-ffi tests/ffi/needs_allow_ffi.ms tests/ffi/all_types.ms
  expect_status "test: missing library" 4 "$msl" test --allow-ffi tests/ffi/missing_library.ms
  expect_status "test: the stdlib's own library" 0 "$msl" test tests/ffi/std_text.ms tests/ffi/unused_extern.ms
else
  bad "test: tests/ffi/libmsl_ffitest.so is missing"
fi
