# tracking.sh — on track, behind or stuck (issue 11): tracking.csv /
# tracking.jsonl, summary.json's "tracking" counts, `msl explain`, and
# `msl run --report-by FIELD`.  Expected rows are derived by hand from the
# rules in docs/language.md ("Tracking against the estimate").  Sourced by
# tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, expect_status,
# expect_stderr, same).

tk=$tmp/tracking
mkdir -p "$tk"

# tk_expect NAME FILE: FILE equals the text on standard input
tk_expect() {
  cat >"$tk/want"
  if [ -f "$2" ]; then same "$1" "$tk/want" "$2"; else bad "$1: $2 was not written"; fi
}

cat >"$tk/rules.ms" <<'MS'
account { plan: string = "smb", kickoff: time = @2026-01-01 }
event signup
event task { name: string }
event ticket
milestone setup "Setup" {
  start on signup
  estimate 8d
  action a "A" done when count(task where name == "a" since start) >= 1
  action b "B" done when count(task where name == "b" since start) >= 1
  blocked when count(ticket within 1d) > 0
}
milestone plain "Plain" {
  start at account.kickoff
  deadline 3d
  estimate 4d
  exit count(task where name == "z") >= 1
}
milestone gated "Gated" {
  start on signup
  estimate 10d
  entry count(task where name == "go") >= 1
  action c "C" done when count(task where name == "c") >= 1
}
milestone loose "No start clause" {
  estimate 2d
  exit count(task where name == "never") >= 1
}
milestone unplanned "No estimate" {
  start on signup
  exit count(task where name == "never") >= 1
}
milestone live "Live" {
  mode continuous
  start on signup
  exit count(task) >= 1
}
MS
# T = 2026-01-05.  setup: 8d, so its last quarter is (01-03, 01-05].
# r: setup reset at 01-04 (its `a` of 01-01 is of the last epoch): 1d of 8d
#    = 0.125, nothing done, on track; plain: 4d of 4d, e = 1 is not behind;
#    gated pending 4d of 10d, progress 0 < 0.4 - 0.25: behind.
# v: setup started 01-04T12:00, 0.0625: on track; plain completed: no row;
#    gated pending at 0.05: on track.
# w: no events; plain started 2025-12-31: 5d of 4d, behind.
# x: setup 0.5 elapsed, 1 of 2 done on 01-02, none since 01-03: stuck.
# y: setup blocked, 1 of 2 done on 01-04: on track; gated entered, behind.
# z: setup started 01-03, exactly a quarter elapsed, nothing done: stuck;
#    plain started 01-02 (its deadline 01-05 is T: in progress), 0.75;
#    gated completed: no row.
cat >"$tk/accounts.csv" <<'CSV'
id,plan,kickoff
r,smb,
v,enterprise,
w,enterprise,2025-12-31
x,smb,
y,,
z,smb,2026-01-02
CSV
cat >"$tk/events.csv" <<'CSV'
account,time,event,name,milestone
r,2026-01-01,signup,,
r,2026-01-01T06:00:00Z,task,a,
r,2026-01-04,ms.reset,,setup
v,2026-01-02,task,z,
v,2026-01-04T12:00:00Z,signup,,
x,2026-01-01,signup,,
x,2026-01-02,task,a,
y,2026-01-01,signup,,
y,2026-01-02,task,go,
y,2026-01-04,task,a,
y,2026-01-04T12:00:00Z,ticket,,
z,2026-01-03,signup,,
z,2026-01-03,task,go,
z,2026-01-04,task,c,
CSV
expect_status "tracking: run" 0 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --out "$tk/o"
tk_expect "tracking: tracking.csv" "$tk/o/tracking.csv" <<'CSV'
account,milestone,tracking,expected_progress,progress
r,setup,on_track,0.125,0
r,plain,on_track,1,
r,gated,behind,0.4,0
v,setup,on_track,0.0625,0
v,gated,on_track,0.05,0
w,plain,behind,1,
x,setup,stuck,0.5,0.5
x,plain,on_track,1,
x,gated,behind,0.4,0
y,setup,on_track,0.5,0.5
y,plain,on_track,1,
y,gated,behind,0.4,0
z,setup,stuck,0.25,0
z,plain,on_track,0.75,
CSV
# the statuses the rows come from, and milestones.csv's columns unchanged
tk_expect "tracking: milestones.csv" "$tk/o/milestones.csv" <<'CSV'
account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress
r,setup,in_progress,2026-01-04T00:00:00Z,2026-01-04T00:00:00Z,,,,,0
r,plain,overdue,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,2026-01-04T00:00:00Z,false,
r,gated,pending,2026-01-01T00:00:00Z,,,,,,0
r,loose,in_progress,,,,,,,
r,unplanned,in_progress,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,,,
r,live,achieving,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-01T06:00:00Z,,,,
v,setup,in_progress,2026-01-04T12:00:00Z,2026-01-04T12:00:00Z,,,,,0
v,plain,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,2026-01-04T00:00:00Z,true,
v,gated,pending,2026-01-04T12:00:00Z,,,,,,0
v,loose,in_progress,,,,,,,
v,unplanned,in_progress,2026-01-04T12:00:00Z,2026-01-04T12:00:00Z,,,,,
v,live,achieving,2026-01-04T12:00:00Z,2026-01-04T12:00:00Z,2026-01-04T12:00:00Z,,,,
w,setup,not_started,,,,,,,0
w,plain,overdue,2025-12-31T00:00:00Z,2025-12-31T00:00:00Z,,,2026-01-03T00:00:00Z,false,
w,gated,not_started,,,,,,,0
w,loose,in_progress,,,,,,,
w,unplanned,not_started,,,,,,,
w,live,not_started,,,,,,,
x,setup,in_progress,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,,,0.5
x,plain,overdue,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,2026-01-04T00:00:00Z,false,
x,gated,pending,2026-01-01T00:00:00Z,,,,,,0
x,loose,in_progress,,,,,,,
x,unplanned,in_progress,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,,,
x,live,achieving,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,,
y,setup,blocked,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,,,0.5
y,plain,overdue,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,2026-01-04T00:00:00Z,false,
y,gated,in_progress,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,,,0
y,loose,in_progress,,,,,,,
y,unplanned,in_progress,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,,,
y,live,achieving,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,,
z,setup,in_progress,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,,,,,0
z,plain,in_progress,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,2026-01-05T00:00:00Z,,
z,gated,completed,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,2026-01-04T00:00:00Z,,,,1
z,loose,in_progress,,,,,,,
z,unplanned,in_progress,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,,,,,
z,live,achieving,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,,,,
CSV
# summary.json: counts per milestone that can be tracked, null for the others
python3 - "$tk/o/summary.json" >"$tk/summary.txt" 2>&1 <<'PY'
import json, sys
for m in json.load(open(sys.argv[1]))["milestones"]:
    print(m["name"], json.dumps(m["tracking"]), "by" in m)
