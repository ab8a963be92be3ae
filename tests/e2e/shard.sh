# --shard K/N and msl merge (issue 12): 4 shards run as separate processes
# on a generated log, merged, give every file of one run over everything,
# byte for byte (with --history, --report-by, --rejects, JSON Lines, -j);
# so do shards that read the rows shuffled and split differently, some
# only their own rows; the shard of an account is SPEC 7's
# pmod(xxhash64(id), N) + 1 (tools/xxh64.py); and every refusal of
# msl merge, and every --shard error, is exit 2 with its message.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $root, $tmp, ok, bad,
# expect_status, expect_stderr, same).

sd=$tmp/shard
mkdir -p "$sd"
python3 "$root/../shared/bench/gen_events.py" "$sd/log" 3000 40000 --seed 12 >/dev/null
cat >"$sd/rules.ms" <<'MS'
account { plan: string = "free", seats: int = 1 }
event login { user: string }
event report_created
event feature_used { feature: string }
event ticket_opened { severity: string }
event export_done
segment paid = account.plan != "free"
milestone reports "Five reports" {
  start on login
  deadline 30d
  estimate 20d
  action two "Two reports" owner customer done when count(report_created since start) >= 2
  action export "An export" owner csm done when count(export_done since start) >= 1
  exit count(report_created since start) >= 5
  on achieved emit "reporting"
  on overdue emit "reports_late"
}
milestone team "Team" {
  mode continuous
  start on login
  exit distinct(login.user within 30d) >= 3
  on lost emit "team_lost"
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
playbook onboard "Onboarding" {
  segments paid
  step first "First report" tracks reports auto
  step integrate "API" tracks api auto
}
MS

# shards_same NAME ARGS...: one run over everything into $sd/one, and
# shards 1..4 of 4 as 4 processes at once into $sd/s1..s4, merged into
# $sd/m: every file the same
shards_same() {
  what=$1
  shift
  rm -rf "$sd/one" "$sd"/s[1-4] "$sd/m"
  "$msl" run "$sd/rules.ms" "$@" --out "$sd/one" 2>"$sd/err.one" || bad "shard $what: the run over everything failed: $(head -c 300 "$sd/err.one")"
  for k in 1 2 3 4; do
    ( "$msl" run "$sd/rules.ms" "$@" --shard $k/4 --out "$sd/s$k" 2>"$sd/err$k"; echo $? >"$sd/status$k" ) &
  done
  wait
  for k in 1 2 3 4; do
    [ "$(cat "$sd/status$k")" = 0 ] || bad "shard $what: shard $k/4 failed: $(head -c 300 "$sd/err$k")"
  done
  expect_status "shard $what: merge" 0 "$msl" merge "$sd/s1" "$sd/s2" "$sd/s3" "$sd/s4" --out "$sd/m"
  if diff -r "$sd/one" "$sd/m" >"$sd/diff"; then ok; else bad "shard $what: merged != one run: $(head -c 600 "$sd/diff")"; fi
}

shards_same "CSV" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" --history --report-by plan
# the comparison means something: every file has rows, the summary every kind of count
for f in milestones playbooks signals actions tracking history; do
  if [ "$(wc -l <"$sd/m/$f.csv")" -gt 50 ]; then ok; else bad "shard: merged $f.csv has too few rows to compare"; fi
done
for key in '"count": [1-9]' '"median_s": [0-9]' '"behind": [1-9]' '"done": [1-9]' '"values": {$' '"shard": null'; do
  if grep -q "$key" "$sd/m/summary.json"; then ok; else bad "shard: merged summary.json lacks $key"; fi
done
# each shard's rows are only its accounts', and its summary says which it is
for k in 1 2 3 4; do
  if grep -q "\"index\": $k," "$sd/s$k/summary.json" && grep -q '"count": 4$' "$sd/s$k/summary.json"; then ok
  else bad "shard $k: summary.json does not record shard $k/4"; fi
  tail -n +2 "$sd/s$k/milestones.csv" | cut -d, -f1 | sort -u >"$sd/ids$k"
  python3 "$root/tools/xxh64.py" --shard 4 $(cat "$sd/ids$k") | sort -u >"$sd/owners$k"
  if [ "$(cat "$sd/owners$k")" = "$k" ]; then ok; else bad "shard $k: accounts of shards $(tr '\n' ' ' <"$sd/owners$k")"; fi
done
# the program is recorded as the SHA-256 of its .msc
"$msl" build "$sd/rules.ms" -o "$sd/rules.msc"
sum=$(sha256sum "$sd/rules.msc" | cut -d' ' -f1)
if grep -q "\"program_sha256\": \"$sum\"" "$sd/one/summary.json"; then ok; else bad "shard: program_sha256 is not sha256sum of the .msc"; fi

shards_same "JSON Lines out, no --accounts" --events "$sd/log/events.csv" --format jsonl --history
shards_same "-j 2 and --as-of" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" -j 2 --as-of 2026-04-01
shards_same "one shard of 1" --events "$sd/log/events.csv"

# bad rows: each counted in one shard, a row with no account in shard 1;
# the latest row is bad, so the default as-of needs other shards' rows checked
python3 - "$sd/log/events.csv" "$sd/bad.csv" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
bad = ["acct000001,2026-02-01T00:00:00Z,login,u1,,,extra", ",2026-02-01T00:00:00Z,login,u1,,",
       "acct000002,notatime,login,u1,,", "acct000003,2026-02-02T00:00:00Z,,u1,,",
       "acct000999,2027-02-02T00:00:00Z,login,,,"]
for i, b in enumerate(bad):
    rows.insert(1000 * (i + 1), b)
open(sys.argv[2], "w").write("\n".join(rows) + "\n")
PY
rm -f "$sd"/rej*.csv
shards_same "bad rows with --rejects" --events "$sd/bad.csv" --rejects "$sd/rej.csv"
if grep -q '"rejected": 5' "$sd/m/summary.json"; then ok; else bad "shard: merged summary does not count 5 rejected rows"; fi
for k in 1 2 3 4; do "$msl" run "$sd/rules.ms" --events "$sd/bad.csv" --shard $k/4 --rejects "$sd/rej$k.csv" --out "$sd/r$k" 2>/dev/null; done
if [ "$(cat "$sd"/rej[1-4].csv | grep -vc '^file,line,reason,row$')" = 5 ]; then ok; else bad "shard: the shards' --rejects do not hold the 5 bad rows once"; fi
if grep -q 'cells' "$sd/rej1.csv" && ! grep -q 'cells' "$sd/rej2.csv" "$sd/rej3.csv" "$sd/rej4.csv"; then ok
else bad "shard: the ragged row is not shard 1's alone"; fi
# shards that share one --rejects path commit it at once: each run
# succeeds (a file another run moved away meanwhile has nothing to keep),
# and the file is one run's whole
for round in 1 2 3 4 5; do
  for k in 1 2 3 4 5 6; do
    ( "$msl" run "$sd/rules.ms" --events "$sd/bad.csv" --rejects "$sd/shared-rej.csv" --out "$sd/c$k" 2>"$sd/cerr$k"; echo $? >"$sd/cstatus$k" ) &
  done
  wait
  for k in 1 2 3 4 5 6; do
    [ "$(cat "$sd/cstatus$k")" = 0 ] || bad "shard: a run sharing --rejects failed (round $round): $(head -c 300 "$sd/cerr$k")"
  done
done
if [ "$(grep -vc '^file,line,reason,row$' "$sd/shared-rej.csv")" = 5 ]; then ok; else bad "shard: the shared --rejects is not one run's whole"; fi
expect_status "shard: a bad row stops shard 1" 3 "$msl" run "$sd/rules.ms" --events "$sd/bad.csv" --shard 1/4 --out "$sd/x"

# shuffled rows, split differently per shard: whole input in two files,
# only its own rows (gzipped), its own rows and some of others' as JSON
# Lines, its own rows in three files; all with --as-of
python3 - "$root/tools/xxh64.py" "$sd/log/events.csv" "$sd/split" <<'PY'
import csv, gzip, json, os, random, runpy, sys
xxh = runpy.run_path(sys.argv[1])
out = sys.argv[3]
os.makedirs(out, exist_ok=True)
with open(sys.argv[2]) as f:
    header, *rows = f.read().splitlines()
random.Random(4).shuffle(rows)
shard = {}
def of(row):
    acct = row.split(",", 1)[0]
    if acct not in shard:
        shard[acct] = xxh["account_hash"](acct.encode()) % 4 + 1
    return shard[acct]
def write(name, part):
    opener = gzip.open if name.endswith(".gz") else open
    with opener(os.path.join(out, name), "wt") as f:
        f.write(header + "\n" + "".join(r + "\n" for r in part))
half = len(rows) // 2
write("1a.csv", rows[:half]); write("1b.csv", rows[half:])
write("2.csv.gz", [r for r in rows if of(r) == 2])
names = header.split(",")
with open(os.path.join(out, "3.jsonl"), "w") as f:
    for i, r in enumerate(rows):
        if of(r) == 3 or i % 5 == 0:
            f.write(json.dumps({k: v for k, v in zip(names, next(csv.reader([r]))) if v != ""}) + "\n")
own = [r for r in rows if of(r) == 4]
for i in range(3):
    write("4%s.csv" % "abc"[i], own[i::3])
PY
shards_same "shuffled in two files, -j 3, sort memory 1M" --events "$sd/split/1a.csv" "$sd/split/1b.csv" -j 3 --memory-limit 1M
rm -rf "$sd/one" "$sd"/s[1-4] "$sd/m"
asof="--as-of 2026-05-01T12:00:00Z"
"$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" $asof --history --out "$sd/one"
"$msl" run "$sd/rules.ms" --events "$sd/split/1a.csv" "$sd/split/1b.csv" --accounts "$sd/log/accounts.csv" $asof --history --shard 1/4 --out "$sd/s1" &
"$msl" run "$sd/rules.ms" --events "$sd/split/2.csv.gz" --accounts "$sd/log/accounts.csv" $asof --history --shard 2/4 --out "$sd/s2" &
"$msl" run "$sd/rules.ms" --events "$sd/split/3.jsonl" --accounts "$sd/log/accounts.csv" $asof --history --shard 3/4 --out "$sd/s3" &
"$msl" run "$sd/rules.ms" --events "$sd/split/4a.csv" "$sd/split/4b.csv" "$sd/split/4c.csv" --accounts "$sd/log/accounts.csv" $asof --history --shard 4/4 --out "$sd/s4" &
wait
expect_status "shard split: merge" 0 "$msl" merge "$sd/s4" "$sd/s2" "$sd/s3" "$sd/s1" --out "$sd/m"
if diff -r "$sd/one" "$sd/m" >"$sd/diff"; then ok; else bad "shard split: merged != one run: $(head -c 600 "$sd/diff")"; fi

# shards that read only their own rows need --as-of: their default ones differ
for k in 2 4; do "$msl" run "$sd/rules.ms" --events "$sd/split/$k"* --shard $k/4 --out "$sd/own$k" 2>/dev/null; done
expect_status "shard: own rows without --as-of" 2 "$msl" merge "$sd/s1" "$sd/own2" "$sd/s3" "$sd/own4" --out "$sd/x"
expect_stderr "shard: own rows without --as-of" "give every shard the same --as-of"

# ---- refusals: exit 2, nothing written ----------------------------------------------------
rm -rf "$sd/x"
expect_status "merge: missing shard" 2 "$msl" merge "$sd/s1" "$sd/s2" "$sd/s3" --out "$sd/x"
expect_stderr "merge: missing shard" "shard 4/4 is missing"
expect_status "merge: duplicate shard" 2 "$msl" merge "$sd/s1" "$sd/s2" "$sd/s3" "$sd/s3" --out "$sd/x"
expect_stderr "merge: duplicate shard" "are both shard 3/4"
if [ -e "$sd/x/milestones.csv" ]; then bad "merge: a refused merge wrote results"; else ok; fi
sed 's/>= 5/>= 6/' "$sd/rules.ms" >"$sd/other.ms"
"$msl" run "$sd/other.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" $asof --history --shard 2/4 --out "$sd/o2"
expect_status "merge: other rules" 2 "$msl" merge "$sd/s1" "$sd/o2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: other rules" "were run with different rules"
"$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" --as-of 2026-05-02 --history --shard 2/4 --out "$sd/t2"
expect_status "merge: other --as-of" 2 "$msl" merge "$sd/s1" "$sd/t2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: other --as-of" "give every shard the same --as-of"
"$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" $asof --history --shard 2/4 --format jsonl --out "$sd/j2"
expect_status "merge: a mix of formats" 2 "$msl" merge "$sd/s1" "$sd/j2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: a mix of formats" "holds jsonl results and"
"$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" $asof --shard 2/4 --out "$sd/h2"
expect_status "merge: --history in some" 2 "$msl" merge "$sd/s1" "$sd/h2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: --history in some" "run every shard alike"
"$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" $asof --history --report-by plan --shard 2/4 --out "$sd/b2"
expect_status "merge: --report-by in some" 2 "$msl" merge "$sd/s1" "$sd/b2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: --report-by in some" "where shards of one run agree"
"$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" $asof --history --shard 2/3 --out "$sd/n2"
expect_status "merge: another N" 2 "$msl" merge "$sd/s1" "$sd/n2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: another N" "the shards of one run have one N"
expect_status "merge: not a shard" 2 "$msl" merge "$sd/one" --out "$sd/x"
expect_stderr "merge: not a shard" "is not a shard"
expect_status "merge: --out is a shard" 2 "$msl" merge "$sd/s1" "$sd/s2" "$sd/s3" "$sd/s4" --out "$sd/s4"
expect_stderr "merge: --out is a shard" "is the shard directory"
cp -r "$sd/s2" "$sd/v2"
cp "$sd/s1/milestones.csv" "$sd/v2/milestones.csv"
expect_status "merge: overlapping shards" 2 "$msl" merge "$sd/s1" "$sd/v2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: overlapping shards" "the shards overlap"
rm -rf "$sd/v2" && cp -r "$sd/s2" "$sd/v2"
printf '{"shard": ' >"$sd/v2/summary.json"
expect_status "merge: a broken summary.json" 3 "$msl" merge "$sd/s1" "$sd/v2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: a broken summary.json" "summary.json: not JSON"
rm -rf "$sd/v2" && cp -r "$sd/s2" "$sd/v2"
rm "$sd/v2/actions.csv"
expect_status "merge: a missing file" 4 "$msl" merge "$sd/s1" "$sd/v2" "$sd/s3" "$sd/s4" --out "$sd/x"
expect_stderr "merge: a missing file" "v2/actions.csv"
expect_status "merge: no --out" 2 "$msl" merge "$sd/s1"
expect_status "merge: an unknown option" 2 "$msl" merge "$sd/s1" --outt "$sd/x"

# ---- --shard errors -----------------------------------------------------------------------
for v in 0/4 5/4 x/y 4 1/0 /4 1/ -1/4 " 1/4"; do
  expect_status "--shard $v" 2 "$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --shard "$v"
  expect_stderr "--shard $v" "is not a shard K/N"
done
expect_status "--shard without --out" 0 "$msl" run "$sd/rules.ms" --events "$sd/log/events.csv" --accounts "$sd/log/accounts.csv" --shard 3/4
tail -n +2 "$tmp/out" | cut -d, -f1 | sort -u >"$sd/ids3o"
same "--shard without --out: shard 3's milestones" "$sd/ids3" "$sd/ids3o"
