# -j N (issue 9): every output, summary.json included, and every message,
# exit status and --rejects file are byte-identical for -j 1, 2 and 3, on a
# generated log of many accounts (time-sorted, shuffled, gzipped, JSON
# Lines), with --accounts, and when a bad row or a runtime error makes a
# parallel run start over with one worker.  Sourced by tests/e2e/run.sh
# with its helpers ($msl, $root, $tmp, ok, bad, expect_status, same).

jb=$tmp/jobs
mkdir -p "$jb"
python3 "$root/../shared/bench/gen_events.py" "$jb/log" 3000 40000 --seed 11 >/dev/null
python3 "$root/../shared/bench/gen_events.py" "$jb/shuffled" 3000 40000 --seed 11 --shuffle >/dev/null
gzip -kf "$jb/log/events.csv"
python3 - "$jb/log/events.csv" "$jb/log/events.jsonl" <<'PY'
import csv, json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for r in csv.DictReader(f):
        out.write(json.dumps({k: v for k, v in r.items() if v != ""}) + "\n")
PY
cat >"$jb/rules.ms" <<'MS'
account { plan: string = "free", seats: int = 1 }
event login { user: string }
event report_created
event feature_used { feature: string }
event ticket_opened { severity: string }
event export_done
segment paid = account.plan != "free"
milestone reports "Five reports" { exit count(report_created) >= 5 }
milestone weekly "Weekly active" { exit count(login within 7d) >= 5 }
milestone team "Team" {
  mode continuous
  exit distinct(login.user within 30d) >= 3
}
milestone api "API in use" {
  segments paid
  entry count(login) >= 1
  exit count(feature_used where feature == "api") >= 3
  start on login
  deadline 60d
}
milestone calm "Calm" {
  mode continuous
  exit count(ticket_opened where severity == "high" within 14d) == 0
}
milestone path "Report then export" { exit sequence(report_created, export_done within 2d) }
playbook onboard "Onboarding" {
  segments paid
  step first "First report" tracks reports auto
  step integrate "API" tracks api auto
}
MS

# jobs_same NAME ARGS...: msl run with -j 1, 2 and 3 into fresh directories;
# exit status, stdout, stderr and every output file are the same
jobs_same() {
  what=$1
  shift
  for j in 1 2 3; do
    rm -rf "$jb/o$j"
    "$msl" run "$jb/rules.ms" "$@" -j $j --out "$jb/o$j" >"$jb/stdout$j" 2>"$jb/stderr$j"
    echo $? >"$jb/status$j"
    if [ -f "$jb/rejects.csv" ]; then mv "$jb/rejects.csv" "$jb/rejects$j.csv"; fi
  done
  for j in 2 3; do
    same "$what -j $j: exit status" "$jb/status1" "$jb/status$j"
    same "$what -j $j: stderr" "$jb/stderr1" "$jb/stderr$j"
    same "$what -j $j: stdout" "$jb/stdout1" "$jb/stdout$j"
    for f in milestones.csv playbooks.csv signals.csv actions.csv summary.json; do
      if [ -f "$jb/o1/$f" ] || [ -f "$jb/o$j/$f" ]; then same "$what -j $j: $f" "$jb/o1/$f" "$jb/o$j/$f"; fi
    done
    if [ -f "$jb/rejects1.csv" ]; then same "$what -j $j: --rejects" "$jb/rejects1.csv" "$jb/rejects$j.csv"; fi
  done
  rm -f "$jb"/rejects*.csv
}

jobs_same "sorted CSV" --events "$jb/log/events.csv"
if grep -q '"achieved_at"' "$jb/o1/summary.json" 2>/dev/null || [ "$(wc -l <"$jb/o1/milestones.csv")" -gt 3000 ]; then ok
else bad "jobs: the reference run has too few rows to compare: $(head -c 300 "$jb/stderr1")"; fi
jobs_same "shuffled CSV" --events "$jb/shuffled/events.csv"
jobs_same "shuffled, 1 MB of sort memory per run" --events "$jb/shuffled/events.csv" --memory-limit 1M
jobs_same "gzipped CSV" --events "$jb/log/events.csv.gz"
jobs_same "JSON Lines" --events "$jb/log/events.jsonl"
jobs_same "two files" --events "$jb/log/events.csv" "$jb/shuffled/events.csv"
jobs_same "--accounts" --events "$jb/log/events.csv" --accounts "$jb/log/accounts.csv"
jobs_same "--as-of" --events "$jb/log/events.csv" --as-of 2026-03-01T00:00:00Z
jobs_same "milestones to stdout" --events "$jb/log/events.csv" --format jsonl

