# signals.sh — alerts and outputs that carry the why (issue 10): `on
# overdue emit` and `on lost emit` (SPEC 6 "Signals"), the order of
# signals.csv, actions.csv / actions.jsonl and the milestone texts and
# actions in summary.json (SPEC 7).  Expected rows are derived by hand from
# the SPEC.  Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok,
# bad, expect_status, same).

sg=$tmp/signals
mkdir -p "$sg"

# sg_expect NAME FILE: FILE equals the text on standard input
sg_expect() {
  cat >"$sg/want"
  if [ -f "$2" ]; then same "$1" "$sg/want" "$2"; else bad "$1: $2 was not written"; fi
}

# ---- overdue: deadline D, deadline at, a start after its deadline --------------------
# a: onboard's deadline is 01-03, completed 01-05: overdue at 01-03, done at 01-05;
#    renew (unbounded start, deadline at 01-04) never completes: overdue at 01-04;
#    late_start starts 01-06, after its deadline 01-03: overdue from its start.
# b: onboard completes at its deadline 01-03: not overdue; renew completes in time.
# c: onboard starts 01-08, deadline 01-10 == T: not past it, so not overdue;
#    renew's evaluation begins at c's first row, 01-08, after the deadline: overdue there.
cat >"$sg/overdue.ms" <<'MS'
account { due: time = @2026-01-04 }
event signup
event login
milestone onboard "Onboard" {
  start on signup
  deadline 2d
  exit count(login since start) >= 2
  on overdue emit "onboard_late"
  on achieved emit "onboard_done"
}
milestone renew "Renew" {
  deadline at account.due
  exit count(login) >= 3
  on overdue emit "renew_late"
}
milestone late_start "Late start" {
  start at @2026-01-06
  deadline at @2026-01-03
  exit count(login) >= 100
  on overdue emit "late_start_late"
}
MS
cat >"$sg/overdue.csv" <<'CSV'
account,time,event
a,2026-01-01,signup
a,2026-01-02,login
a,2026-01-05,login
b,2026-01-01,signup
b,2026-01-02,login
b,2026-01-03,login
b,2026-01-03T06:00:00Z,login
c,2026-01-08,signup
CSV
expect_status "signals: overdue run" 0 "$msl" run "$sg/overdue.ms" --events "$sg/overdue.csv" --as-of 2026-01-10 --out "$sg/overdue"
sg_expect "signals: overdue signals.csv" "$sg/overdue/signals.csv" <<'CSV'
account,signal,source,time
a,onboard_late,onboard,2026-01-03T00:00:00Z
a,renew_late,renew,2026-01-04T00:00:00Z
a,onboard_done,onboard,2026-01-05T00:00:00Z
a,late_start_late,late_start,2026-01-06T00:00:00Z
b,onboard_done,onboard,2026-01-03T00:00:00Z
b,late_start_late,late_start,2026-01-06T00:00:00Z
c,late_start_late,late_start,2026-01-06T00:00:00Z
c,renew_late,renew,2026-01-08T00:00:00Z
CSV
# T before every deadline: no overdue signal at all
expect_status "signals: overdue, early T" 0 "$msl" run "$sg/overdue.ms" --events "$sg/overdue.csv" --as-of 2026-01-02T12:00:00Z --out "$sg/early"
sg_expect "signals: overdue, early T signals.csv" "$sg/early/signals.csv" <<'CSV'
account,signal,source,time
CSV

# ---- overdue and resets: once per start epoch ---------------------------------------------
# d: reset 01-02 before max(s, d) = 01-03: the first epoch is not overdue; the
#    second (start 01-02, deadline 01-04) is.
# e: reset 01-05 after 01-03: the first epoch is overdue at 01-03; the second
#    completes (01-06) before its deadline 01-07.
# f: reset at 01-03 == max(s, d): not overdue; the second epoch completes in time.
# g: the first epoch completed in time; the second (from 01-06) is overdue at 01-08.
# watch (continuous, deadline 1d) is overdue at 01-02 for d, e, f; for g it
# was achieved at its deadline 01-02, then reset at 01-06 and overdue at 01-07.
cat >"$sg/reset.ms" <<'MS'
event signup
event buy
milestone trial "Trial" {
  start on signup
  deadline 2d
  exit count(buy since start) >= 1
  on overdue emit "trial_late"
}
milestone watch "Watch" {
  mode continuous
  start on signup
  deadline 1d
  exit count(buy since start) >= 1
  on overdue emit "watch_late"
}
MS
cat >"$sg/reset.csv" <<'CSV'
account,time,event,milestone
d,2026-01-01,signup,
d,2026-01-02,ms.reset,trial
e,2026-01-01,signup,
e,2026-01-05,ms.reset,trial
e,2026-01-06,buy,
f,2026-01-01,signup,
f,2026-01-03,ms.reset,trial
f,2026-01-04,buy,
g,2026-01-01,signup,
g,2026-01-02,buy,
g,2026-01-06,ms.reset,trial
g,2026-01-06,ms.reset,watch
CSV
expect_status "signals: reset run" 0 "$msl" run "$sg/reset.ms" --events "$sg/reset.csv" --as-of 2026-01-10 --out "$sg/reset"
sg_expect "signals: reset signals.csv" "$sg/reset/signals.csv" <<'CSV'
account,signal,source,time
d,watch_late,watch,2026-01-02T00:00:00Z
d,trial_late,trial,2026-01-04T00:00:00Z
e,watch_late,watch,2026-01-02T00:00:00Z
e,trial_late,trial,2026-01-03T00:00:00Z
f,watch_late,watch,2026-01-02T00:00:00Z
g,watch_late,watch,2026-01-07T00:00:00Z
g,trial_late,trial,2026-01-08T00:00:00Z
CSV

