# report.html (io/report.c) and `msl report DIR`: the page of each example,
# CSV and JSON Lines, opened in headless Chromium by report_check.py (no
# console error, no CSP violation, the counts shown equal summary.json's,
# every list shows its accounts, the tracking counts and the --report-by
# table are summary.json's); ids, names, texts and field values made of
# markup stay text; a directory without tracking.csv still gets its page;
# and the command's errors, all of which leave the previous page.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad,
# expect_status, expect_stderr, same).

rp=$tmp/report
mkdir -p "$rp"
rp_chromium=$(command -v chromium || command -v chromium-browser || echo "")

# rp_page NAME DIR: DIR/report.html is (re)built and passes report_check.py
rp_page() {
  expect_status "report: $1: msl report" 0 "$msl" report "$2"
  if [ -z "$rp_chromium" ]; then
    bad "report: $1: chromium is not installed (make deps installs it)"
  elif python3 tests/e2e/report_check.py "$rp_chromium" "$2" >"$rp/check.out" 2>&1; then
    ok
  else
    bad "report: $1: $(head -c 1500 "$rp/check.out")"
  fi
}

# ---- the examples: enterprise as CSV, self-serve as JSON Lines ------------------------------
expect_status "report: enterprise run" 0 "$msl" run examples/enterprise_implementation.ms \
  --events examples/data/enterprise/events.csv --accounts examples/data/enterprise/accounts.csv --out "$rp/ent" \
  --report-by industry
rp_page enterprise "$rp/ent"
expect_status "report: self-serve run (jsonl)" 0 "$msl" run examples/self_serve_activation.ms --format jsonl \
  --events examples/data/self_serve/events.csv --accounts examples/data/self_serve/accounts.csv --out "$rp/ss" \
  --report-by company_size
rp_page "self-serve jsonl" "$rp/ss"
# the checks above had something to compare: tracked accounts and by tables
if grep -q '"tracking":\[\["on_track",[0-9]*\],\["behind",[1-9]' "$rp/ent/report.html" &&
   grep -q '"tracked":true,"by":{"field":"industry","values":\[\["finance",' "$rp/ent/report.html" &&
   grep -q '"tracked":true,"by":{"field":"company_size"' "$rp/ss/report.html"; then ok; else
  bad "report: the examples' pages have no tracking or by data"; fi

# rows in another order than msl writes them (by account id) make the same
# page: the other files reversed (their accounts are searched for), and an
# account's milestone rows moved first (the accounts are then looked up by hash)
cp -r "$rp/ent" "$rp/reordered"
for f in playbooks signals tracking; do
  { head -1 "$rp/ent/$f.csv"; tail -n +2 "$rp/ent/$f.csv" | sort -r; } >"$rp/reordered/$f.csv"
done
expect_status "report: files in reverse order" 0 "$msl" report "$rp/reordered"
same "report: files in reverse order" "$rp/ent/report.html" "$rp/reordered/report.html"
{ head -1 "$rp/ent/milestones.csv"; grep '^acct0002,' "$rp/ent/milestones.csv"; tail -n +2 "$rp/ent/milestones.csv" | grep -v '^acct0002,'; } \
  >"$rp/reordered/milestones.csv"
if cmp -s "$rp/ent/milestones.csv" "$rp/reordered/milestones.csv"; then bad "report: acct0002's rows did not move"; else ok; fi
expect_status "report: an account out of order" 0 "$msl" report "$rp/reordered"
same "report: an account out of order" "$rp/ent/report.html" "$rp/reordered/report.html"

# ids that are prefixes of each other (a1 < a10 < a100 < a2 in the order
# msl writes them): signals.csv names only the accounts that achieved, so
# each is searched for among the accounts of milestones.csv
cat >"$rp/prefix.ms" <<'MS'
event login { user: string }
milestone first "First" {
  estimate 1d
  exit count(login) >= 2
  on achieved emit "first_done"
}
MS
{ echo 'account,time,event,user'
  for id in a1 a10 a100 a11 a2 a20 b; do echo "$id,2026-01-01T09:00:00Z,login,u"; done
  for id in a10 a2 a20; do echo "$id,2026-01-02T09:00:00Z,login,u"; done; } >"$rp/prefix.csv"