# One events file is parsed by every worker (split.c), cut at line starts;
# MSL_TRACE says which way a run read its input.
trace_says() {
  what=$1
  want=$2
  shift 2
  got=$(MSL_TRACE=1 "$msl" run "$jb/rules.ms" "$@" -j 2 2>&1 >/dev/null | grep "^msl: trace:")
  case $got in
    *"$want"*) ok ;;
    *) bad "jobs: $what: the trace says \"$got\", not \"$want\"" ;;
  esac
}
trace_says "sorted CSV" "each parsed its share" --events "$jb/log/events.csv"
trace_says "JSON Lines" "each parsed its share" --events "$jb/log/events.jsonl"
trace_says "shuffled CSV" "which is not in time order" --events "$jb/shuffled/events.csv"
trace_says "gzipped CSV" "each parsed its share" --events "$jb/log/events.csv.gz"
trace_says "two files" "each reads the whole input" --events "$jb/log/events.csv" "$jb/shuffled/events.csv"
# unsorted input is split again, each worker sorting its rows: the sorter's
# runs spill (1 MB of sort memory), gzipped too; a bad row still stops it
trace_says "shuffled, 1 MB of sort memory per run" "which is not in time order" --events "$jb/shuffled/events.csv" \
  --memory-limit 1M
gzip -kf "$jb/shuffled/events.csv"
jobs_same "shuffled, gzipped" --events "$jb/shuffled/events.csv.gz"
trace_says "shuffled, gzipped" "which is not in time order" --events "$jb/shuffled/events.csv.gz"
awk 'NR == 25001 { print "acct000042,not-a-time,login,u1,," } { print }' "$jb/shuffled/events.csv" >"$jb/shuffled-bad.csv"
jobs_same "shuffled, a bad row" --events "$jb/shuffled-bad.csv"
trace_says "shuffled, a bad row" "the split read stopped" --events "$jb/shuffled-bad.csv"
if grep -q "not-a-time" "$jb/stderr1" && [ "$(cat "$jb/status1")" = 3 ]; then ok
else bad "jobs: the bad row of the shuffled log was not reported: $(cat "$jb/status1") $(head -c 300 "$jb/stderr1")"; fi
jobs_same "shuffled, a bad row, --rejects" --events "$jb/shuffled-bad.csv" --rejects "$jb/rejects.csv"

# a quoted field with newlines across the first cut, 1 MiB after the
# header (split.c: RANGE_BYTES): the cut is inside a record, so the split
# stops and the results are those of one worker
python3 - "$jb/log/events.csv" "$jb/quoted.csv" <<'PY'
import sys
rows = open(sys.argv[1], "rb").read().splitlines(keepends=True)
cut, at = len(rows[0]) + (1 << 20), len(rows[0])
for i in range(1, len(rows)):
    if at + 1000 > cut:   # the field's newlines begin before the cut and run past it
        break
    at += len(rows[i])
a, t, e, u, f, s = rows[i].decode().rstrip("\n").split(",")
rows[i] = f'{a},{t},feature_used,,"{"api" + chr(10) * 3000}",\n'.encode()
open(sys.argv[2], "wb").writelines(rows)
PY
jobs_same "a quoted field with newlines at the cut" --events "$jb/quoted.csv"
trace_says "a quoted field with newlines at the cut" "the split read stopped" --events "$jb/quoted.csv"
# gzipped, the text is cut after the last newline of each 1 MiB: here one
# inside the quoted field
gzip -kf "$jb/quoted.csv"
jobs_same "gzipped, a quoted field with newlines at the cut" --events "$jb/quoted.csv.gz"
trace_says "gzipped, a quoted field with newlines at the cut" "the split read stopped" --events "$jb/quoted.csv.gz"
# quoted fields elsewhere (commas, quotes, short newlines) split as usual
awk -F, 'NR > 1 && NR % 97 == 0 && $3 == "feature_used" { $5 = "\"api, \"\"v2\"\"\n\""; print; next } { print }' OFS=, \
  "$jb/log/events.csv" >"$jb/quotes.csv"