# ---- lost: every achieving -> not achieving change; a reset is never a loss -----------------
# h: achieving at 01-01, 01-03, 01-05, lost a day later each time; the two
#    `on lost` clauses fire at one instant in clause order, and signals of one
#    instant follow the sources' declaration order (active before first).
# i: streak counts logins since its start: the reset at 01-02 makes it not
#    achieving, which is no loss; the login at 01-03 makes it achieving again.
cat >"$sg/lost.ms" <<'MS'
event login
milestone active "Active" {
  mode continuous
  exit count(login within 1d) >= 1
  on lost emit "quiet"
  on achieved emit "active"
  on lost emit "quiet_again"
}
milestone streak "Streak" {
  mode continuous
  exit count(login since start) >= 1
  on lost emit "streak_lost"
}
milestone first "First login" {
  exit count(login) >= 1
  on achieved emit "first_login"
}
MS
cat >"$sg/lost.csv" <<'CSV'
account,time,event,milestone
i,2026-01-03,login,
h,2026-01-05,login,
h,2026-01-01,login,
i,2026-01-01,login,
h,2026-01-03,login,
i,2026-01-02,ms.reset,streak
CSV
expect_status "signals: lost run" 0 "$msl" run "$sg/lost.ms" --events "$sg/lost.csv" --as-of 2026-01-10 --out "$sg/lost"
sg_expect "signals: lost signals.csv" "$sg/lost/signals.csv" <<'CSV'
account,signal,source,time
h,active,active,2026-01-01T00:00:00Z
h,first_login,first,2026-01-01T00:00:00Z
h,quiet,active,2026-01-02T00:00:00Z
h,quiet_again,active,2026-01-02T00:00:00Z
h,active,active,2026-01-03T00:00:00Z
h,quiet,active,2026-01-04T00:00:00Z
h,quiet_again,active,2026-01-04T00:00:00Z
h,active,active,2026-01-05T00:00:00Z
h,quiet,active,2026-01-06T00:00:00Z
h,quiet_again,active,2026-01-06T00:00:00Z
i,active,active,2026-01-01T00:00:00Z
i,first_login,first,2026-01-01T00:00:00Z
i,quiet,active,2026-01-02T00:00:00Z
i,quiet_again,active,2026-01-02T00:00:00Z
i,active,active,2026-01-03T00:00:00Z
i,quiet,active,2026-01-04T00:00:00Z
i,quiet_again,active,2026-01-04T00:00:00Z
CSV
# the same from the compiled program
expect_status "signals: build lost.msc" 0 "$msl" build "$sg/lost.ms" -o "$sg/lost.msc"
expect_status "signals: run lost.msc" 0 "$msl" run "$sg/lost.msc" --events "$sg/lost.csv" --as-of 2026-01-10 --out "$sg/lost_msc"
same "signals: lost .ms vs .msc" "$sg/lost/signals.csv" "$sg/lost_msc/signals.csv"