PY
tk_expect "tracking: summary.json counts" "$tk/summary.txt" <<'TXT'
setup {"on_track": 3, "behind": 0, "stuck": 2} False
plain {"on_track": 4, "behind": 1, "stuck": 0} False
gated {"on_track": 1, "behind": 3, "stuck": 0} False
loose null False
unplanned null False
live null False
TXT

# ---- JSON Lines ---------------------------------------------------------------------------------
expect_status "tracking: run jsonl" 0 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --out "$tk/oj" --format jsonl
head -3 "$tk/oj/tracking.jsonl" >"$tk/head.jsonl"
tk_expect "tracking: tracking.jsonl" "$tk/head.jsonl" <<'JSONL'
{"account":"r","milestone":"setup","tracking":"on_track","expected_progress":0.125,"progress":0}
{"account":"r","milestone":"plain","tracking":"on_track","expected_progress":1,"progress":null}
{"account":"r","milestone":"gated","tracking":"behind","expected_progress":0.4,"progress":0}
JSONL
if [ "$(wc -l <"$tk/oj/tracking.jsonl")" = 14 ]; then ok; else bad "tracking: tracking.jsonl has $(wc -l <"$tk/oj/tracking.jsonl") rows, not 14"; fi
# without --out only milestones go to standard output
expect_status "tracking: stdout run" 0 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" --as-of 2026-01-05
if grep -q "stuck\|on_track" "$tmp/out"; then bad "tracking: rows on standard output"; else ok; fi

# ---- msl explain --------------------------------------------------------------------------------
expect_status "tracking: explain stuck" 0 "$msl" explain "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --account x --milestone setup
for want in 'tracking: stuck (4d of the 8d estimate elapsed: expected progress 0.5, progress 0.5)' \
  'no action done in the last quarter of the estimate, after 2026-01-03T00:00:00Z; the last one at 2026-01-02T00:00:00Z'; do
  if grep -qF -- "$want" "$tmp/out"; then ok; else bad "tracking: explain lacks '$want': $(cat "$tmp/out")"; fi
done
expect_status "tracking: explain behind" 0 "$msl" explain "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --account w --milestone plain
for want in 'tracking: behind (5d of the 4d estimate elapsed: expected progress 1)' '    past the estimate'; do
  if grep -qF -- "$want" "$tmp/out"; then ok; else bad "tracking: explain lacks '$want': $(cat "$tmp/out")"; fi
done
expect_status "tracking: explain JSON" 0 "$msl" explain "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --account z --format json
python3 - "$tmp/out" >"$tk/explain.txt" 2>&1 <<'PY'
import json, sys
for m in json.load(open(sys.argv[1]))["milestones"]:
    print(m["name"], json.dumps(m.get("tracking")))