jobs_same "quoted fields" --events "$jb/quotes.csv"
# CRLF line ends, no newline after the last row, a byte order mark
sed 's/$/\r/' "$jb/log/events.csv" >"$jb/crlf.csv"
jobs_same "CRLF line ends" --events "$jb/crlf.csv"
head -c -1 "$jb/log/events.csv" >"$jb/no-final-newline.csv"
jobs_same "no newline at the end" --events "$jb/no-final-newline.csv"
printf '\357\273\277' | cat - "$jb/log/events.jsonl" >"$jb/bom.jsonl"
jobs_same "JSON Lines with a byte order mark" --events "$jb/bom.jsonl"
trace_says "JSON Lines with a byte order mark" "each parsed its share" --events "$jb/bom.jsonl"
head -1 "$jb/log/events.csv" >"$jb/header-only.csv"
jobs_same "a header and no rows" --events "$jb/header-only.csv"
jobs_same "a header and no rows, --as-of" --events "$jb/header-only.csv" --as-of 2026-03-01T00:00:00Z
# a row that goes back in time only in the second half
awk 'NR == 30001 { print "acct000042,2026-01-01T00:00:00Z,login,u1,," } { print }' "$jb/log/events.csv" >"$jb/late-unsorted.csv"
jobs_same "one row back in time, late in the file" --events "$jb/late-unsorted.csv"
trace_says "one row back in time, late in the file" "which is not in time order" --events "$jb/late-unsorted.csv"
gzip -kf "$jb/late-unsorted.csv"
jobs_same "gzipped, one row back in time, late in the file" --events "$jb/late-unsorted.csv.gz"
trace_says "gzipped, one row back in time, late in the file" "which is not in time order" --events "$jb/late-unsorted.csv.gz"
# gzipped: CRLF line ends and no newline at the end (the last range's
# text is what is left); a line longer than a range (a 3 MiB quoted field,
# no newline in it), whose range takes more text; JSON Lines
gzip -c "$jb/crlf.csv" >"$jb/crlf.csv.gz"
jobs_same "gzipped, CRLF line ends" --events "$jb/crlf.csv.gz"
gzip -c "$jb/no-final-newline.csv" >"$jb/no-final-newline.csv.gz"
jobs_same "gzipped, no newline at the end" --events "$jb/no-final-newline.csv.gz"
awk 'NR == 15001 { printf "acct000042,%s,feature_used,,\"", $2; for (i = 0; i < 3 * 1048576 / 64; i++)
  printf "%s", "api-api-api-api-api-api-api-api-api-api-api-api-api-api-api-api-"; print "\"," } { print }' \
  FS=, "$jb/log/events.csv" | gzip -c >"$jb/long-line.csv.gz"
jobs_same "gzipped, a line longer than a range" --events "$jb/long-line.csv.gz"
trace_says "gzipped, a line longer than a range" "each parsed its share" --events "$jb/long-line.csv.gz"
gzip -c "$jb/log/events.jsonl" >"$jb/events.jsonl.gz"
jobs_same "gzipped JSON Lines" --events "$jb/events.jsonl.gz"
trace_says "gzipped JSON Lines" "each parsed its share" --events "$jb/events.jsonl.gz"
gzip -c "$jb/bom.jsonl" >"$jb/bom.jsonl.gz"
jobs_same "gzipped JSON Lines with a byte order mark" --events "$jb/bom.jsonl.gz"
trace_says "gzipped JSON Lines with a byte order mark" "each parsed its share" --events "$jb/bom.jsonl.gz"
# a byte order mark is skipped only at the start of the file: here it
# begins the first row after the header, whose account id it is part of
{ head -1 "$jb/log/events.csv"; printf '\357\273\277'; tail -n +2 "$jb/log/events.csv"; } | gzip -c >"$jb/bom-row.csv.gz"
jobs_same "gzipped, a byte order mark after the header" --events "$jb/bom-row.csv.gz"
# a truncated gzip file: the error is the one a single worker reports
head -c 200000 "$jb/log/events.csv.gz" >"$jb/truncated.csv.gz"
jobs_same "a truncated gzip file" --events "$jb/truncated.csv.gz"
if [ "$(cat "$jb/status1")" != 0 ] && [ -s "$jb/stderr1" ]; then ok
else bad "jobs: the truncated gzip file was not reported: $(cat "$jb/status1") $(head -c 300 "$jb/stderr1")"; fi