expect_status "report: ids that prefix others, run" 0 "$msl" run "$rp/prefix.ms" --events "$rp/prefix.csv" --out "$rp/prefix"
if [ "$(cut -d, -f1 "$rp/prefix/signals.csv" | tr '\n' ' ')" = "account a10 a2 a20 " ]; then ok; else
  bad "report: ids that prefix others: signals.csv is $(cut -d, -f1 "$rp/prefix/signals.csv" | tr '\n' ' ')"; fi
cp "$rp/prefix/report.html" "$rp/prefix-run.html"
rp_page "ids that prefix others" "$rp/prefix"
same "report: ids that prefix others" "$rp/prefix-run.html" "$rp/prefix/report.html"

# a directory written before tracking.csv: the counts, without lists
cp -r "$rp/ent" "$rp/old"
rm "$rp/old/tracking.csv"
rp_page "without tracking.csv" "$rp/old"
if grep -q '"tracked":true' "$rp/old/report.html"; then bad "report: lists by tracking without tracking.csv"; else ok; fi

# ---- markup in ids, names and texts is shown as text, and runs nothing -------------------------
cat >"$rp/xss.ms" <<'MS'
event login { user: string }
event report_created
milestone first "<i>First</i></script><script>alert(3)</script>" {
  description "<img src=x onerror=alert(4)> & <!-- not a comment"
  group "<b>Group</b></script>"
  estimate 2d
  exit count(login) >= 1
  on achieved emit "<svg onload=alert(5)>"
}
milestone active "Active" {
  mode continuous
  exit count(login within 7d) >= 2
}
milestone slow "<i>Slow</i><script>alert(6)</script>" {
  start on login
  estimate 1d
  exit count(report_created) >= 1
}
playbook onboarding "<u>Onboarding</u><!--" {
  step first_step "First" tracks first auto
  step active_step "Active" tracks active auto
}
MS
cat >"$rp/xss.csv" <<'CSV'
account,time,event,user
<img src=x onerror=alert(1)>,2026-01-01T09:00:00Z,login,ann
</script><script>alert(1)</script>,2026-01-02T09:00:00Z,login,bob
</script><script>alert(1)</script>,2026-01-03T09:00:00Z,login,bob
"<script>window.__xss=1</script>",2026-01-04T09:00:00Z,report_created,
"<!--<script>",2026-01-04T09:00:00Z,report_created,
"a ""quoted"", id",2026-01-04T09:00:00Z,login,cy
émile & <b>co</b>,2026-01-05T09:00:00Z,login,dee
CSV
cat >"$rp/xss-accounts.csv" <<'CSV'
id,plan
<img src=x onerror=alert(1)>,<img src=x onerror=alert(1)>
</script><script>alert(1)</script>,</script><script>alert(7)</script>
"<script>window.__xss=1</script>","<!--<script>window.__xss=2</script>"
"<!--<script>",
"a ""quoted"", id","<b>pro</b> & ""co"""
émile & <b>co</b>,<img src=x onerror=alert(1)>
CSV
sed -i '1i account { plan: string = "<svg onload=alert(8)>" }' "$rp/xss.ms"
expect_status "report: markup run" 0 "$msl" run "$rp/xss.ms" --events "$rp/xss.csv" --accounts "$rp/xss-accounts.csv" \
  --as-of 2026-01-06 --report-by plan --out "$rp/xss"
rp_page "markup as text" "$rp/xss"
# what the page was checked against: markup values, and tracked accounts of the marked-up milestone
if grep -qF '"<img src=x onerror=alert(1)>": {' "$rp/xss/summary.json" &&
   [ "$(grep -c ',slow,' "$rp/xss/tracking.csv")" -ge 3 ]; then ok; else
  bad "report: the markup run has no markup values or no tracked accounts"; fi
# the page's own bytes: no data text can end the data element or open a comment
if grep -qF -e '<img' -e '</script><script>' -e '<!--' -e '<svg' -e '<b>' "$rp/xss/report.html"; then
  bad "report: markup from the data is in report.html as it is"
else
  ok
fi
if [ "$(grep -c '</script>' "$rp/xss/report.html")" = 2 ]; then ok; else bad "report: report.html has other </script> than its own two"; fi
if grep -qF "Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-" "$rp/xss/report.html"; then ok; else
  bad "report: no Content-Security-Policy"; fi