# ---- actions.csv, actions.jsonl, summary.json -------------------------------------------------
# a: invite done 01-02, call (two logins since the start) 01-03, notes never.
# b: the reset at 01-02 clears what was done; one login since then.
# c: setup never starts: every done_at is empty.
cat >"$sg/actions.ms" <<'MS'
event signup
event login
event invite
milestone setup "Setup" {
  description "Workspace ready"
  csm "Book the kickoff call"
  start on signup
  action invite "Invite the team" owner customer done when count(invite since start) >= 1
  action call "Kickoff call" owner csm done when count(login since start) >= 2
  action notes "Write \"notes\"" done when count(login since start) >= 3
}
milestone plain { exit count(login) >= 1 }
MS
cat >"$sg/actions.csv" <<'CSV'
account,time,event,milestone
a,2026-01-01,signup,
a,2026-01-02,invite,
a,2026-01-02,login,
a,2026-01-03,login,
b,2026-01-01,signup,
b,2026-01-01,invite,
b,2026-01-02,ms.reset,setup
b,2026-01-04,login,
c,2026-01-01,login,
CSV
expect_status "signals: actions run" 0 "$msl" run "$sg/actions.ms" --events "$sg/actions.csv" --out "$sg/actions"
sg_expect "signals: actions.csv" "$sg/actions/actions.csv" <<'CSV'
account,milestone,action,owner,done_at
a,setup,invite,customer,2026-01-02T00:00:00Z
a,setup,call,csm,2026-01-03T00:00:00Z
a,setup,notes,,
b,setup,invite,customer,
b,setup,call,csm,
b,setup,notes,,
c,setup,invite,customer,
c,setup,call,csm,
c,setup,notes,,
CSV
expect_status "signals: actions jsonl run" 0 "$msl" run "$sg/actions.ms" --events "$sg/actions.csv" --format jsonl --out "$sg/actions_jsonl"
sg_expect "signals: actions.jsonl" "$sg/actions_jsonl/actions.jsonl" <<'JSONL'
{"account":"a","milestone":"setup","action":"invite","owner":"customer","done_at":"2026-01-02T00:00:00Z"}
{"account":"a","milestone":"setup","action":"call","owner":"csm","done_at":"2026-01-03T00:00:00Z"}
{"account":"a","milestone":"setup","action":"notes","owner":null,"done_at":null}
{"account":"b","milestone":"setup","action":"invite","owner":"customer","done_at":null}
{"account":"b","milestone":"setup","action":"call","owner":"csm","done_at":null}
{"account":"b","milestone":"setup","action":"notes","owner":null,"done_at":null}
{"account":"c","milestone":"setup","action":"invite","owner":"customer","done_at":null}
{"account":"c","milestone":"setup","action":"call","owner":"csm","done_at":null}
{"account":"c","milestone":"setup","action":"notes","owner":null,"done_at":null}
JSONL
if [ -e "$sg/actions_jsonl/actions.csv" ]; then bad "signals: --format jsonl wrote actions.csv"; else ok; fi
# the new keys of each milestone entry, after the ones summary.json had
python3 - "$sg/actions/summary.json" >"$sg/summary.txt" 2>&1 <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
for m in doc["milestones"]:
    keys = list(m)   # later keys ("tracking", ...) follow these
    print(keys[keys.index("description"):][:4], m["name"], m["description"], m["csm"], m["customer"], json.dumps(m["actions"]))
PY
sg_expect "signals: summary.json milestone texts and actions" "$sg/summary.txt" <<'TXT'
['description', 'csm', 'customer', 'actions'] setup Workspace ready Book the kickoff call None [{"name": "invite", "label": "Invite the team", "owner": "customer", "done": 1}, {"name": "call", "label": "Kickoff call", "owner": "csm", "done": 1}, {"name": "notes", "label": "Write \"notes\"", "owner": null, "done": 0}]
['description', 'csm', 'customer', 'actions'] plain None None None []
TXT
# a program without actions: actions.csv is a header
sg_expect "signals: actions.csv without actions" "$sg/lost/actions.csv" <<'CSV'
account,milestone,action,owner,done_at
CSV
# without --out, standard output has the milestones alone, as before
expect_status "signals: actions to stdout" 0 "$msl" run "$sg/actions.ms" --events "$sg/actions.csv"
if grep -q 'invite' "$tmp/out"; then bad "signals: stdout carries actions: $(head -3 "$tmp/out")"; else ok; fi

# ---- -j 1 and -j 2 give the same actions.csv and signals.csv ---------------------------------
awk 'BEGIN { srand(3); print "account,time,event,milestone";
  for (i = 0; i < 4000; i++) {
    printf "acct%04d,2026-01-0%d,signup,\n", i, 1 + i % 3
    n = int(rand() * 5)
    for (k = 0; k < n; k++) printf "acct%04d,2026-01-0%dT%02d:00:00Z,%s,\n", i, 2 + int(rand() * 6), int(rand() * 24), rand() < 0.3 ? "invite" : "login"
    if (rand() < 0.1) printf "acct%04d,2026-01-05,ms.reset,setup\n", i } }' >"$sg/many.csv"
cat >"$sg/many.ms" <<'MS'
event signup
event login
event invite
milestone setup "Setup" {
  start on signup
  deadline 3d
  action invite "Invite the team" owner customer done when count(invite since start) >= 1
  action call "Kickoff call" owner csm done when count(login since start) >= 2
  on overdue emit "setup_late"
  on achieved emit "setup_done"
}
milestone busy {
  mode continuous
  exit count(login within 1d) >= 2
  on lost emit "busy_lost"
}
MS
for j in 1 2; do
  expect_status "signals: many -j $j" 0 "$msl" run "$sg/many.ms" --events "$sg/many.csv" -j $j --out "$sg/many$j"
done
for f in actions.csv signals.csv summary.json; do same "signals: -j 1 vs -j 2 $f" "$sg/many1/$f" "$sg/many2/$f"; done
if grep -q ',setup_late,' "$sg/many1/signals.csv" && grep -q ',busy_lost,' "$sg/many1/signals.csv" &&
   grep -q ',csm,2026' "$sg/many1/actions.csv"; then ok
else bad "signals: the -j comparison has too little to compare"; fi