# A log over many ranges of the split read (1 MiB each): a range's slot
# is parsed into again once every worker's groups are done with it, and
# the ring has 8 + 2 * N slots (split.c), so a slot reused too early would
# show here.  Rows of every kind: declared events with strings, undeclared
# ones (only counted), control events with milestone and playbook names,
# and instants shared by several rows.
awk 'BEGIN { srand(17); print "account,time,event,user,milestone,playbook"; t = 0
  for (i = 0; i < 700000; i++) {
    if (rand() < 0.6) t++
    a = sprintf("acct%05d", int(rand() * 6000)); r = rand()
    e = r < 0.45 ? "login" : r < 0.6 ? "report_created" : r < 0.9 ? "page_view" : r < 0.93 ? "ms.assign" \
      : r < 0.95 ? "ms.complete" : r < 0.97 ? "ms.reset" : r < 0.99 ? "ms.block" : "ms.advance"
    ms = e ~ /^ms\./ && e != "ms.advance" ? "manual" : ""
    printf "%s,%d-%02d-%02dT%02d:%02d:%02dZ,%s,%s,%s,%s\n", a, 2026, 1 + int(t / 2419200), 1 + int(t / 86400) % 28,
      int(t / 3600) % 24, int(t / 60) % 60, t % 60, e, e == "login" ? "user" int(rand() * 9) : "", ms,
      e == "ms.advance" ? "onboard" : "" } }' >"$jb/ranges.csv"
cat >"$jb/ranges.ms" <<'MS'
event login { user: string }
event report_created
milestone reports "Five reports" { exit count(report_created) >= 5 }
milestone team "Team" {
  mode continuous
  exit distinct(login.user within 2d) >= 4
}
milestone manual "Manual" { start on assignment }
playbook onboard "Onboarding" {
  step first "First report" tracks reports auto
  step second "By hand" tracks manual
  step third "Team" tracks team auto
}
MS
if [ "$(wc -c <"$jb/ranges.csv")" -gt $((2 * (8 + 2 * 3) * 1048576)) ]; then ok
else bad "jobs: the many-ranges log is too small to fill the ring of slots twice at -j 3: $(wc -c <"$jb/ranges.csv") bytes"; fi
cp "$jb/rules.ms" "$jb/rules.saved"
cp "$jb/ranges.ms" "$jb/rules.ms"
jobs_same "many ranges of a split read" --events "$jb/ranges.csv"
trace_says "many ranges of a split read" "each parsed its share" --events "$jb/ranges.csv"
gzip -kf "$jb/ranges.csv"
jobs_same "many ranges of a gzipped file" --events "$jb/ranges.csv.gz"
trace_says "many ranges of a gzipped file" "each parsed its share" --events "$jb/ranges.csv.gz"
# the same rows shuffled (control events among them), sorted by the workers
{ head -n 1 "$jb/ranges.csv"; tail -n +2 "$jb/ranges.csv" | shuf --random-source="$jb/ranges.csv"; } >"$jb/ranges-shuffled.csv"
jobs_same "many ranges, shuffled" --events "$jb/ranges-shuffled.csv"
trace_says "many ranges, shuffled" "which is not in time order" --events "$jb/ranges-shuffled.csv"
if grep -q ',manual,' "$jb/o1/milestones.csv" && grep -q ',onboard,' "$jb/o1/playbooks.csv" &&
  grep -q '"undeclared": [1-9]' "$jb/o1/summary.json"; then ok
else bad "jobs: the many-ranges run has too little to compare: $(head -c 300 "$jb/o1/summary.json")"; fi
cp "$jb/rules.saved" "$jb/rules.ms"

# a parallel run that meets a bad row starts over with one worker
awk 'NR == 20001 { print "acct000042,not-a-time,login,u1,," } { print }' "$jb/log/events.csv" >"$jb/bad.csv"
jobs_same "a bad row" --events "$jb/bad.csv"
if grep -q "not-a-time" "$jb/stderr1" && [ "$(cat "$jb/status1")" = 3 ]; then ok
else bad "jobs: the bad row was not reported: $(cat "$jb/status1") $(head -c 300 "$jb/stderr1")"; fi
jobs_same "a bad row with --rejects" --events "$jb/bad.csv" --rejects "$jb/rejects.csv"