# ---- msl report: usage ------------------------------------------------------------------------------
expect_status "report: no DIR" 2 "$msl" report
expect_stderr "report: no DIR" "usage: msl report DIR [--format csv|jsonl]"
expect_status "report: two DIRs" 2 "$msl" report "$rp/ent" "$rp/ss"
expect_stderr "report: two DIRs" "report takes one DIR, got also \`$rp/ss\`"
expect_status "report: --format without its value" 2 "$msl" report "$rp/ent" --format
expect_stderr "report: --format without its value" "--format needs a value"
expect_status "report: bad --format" 2 "$msl" report "$rp/ent" --format xml
expect_stderr "report: bad --format" "unknown result format \`xml\` (csv or jsonl)"
expect_status "report: misspelt option" 2 "$msl" report "$rp/ent" --fromat csv
expect_stderr "report: misspelt option" "did you mean \`--format\`?"

# ---- msl report: errors leave the previous page -----------------------------------------------------
expect_status "report: missing DIR" 4 "$msl" report "$rp/nope"
expect_stderr "report: missing DIR" "$rp/nope: No such file or directory"
expect_status "report: DIR is a file" 4 "$msl" report "$rp/xss.csv"
expect_stderr "report: DIR is a file" "not a directory"
mkdir -p "$rp/empty"
expect_status "report: no results" 4 "$msl" report "$rp/empty"
expect_stderr "report: no results" "has no milestones.csv or milestones.jsonl"
expect_status "report: --format jsonl on CSV results" 4 "$msl" report "$rp/ent" --format jsonl
expect_stderr "report: --format jsonl on CSV results" "cannot read $rp/ent/milestones.jsonl: No such file or directory"

# rows that disagree with summary.json: refused, the previous page kept
cp -r "$rp/ent" "$rp/bad"
cp "$rp/bad/report.html" "$rp/bad.page"
sed -i '2d' "$rp/bad/milestones.csv"
expect_status "report: rows disagree" 4 "$msl" report "$rp/bad"
expect_stderr "report: rows disagree" "but $rp/bad/summary.json counts"
same "report: rows disagree: previous page kept" "$rp/bad.page" "$rp/bad/report.html"
if ls -A "$rp/bad" | grep -q '^\.msl-tmp'; then bad "report: rows disagree: a temporary file is left"; else ok; fi
cp "$rp/ent/milestones.csv" "$rp/bad/milestones.csv"
sed -i '2d' "$rp/bad/tracking.csv"
expect_status "report: tracking rows disagree" 4 "$msl" report "$rp/bad"
expect_stderr "report: tracking rows disagree" "$rp/bad/tracking.csv has"
expect_stderr "report: tracking rows disagree" "but $rp/bad/summary.json counts"
same "report: tracking rows disagree: previous page kept" "$rp/bad.page" "$rp/bad/report.html"
cp "$rp/ent/tracking.csv" "$rp/bad/tracking.csv"
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
values = s["milestones"][0]["by"]["values"]
values[sorted(values)[0]]["completed"] += 1
json.dump(s, open(sys.argv[1], "w"))' "$rp/bad/summary.json"
expect_status "report: by counts disagree" 4 "$msl" report "$rp/bad"
expect_stderr "report: by counts disagree" "the \"by\" counts of status \`completed\` add up to more than"
cp "$rp/ent/summary.json" "$rp/bad/summary.json"
printf '{"milestones": [' >"$rp/bad/summary.json"
expect_status "report: summary.json not JSON" 4 "$msl" report "$rp/bad"
expect_stderr "report: summary.json not JSON" "$rp/bad/summary.json: not JSON: line 1:"
same "report: summary.json not JSON: previous page kept" "$rp/bad.page" "$rp/bad/report.html"

# a run holding the directory's lock
expect_status "report: DIR locked" 4 flock "$rp/ent/.msl.lock" "$msl" report "$rp/ent"
expect_stderr "report: DIR locked" "is in use: another run holds the lock"

# both formats in one directory: the newer rows
cp -r "$rp/ent" "$rp/both"
"$msl" run examples/enterprise_implementation.ms --format jsonl --events examples/data/enterprise/events.csv \
  --accounts examples/data/enterprise/accounts.csv --out "$rp/both" 2>/dev/null
expect_status "report: both formats" 0 "$msl" report "$rp/both"
touch "$rp/both/milestones.csv"
sed -i '2d' "$rp/both/milestones.csv"   # newer, and wrong: now the CSV rows are read
expect_status "report: both formats, CSV newer" 4 "$msl" report "$rp/both"
expect_stderr "report: both formats, CSV newer" "$rp/both/milestones.csv has"
expect_status "report: both formats, --format jsonl" 0 "$msl" report "$rp/both" --format jsonl
