# The basics: every example (checked clean, run as .ms and as .msc with the
# same results), every input form, bad input data, runtime errors, .msc
# files, native code, an installed layout, and usage and I/O errors with
# their exit statuses.  Sourced by tests/e2e/run.sh with its helpers
# ($msl, $root, $tmp, ok, bad, expect_status, expect_stderr, same).

# ---- the examples: check clean, run as .ms and as .msc with the same results --------
for ms in examples/*.ms; do
  name=$(basename "$ms" .ms)
  expect_status "check $name" 0 "$msl" check -Werror "$ms"
  data=""
  case $name in
    enterprise_implementation) data=examples/data/enterprise ;;
    saas_onboarding) data=examples/data/saas ;;
    self_serve_activation) data=examples/data/self_serve ;;
  esac
  [ -n "$data" ] && [ -f "$data/events.csv" ] || { bad "$name: no example data in $data"; continue; }
  mkdir -p "$tmp/$name/ms" "$tmp/$name/msc"
  expect_status "run $name" 0 "$msl" run "$ms" --events "$data/events.csv" --accounts "$data/accounts.csv" --out "$tmp/$name/ms"
  expect_status "build $name" 0 "$msl" build "$ms" -o "$tmp/$name.msc"
  expect_status "run $name.msc" 0 "$msl" run "$tmp/$name.msc" --events "$data/events.csv" --accounts "$data/accounts.csv" --out "$tmp/$name/msc"
  for f in milestones.csv playbooks.csv signals.csv actions.csv report.html summary.json; do
    same "$name $f .ms vs .msc" "$tmp/$name/ms/$f" "$tmp/$name/msc/$f"
  done
done

# ---- input forms: stdin, JSON Lines, gzip, two files, stdout, jsonl output ---------
d=$tmp/forms
mkdir -p "$d/a" "$d/b" "$d/c" "$d/e" "$d/f"
cat >"$d/rules.ms" <<'MS'
event login { user: string }
milestone three "Three logins" { exit count(login) >= 3 }
milestone active "Active" { mode continuous exit distinct(login.user within 7d) >= 2 }
MS
cat >"$d/events.csv" <<'CSV'
account,time,event,user
acme,2026-01-01T09:00:00Z,login,ann
acme,2026-01-02T09:00:00Z,login,bob
globex,2026-01-02T10:00:00Z,login,cy
acme,2026-01-03T09:00:00Z,login,ann
CSV
expect_status "forms: file" 0 "$msl" run "$d/rules.ms" --events "$d/events.csv" --out "$d/a"
expect_status "forms: stdin" 0 sh -c "\"$msl\" run \"$d/rules.ms\" --events - --out \"$d/b\" < \"$d/events.csv\""
same "stdin equals file" "$d/a/milestones.csv" "$d/b/milestones.csv"
gzip -c "$d/events.csv" >"$d/events.csv.gz"
expect_status "forms: gzip" 0 "$msl" run "$d/rules.ms" --events "$d/events.csv.gz" --out "$d/c"
same "gzip equals plain" "$d/a/milestones.csv" "$d/c/milestones.csv"
cat >"$d/events.jsonl" <<'JSONL'
{"account":"acme","time":"2026-01-01T09:00:00Z","event":"login","properties":{"user":"ann"}}
{"account":"acme","time":"2026-01-02T09:00:00Z","event":"login","user":"bob"}
{"account":"globex","time":"2026-01-02T10:00:00Z","event":"login","user":"cy"}
{"account":"acme","time":1767430800,"event":"login","user":"ann"}
JSONL
expect_status "forms: jsonl" 0 "$msl" run "$d/rules.ms" --events "$d/events.jsonl" --out "$d/e"
same "jsonl equals csv" "$d/a/milestones.csv" "$d/e/milestones.csv"
head -3 "$d/events.csv" >"$d/part1.csv"
{ head -1 "$d/events.csv"; tail -2 "$d/events.csv"; } >"$d/part2.csv"
expect_status "forms: two files" 0 "$msl" run "$d/rules.ms" --events "$d/part1.csv" "$d/part2.csv" --out "$d/f"
same "two files equal one" "$d/a/milestones.csv" "$d/f/milestones.csv"
expect_status "forms: stdout" 0 "$msl" run "$d/rules.ms" --events "$d/events.csv"
same "stdout equals milestones.csv" "$tmp/out" "$d/a/milestones.csv"
expect_status "forms: jsonl out" 0 "$msl" run "$d/rules.ms" --events "$d/events.csv" --format jsonl
if grep -q '"milestone":"three"' "$tmp/out"; then ok; else bad "jsonl output lacks rows: $(head -c 300 "$tmp/out")"; fi

# ---- bad input data: exit 3 with file:line, or --rejects ------------------------------
printf 'account,time,event,user\nacme,2026-01-01,login,ann\nacme,2026-13-01,login,bob\n' >"$d/badtime.csv"
expect_status "bad time" 3 "$msl" run "$d/rules.ms" --events "$d/badtime.csv" --out "$d/a"
expect_stderr "bad time" "badtime.csv:3:"
printf 'account,time,event,user\nacme,2026-01-01,login,ann,extra\n' >"$d/ragged.csv"
expect_status "ragged row" 3 "$msl" run "$d/rules.ms" --events "$d/ragged.csv"
expect_stderr "ragged row" "ragged.csv:2:"
expect_status "rejects" 0 "$msl" run "$d/rules.ms" --events "$d/badtime.csv" --rejects "$d/rejects.csv" --out "$d/a"
if grep -q '2026-13-01' "$d/rejects.csv"; then ok; else bad "rejects file lacks the bad row"; fi
if grep -q '"rejected": 1' "$d/a/summary.json"; then ok; else bad "summary does not count the rejected row"; fi

# ---- runtime error: division by zero names account and milestone ---------------------
printf 'event a\nevent b\nmilestone ratio "Ratio" { exit count(a) / count(b) >= 2 }\n' >"$d/div.ms"
printf 'account,time,event\nacme_corp,2026-01-01,a\n' >"$d/div.csv"
mkdir -p "$d/div"
expect_status "division by zero" 3 "$msl" run "$d/div.ms" --events "$d/div.csv" --out "$d/div"
expect_stderr "division by zero" "acme_corp"
expect_stderr "division by zero" "ratio"
if [ -e "$d/div/milestones.csv" ]; then bad "a failed run left milestones.csv"; else ok; fi

# ---- .msc files: corrupt, truncated, foreign --------------------------------------------
expect_status "build" 0 "$msl" build "$d/rules.ms" -o "$d/p.msc"
expect_status "disasm .msc" 0 "$msl" disasm "$d/p.msc"
python3 - "$d/p.msc" "$d/corrupt.msc" "$d/short.msc" "$d/foreign.msc" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
c = bytearray(data); c[len(c) // 2] ^= 0x40
open(sys.argv[2], 'wb').write(c)
open(sys.argv[3], 'wb').write(data[:len(data) // 2])
open(sys.argv[4], 'wb').write(b'\x7fELF' + bytes(100))
PY
for f in corrupt short foreign; do
  expect_status "$f .msc" 1 "$msl" run "$d/$f.msc" --events "$d/events.csv"
done
expect_stderr "foreign .msc" "not an MSL compiled file"

# ---- native code: --allow-ffi ------------------------------------------------------------
if [ -f tests/ffi/libmsl_ffitest.so ] && [ -f tests/ffi/all_types.ms ]; then
  expect_status "ffi refused without --allow-ffi" 2 "$msl" run tests/ffi/all_types.ms --events "$d/events.csv" --as-of 2026-01-05
  expect_stderr "ffi refused" "--allow-ffi"
  expect_status "ffi allowed" 0 "$msl" run tests/ffi/all_types.ms --events "$d/events.csv" --as-of 2026-01-05 --allow-ffi
else
  bad "ffi test library or program missing"
fi

# ---- an installed layout: PREFIX/bin/msl finds PREFIX/share/msl/stdlib ------------------
# (what `make install` puts there: every module and every native library with its manifest)
inst=$tmp/inst
mkdir -p "$inst/bin" "$inst/share/msl/stdlib/std" "$inst/share/msl/stdlib/native"
cp "$msl" "$inst/bin/msl" && cp stdlib/std/*.ms "$inst/share/msl/stdlib/std/" &&
  cp stdlib/native/*.so stdlib/native/*.manifest "$inst/share/msl/stdlib/native/"
printf 'import "std/onboarding"\nimport "std/text"\nimport "std/time"\naccount { owner_email: string = "", kickoff: time = @2026-01-01 }\nsegment internal = email_domain(account.owner_email) == "example.com" and day_of_week(account.kickoff) == 4\nmilestone m "M" { description "d" segments internal exit logins(active_window) >= 1 }\n' >"$d/inst.ms"
printf 'id,owner_email\na,Ann@Example.COM\nb,bob@other.org\n' >"$d/inst_accounts.csv"
printf 'account,time,event,user\na,2026-01-01,login,ann\nb,2026-01-01,login,bob\n' >"$d/inst_events.csv"
expect_status "installed msl" 0 env -u MSL_PATH "$inst/bin/msl" run "$d/inst.ms" --events "$d/inst_events.csv" --accounts "$d/inst_accounts.csv"
if [ "$(cat "$tmp/out")" = "$(printf 'account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\na,m,completed,,,2026-01-01T00:00:00Z,,,,')" ]; then ok; else bad "installed msl: std/text and std/time segment result: $(cat "$tmp/out")"; fi

# ---- usage and I/O errors ----------------------------------------------------------------
expect_status "no command" 2 "$msl"
expect_status "unknown command" 2 "$msl" frobnicate
expect_status "run without events" 2 "$msl" run "$d/rules.ms"
expect_status "missing events file" 4 "$msl" run "$d/rules.ms" --events "$d/nope.csv"
expect_status "missing rules file" 4 "$msl" check "$d/nope.ms"
expect_status "misspelt run option" 2 "$msl" run "$d/rules.ms" --event "$d/events.csv"
expect_stderr "misspelt run option" "unknown option \`--event\` for run; did you mean \`--events\`?"
expect_status "run option without its value" 2 "$msl" run "$d/rules.ms" --events "$d/events.csv" --out
expect_stderr "run option without its value" "--out needs a value"
expect_status "misspelt fmt option" 2 "$msl" fmt --chek "$d/rules.ms"
expect_stderr "misspelt fmt option" "did you mean \`--check\`?"
expect_status "unknown check option, nothing close" 2 "$msl" check --frobnicate "$d/rules.ms"
expect_stderr "unknown check option, nothing close" "unknown option \`--frobnicate\` for check"