# a runtime error (an int sum that overflows) is reported as one worker reports it
cat >"$jb/overflow.ms" <<'MS'
event login { user: string }
milestone big "Big" {
  mode continuous
  exit sum(login.n) > 0
}
MS
printf 'account,time,event,user,n\n' >"$jb/overflow.csv"
i=0
while [ $i -lt 300 ]; do
  printf 'a%03d,2026-01-01T00:00:%02dZ,login,u,9223372036854775807\n' $i $((i % 60)) >>"$jb/overflow.csv"
  printf 'a%03d,2026-01-01T00:01:%02dZ,login,u,9223372036854775807\n' $i $((i % 60)) >>"$jb/overflow.csv"
  i=$((i + 1))
done
sed -i 's/event login { user: string }/event login { user: string, n: int }/' "$jb/overflow.ms"
cp "$jb/rules.ms" "$jb/rules.saved"
cp "$jb/overflow.ms" "$jb/rules.ms"
jobs_same "a runtime error" --events "$jb/overflow.csv"
if grep -q "integer overflow" "$jb/stderr1" && [ "$(cat "$jb/status1")" = 3 ]; then ok
else bad "jobs: the runtime error was not reported: $(cat "$jb/status1") $(head -c 300 "$jb/stderr1")"; fi

# a runtime error met only at T, where each worker finishes its accounts on
# its own thread: the one reported is the first account's in id order, as
# one worker reports it (a240..a399 divide by zero at T; every worker has
# accounts that settle cleanly before its first error)
cat >"$jb/rules.ms" <<'MS'
event login { user: string, n: int }
milestone m "M" {
  exit count(login) >= 100
  blocked when sum(login.n) / count(login within 1d) > 1
}
MS
printf 'account,time,event,user,n\n' >"$jb/at_t.csv"
i=100
while [ $i -lt 400 ]; do
  day=01
  if [ $i -lt 240 ]; then day=10; fi
  printf 'a%03d,2026-01-%sT00:00:%02dZ,login,u,5\n' $i $day $((i % 60)) >>"$jb/at_t.csv"
  i=$((i + 1))
done
sort -t, -k2,2 -s "$jb/at_t.csv" -o "$jb/at_t.csv.sorted"
{ head -n 1 "$jb/at_t.csv"; grep -v '^account' "$jb/at_t.csv.sorted"; } >"$jb/at_t_sorted.csv"
jobs_same "a runtime error at T" --events "$jb/at_t_sorted.csv"
if grep -q "division by zero in blocked when of milestone .m. for account .a240." "$jb/stderr1" && [ "$(cat "$jb/status1")" = 3 ]; then ok
else bad "jobs: the runtime error at T was not reported: $(cat "$jb/status1") $(head -c 300 "$jb/stderr1")"; fi
# the same past the first chunk of accounts the workers finish at once
# (run.c: 4096): c04500..c05999 divide by zero at T
{
  echo "account,time,event,user,n"
  awk 'BEGIN { for (i = 0; i < 6000; i++) printf "c%05d,2026-01-%sT00:00:00Z,login,u,5\n", i, i < 4500 ? "10" : "01" }' |
    sort -t, -k2,2 -s
} >"$jb/at_t_many.csv"
jobs_same "a runtime error at T, past the first chunk" --events "$jb/at_t_many.csv"
if grep -q "division by zero in blocked when of milestone .m. for account .c04500." "$jb/stderr1" && [ "$(cat "$jb/status1")" = 3 ]; then ok
else bad "jobs: the runtime error at T past the first chunk was not reported: $(cat "$jb/status1") $(head -c 300 "$jb/stderr1")"; fi
cp "$jb/rules.saved" "$jb/rules.ms"

expect_status "jobs: -j 0 is a usage error" 2 "$msl" run "$jb/rules.ms" --events "$jb/log/events.csv" -j 0
expect_status "jobs: -j x is a usage error" 2 "$msl" run "$jb/rules.ms" --events "$jb/log/events.csv" -j x