PY
tk_expect "tracking: explain JSON tracking" "$tk/explain.txt" <<'TXT'
setup {"state": "stuck", "expected_progress": 0.25, "progress": 0, "last_action_at": null}
plain {"state": "on_track", "expected_progress": 0.75, "progress": null, "last_action_at": null}
gated null
loose null
unplanned null
live null
TXT

# ---- --report-by --------------------------------------------------------------------------------
expect_status "report-by: run" 0 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --out "$tk/by" --report-by plan
# y's empty plan cell takes the default, smb; every value's counts add up to "status"
python3 - "$tk/by/summary.json" >"$tk/by.txt" 2>&1 <<'PY'
import json, sys
for m in json.load(open(sys.argv[1]))["milestones"]:
    by = m["by"]
    assert by["field"] == "plan", by
    sums = {s: sum(v[s] for v in by["values"].values()) for s in m["status"]}
    assert sums == m["status"], (m["name"], sums, m["status"])
    for v in by["values"].values():
        assert list(v) == list(m["status"]), v
    print(m["name"], " ".join("%s:%s" % (k, ",".join("%s=%d" % (s, n) for s, n in v.items() if n))
                              for k, v in by["values"].items()))
PY
tk_expect "report-by: counts by plan" "$tk/by.txt" <<'TXT'
setup enterprise:not_started=1,in_progress=1 smb:blocked=1,in_progress=3
plain enterprise:completed=1,overdue=1 smb:overdue=3,in_progress=1
gated enterprise:not_started=1,pending=1 smb:completed=1,pending=2,in_progress=1
loose enterprise:in_progress=2 smb:in_progress=4
unplanned enterprise:not_started=1,in_progress=1 smb:in_progress=4
live enterprise:not_started=1,achieving=1 smb:achieving=4
TXT
# the other outputs are those of a run without it
for f in milestones.csv tracking.csv actions.csv; do same "report-by: $f unchanged" "$tk/o/$f" "$tk/by/$f"; done
# a time field: values as their CSV text
expect_status "report-by: time field" 0 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --as-of 2026-01-05 --out "$tk/by_time" --report-by kickoff
python3 - "$tk/by_time/summary.json" >"$tk/by_time.txt" 2>&1 <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["milestones"][1]
print(" ".join("%s=%d" % (k, sum(v.values())) for k, v in m["by"]["values"].items()))
PY
tk_expect "report-by: time values" "$tk/by_time.txt" <<'TXT'
2025-12-31T00:00:00Z=1 2026-01-01T00:00:00Z=4 2026-01-02T00:00:00Z=1
TXT
# errors: an unknown field (with the closest), `id`, no --out
expect_status "report-by: unknown field" 2 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --out "$tk/bad" --report-by plna
expect_stderr "report-by: did you mean" "msl: --report-by: no account field \`plna\`; did you mean \`plan\`?"
if [ -e "$tk/bad" ]; then bad "report-by: a usage error created --out"; else ok; fi
expect_status "report-by: id" 2 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --out "$tk/bad" --report-by id
expect_stderr "report-by: id is not a field" "msl: --report-by: no account field \`id\` in the rules"
expect_status "report-by: without --out" 2 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --accounts "$tk/accounts.csv" \
  --report-by plan
expect_stderr "report-by: without --out" "msl: --report-by adds to summary.json, which only --out DIR writes"
expect_status "report-by: no value" 2 "$msl" run "$tk/rules.ms" --events "$tk/events.csv" --out "$tk/bad" --report-by
expect_stderr "report-by: no value" "msl: --report-by needs a value"

# ---- -j 1 and -j 2 give the same files ------------------------------------------------------------
awk 'BEGIN {
  print "account,time,event,name,milestone"
  for (i = 0; i < 600; i++) {
    id = sprintf("acct%04d", i); d = 1 + i % 4
    printf "%s,2026-01-0%d,signup,,\n", id, d
    if (i % 3 == 0) printf "%s,2026-01-0%dT06:00:00Z,task,a,\n", id, d
    if (i % 5 == 0) printf "%s,2026-01-04T10:00:00Z,task,b,\n", id
    if (i % 7 == 0) printf "%s,2026-01-02,task,go,\n", id
    if (i % 11 == 0) printf "%s,2026-01-04T18:00:00Z,ticket,,\n", id
  }
}' >"$tk/many.csv"
for j in 1 2; do
  expect_status "tracking: -j $j" 0 "$msl" run "$tk/rules.ms" --events "$tk/many.csv" --as-of 2026-01-05T12:00:00Z \
    --out "$tk/many$j" -j "$j" --report-by plan
done
for f in tracking.csv summary.json; do same "tracking: -j 1 vs -j 2 $f" "$tk/many1/$f" "$tk/many2/$f"; done
for state in on_track behind stuck; do
  if grep -q ",$state," "$tk/many1/tracking.csv"; then ok; else bad "tracking: -j: no $state row to compare"; fi
done
