# history.sh — `msl run --history` (issue 11): history.csv holds every
# status change of each account's milestones and every step change of its
# playbooks.  Over every acceptance case: its last state per item equals
# milestones.csv / playbooks.csv, the other outputs are unchanged (but for
# summary.json's "history"), and each change agrees with an as-of run at
# its instant (and its `from` with one just before).  Then rows derived by hand from SPEC 6: overdue stamped at
# the deadline (none when T equals it), reset, blocked and unblocked,
# continuous achieving / not_achieving, changes at one instant collapsed,
# a failing `blocked when` at an instant that is not T; -j, JSON Lines, and
# --history without --out.  Sourced by tests/e2e/run.sh with its helpers
# ($msl, $tmp, ok, bad, expect_status, same).

hi=$tmp/history
mkdir -p "$hi"

# hi_expect NAME FILE: FILE equals the text on standard input
hi_expect() {
  cat >"$hi/want"
  if [ -f "$2" ]; then same "$1" "$hi/want" "$2"; else bad "$1: $2 was not written"; fi
}

# ---- every case: the last state is the result; each change is what an as-of run reports ----
cat >"$hi/agree.py" <<'PY'
import csv, datetime, filecmp, os, subprocess, sys, tempfile
msl, tmp_root, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
MAX_TIMES = 8          # as-of runs per case (evenly spread over its instants)
ONE = datetime.timedelta(microseconds=1)

def rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))

def parse(ts):
    form = '%Y-%m-%dT%H:%M:%S.%f%z' if '.' in ts else '%Y-%m-%dT%H:%M:%S%z'
    return datetime.datetime.strptime(ts.replace('Z', '+0000'), form)

def show(t):
    return t.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')

def run(cdir, args, out, extra=()):
    return subprocess.run([msl, 'run', 'rules.ms'] + args + ['--out', out] + list(extra), cwd=cdir,
                          capture_output=True)

def states(out):
    st = {}
    for r in rows(os.path.join(out, 'milestones.csv')):
        st[(r['account'], 'milestone', r['milestone'])] = r['status']
    for r in rows(os.path.join(out, 'playbooks.csv')):
        st[(r['account'], 'playbook', r['playbook'])] = r['step']
    return st

def same_result(plain, history):
    # summary.json records "history" (for msl merge), and nothing else changes
    if os.path.basename(plain) != 'summary.json':
        return filecmp.cmp(plain, history, shallow=False)
    text = [open(f).read().replace('"history": true,', '"history": false,') for f in (plain, history)]
    return text[0] == text[1]

def check_case(cdir, tmp):
    args = ['--events', 'events.csv']
    if os.path.isfile(os.path.join(cdir, 'accounts.csv')):
        args += ['--accounts', 'accounts.csv']
    as_of = []
    if os.path.isfile(os.path.join(cdir, 'as_of')):
        as_of = ['--as-of', open(os.path.join(cdir, 'as_of')).read().strip()]
    plain, out = os.path.join(tmp, 'plain'), os.path.join(tmp, 'history')
    p = run(cdir, args + as_of, plain)
    h = run(cdir, args + as_of, out, ['--history'])
    if p.returncode != h.returncode or p.stderr != h.stderr:
        return ['--history changes the run: exit %d, %s' % (h.returncode, h.stderr.decode()[:300])]
    if p.returncode != 0:
        return None    # an error case: history fails exactly as the run does
    problems = ['%s differs with --history' % f for f in sorted(os.listdir(plain))
                if not same_result(os.path.join(plain, f), os.path.join(out, f))]
    hist = rows(os.path.join(out, 'history.csv'))
    final = states(out)
    keys = [(r['account'].encode(), parse(r['at'])) for r in hist]
    if keys != sorted(keys):
        problems.append('rows not in account then time order')
    last, seen = {}, set()
    for r in hist:
        item = (r['account'], r['kind'], r['name'])
        if (item, r['at']) in seen:
            problems.append('two rows for %s at %s' % (item, r['at']))
        seen.add((item, r['at']))
        if r['from'] != last.get(item, ''):
            problems.append('%s at %s: from %r after %r' % (item, r['at'], r['from'], last.get(item, '')))
        if r['from'] == r['to'] or r['to'] in ('', 'not_started'):
            problems.append('%s at %s: %r to %r is no change' % (item, r['at'], r['from'], r['to']))
        last[item] = r['to']
    # the last state is the result; an item never started has no row
    for item, want in final.items():
        got = last.get(item, 'not_started' if item[1] == 'milestone' else '')
        if got != want:
            problems.append('%s: history ends at %r, the result is %r' % (item, got, want))
    problems += ['%s: history of an item without a result row' % (i,) for i in last if i not in final]
    # each `to` is an as-of run's status at the row's instant (just after
    # it for overdue, stamped at the deadline), each `from` one's just before
    checks, prev = {}, {}
    for r in hist:
        item, x = (r['account'], r['kind'], r['name']), parse(r['at'])
        checks.setdefault(x + ONE if r['to'] == 'overdue' else x, []).append((item, r['to']))
        if r['from'] and prev.get(item, x) < x - ONE:
            checks.setdefault(x - ONE, []).append((item, r['from']))
        prev[item] = x
    times = sorted(checks)
    if len(times) > MAX_TIMES:
        times = [times[i * len(times) // MAX_TIMES] for i in range(MAX_TIMES)]
    for t in times:
        q = run(cdir, args + ['--as-of', show(t)], os.path.join(tmp, 'asof'))
        if q.returncode != 0:
            problems.append('as-of %s fails: %s' % (show(t), q.stderr.decode()[:200]))
            continue
        st = states(os.path.join(tmp, 'asof'))
        problems += ['%s: %r at %s in history, %r as of then' % (item, want, show(t), st.get(item))
                     for item, want in checks[t] if st.get(item) != want]
    return problems

for root in roots:
    for case in sorted(os.listdir(root)):
        cdir = os.path.join(root, case)
        if not os.path.isfile(os.path.join(cdir, 'rules.ms')):
            continue
        with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
            problems = check_case(cdir, tmp)
        if problems is None:
            continue
        for p in problems[:5]:
            print('%s: %s' % (case, p))
        if not problems:
            print('ok')
PY
if [ -d ../shared/acceptance/cases ]; then
  python3 "$hi/agree.py" "$msl" "$hi" ../shared/acceptance/cases tests/cases >"$hi/agree.out" 2>&1
  while read -r line; do
    case $line in ok) ok ;; *) bad "history: $line" ;; esac
  done <"$hi/agree.out"
  [ -s "$hi/agree.out" ] || bad "history: no case was compared"
else
  bad "history: ../shared/acceptance/cases not found (CI puts ../shared beside the clone)"
fi

# ---- overdue: stamped at the deadline, only when T is past it ----------------------------
# a: in progress from its start 01-01, overdue at its deadline 01-03, completed 01-05.
# b: starts 01-08, deadline 01-10 == T: not past it, so never overdue.
# c: pending from 01-01; entered at 01-03, its deadline: in_progress there and
#    overdue just after make one row, pending -> overdue.
# quiet never starts: no row.
cat >"$hi/overdue.ms" <<'MS'
event signup
event login
event kickoff
milestone onboard "Onboard" {
  start on signup
  deadline 2d
  exit count(login since start) >= 2
}
milestone setup "Setup" {
  start on signup
  entry count(kickoff since start) >= 1
  deadline at @2026-01-03
  exit count(login since start) >= 5
}
milestone quiet "Quiet" {
  start on kickoff
  deadline 1d
  exit count(login) >= 100
}
MS
cat >"$hi/overdue.csv" <<'CSV'
account,time,event
a,2026-01-01,signup
a,2026-01-02,login
a,2026-01-05,login
b,2026-01-08,signup
c,2026-01-01,signup
CSV
expect_status "history: overdue run" 0 "$msl" run "$hi/overdue.ms" --events "$hi/overdue.csv" --as-of 2026-01-10 --out "$hi/overdue" --history
hi_expect "history: overdue history.csv" "$hi/overdue/history.csv" <<'CSV'
account,kind,name,from,to,at
a,milestone,onboard,,in_progress,2026-01-01T00:00:00Z
a,milestone,setup,,pending,2026-01-01T00:00:00Z
a,milestone,onboard,in_progress,overdue,2026-01-03T00:00:00Z
a,milestone,onboard,overdue,completed,2026-01-05T00:00:00Z
b,milestone,onboard,,in_progress,2026-01-08T00:00:00Z
b,milestone,setup,,pending,2026-01-08T00:00:00Z
c,milestone,onboard,,in_progress,2026-01-01T00:00:00Z
c,milestone,setup,,pending,2026-01-01T00:00:00Z
c,milestone,onboard,in_progress,overdue,2026-01-03T00:00:00Z
CSV
# a microsecond later, b is past its deadline
expect_status "history: overdue run, T past b's deadline" 0 "$msl" run "$hi/overdue.ms" --events "$hi/overdue.csv" --as-of 2026-01-10T00:00:00.000001Z --out "$hi/overdue_late" --history
if grep -qx 'b,milestone,onboard,in_progress,overdue,2026-01-10T00:00:00Z' "$hi/overdue_late/history.csv"; then ok; else bad "history: b is overdue once T is past its deadline: $(cat "$hi/overdue_late/history.csv")"; fi
# c enters at its deadline: one row, pending -> overdue
printf 'c,2026-01-03,kickoff\n' >>"$hi/overdue.csv"
expect_status "history: entered at the deadline" 0 "$msl" run "$hi/overdue.ms" --events "$hi/overdue.csv" --as-of 2026-01-10 --out "$hi/collapse" --history
grep '^c,' "$hi/collapse/history.csv" >"$hi/collapse/c.csv"
hi_expect "history: pending, in_progress and overdue at one instant make one row" "$hi/collapse/c.csv" <<'CSV'
c,milestone,onboard,,in_progress,2026-01-01T00:00:00Z
c,milestone,setup,,pending,2026-01-01T00:00:00Z
c,milestone,onboard,in_progress,overdue,2026-01-03T00:00:00Z
c,milestone,setup,pending,overdue,2026-01-03T00:00:00Z
c,milestone,quiet,,in_progress,2026-01-03T00:00:00Z
c,milestone,quiet,in_progress,overdue,2026-01-04T00:00:00Z
CSV

# ---- reset, ms.block / ms.unblock, `blocked when` over a window --------------------------
# r: completed 01-02; reset 01-03 (in progress again); completed 01-05.
# k: a ticket 01-02 blocks it until it leaves the 2d window at 01-04;
#    ms.block 01-05, ms.unblock 01-06.
cat >"$hi/control.ms" <<'MS'
event login
event ticket
milestone two "Two logins" {
  exit count(login since start) >= 2
  blocked when count(ticket within 2d) >= 1
}
MS
cat >"$hi/control.csv" <<'CSV'
account,time,event,milestone
r,2026-01-01,login,
r,2026-01-02,login,
r,2026-01-03,ms.reset,two
r,2026-01-04,login,
r,2026-01-05,login,
k,2026-01-01,login,
k,2026-01-02,ticket,
k,2026-01-05,ms.block,two
k,2026-01-06,ms.unblock,two
k,2026-01-07,ticket,
k,2026-01-07T12:00:00Z,login,
CSV
expect_status "history: control run" 0 "$msl" run "$hi/control.ms" --events "$hi/control.csv" --out "$hi/control" --history
hi_expect "history: reset, blocks" "$hi/control/history.csv" <<'CSV'
account,kind,name,from,to,at
k,milestone,two,,in_progress,2026-01-01T00:00:00Z
k,milestone,two,in_progress,blocked,2026-01-02T00:00:00Z
k,milestone,two,blocked,in_progress,2026-01-04T00:00:00Z
k,milestone,two,in_progress,blocked,2026-01-05T00:00:00Z
k,milestone,two,blocked,in_progress,2026-01-06T00:00:00Z
k,milestone,two,in_progress,blocked,2026-01-07T00:00:00Z
k,milestone,two,blocked,completed,2026-01-07T12:00:00Z
r,milestone,two,,in_progress,2026-01-01T00:00:00Z
r,milestone,two,in_progress,completed,2026-01-02T00:00:00Z
r,milestone,two,completed,in_progress,2026-01-03T00:00:00Z
r,milestone,two,in_progress,completed,2026-01-05T00:00:00Z
CSV

# ---- continuous: never_achieved, achieving, not_achieving as the window moves -------------
cat >"$hi/cont.ms" <<'MS'
event login
milestone active "Active" {
  mode continuous
  exit count(login within 3d) >= 2
}
MS
cat >"$hi/cont.csv" <<'CSV'
account,time,event
u,2026-01-01,login
u,2026-01-02,login
u,2026-01-06,login
u,2026-01-07,login
CSV
expect_status "history: continuous run" 0 "$msl" run "$hi/cont.ms" --events "$hi/cont.csv" --as-of 2026-01-08 --out "$hi/cont" --history
hi_expect "history: continuous statuses" "$hi/cont/history.csv" <<'CSV'
account,kind,name,from,to,at
u,milestone,active,,never_achieved,2026-01-01T00:00:00Z
u,milestone,active,never_achieved,achieving,2026-01-02T00:00:00Z
u,milestone,active,achieving,not_achieving,2026-01-04T00:00:00Z
u,milestone,active,not_achieving,achieving,2026-01-07T00:00:00Z
CSV

# ---- playbooks: the start, several steps at one instant, done ---------------------------
cat >"$hi/pb.ms" <<'MS'
event a
event b
event c
milestone m1 "M1" { exit count(a) >= 1 }
milestone m2 "M2" { exit count(b) >= 1 }
milestone m3 "M3" { exit count(c) >= 1 }
playbook pb "Onboarding" {
  start at @2026-01-05
  step s1 "First" tracks m1 auto
  step s2 "Second" tracks m2 auto
  step s3 "Third" tracks m3 auto
}
MS
cat >"$hi/pb.csv" <<'CSV'
account,time,event
p,2026-01-01,a
p,2026-01-02,b
p,2026-01-06,c
CSV
expect_status "history: playbook run" 0 "$msl" run "$hi/pb.ms" --events "$hi/pb.csv" --out "$hi/pb" --history
hi_expect "history: playbook steps" "$hi/pb/history.csv" <<'CSV'
account,kind,name,from,to,at
p,milestone,m1,,completed,2026-01-01T00:00:00Z
p,milestone,m2,,in_progress,2026-01-01T00:00:00Z
p,milestone,m3,,in_progress,2026-01-01T00:00:00Z
p,milestone,m2,in_progress,completed,2026-01-02T00:00:00Z
p,playbook,pb,,s3,2026-01-05T00:00:00Z
p,milestone,m3,in_progress,completed,2026-01-06T00:00:00Z
p,playbook,pb,s3,done,2026-01-06T00:00:00Z
CSV

# ---- `blocked when` failing at an instant that is not T: that status is unknown ------------
# count 1: in progress; count 2: division by zero, no row; count 3: blocked;
# count 4 (T): in progress.  A run evaluates it at T alone and succeeds:
# so does the history.
cat >"$hi/err.ms" <<'MS'
event login
milestone m "M" {
  exit count(login) >= 9
  blocked when 10 / (count(login) - 2) > 5
}
MS
cat >"$hi/err.csv" <<'CSV'
account,time,event
e,2026-01-01,login
e,2026-01-02,login
e,2026-01-03,login
e,2026-01-04,login
CSV
expect_status "history: failing blocked when, run" 0 "$msl" run "$hi/err.ms" --events "$hi/err.csv" --out "$hi/err_plain"
expect_status "history: failing blocked when, history" 0 "$msl" run "$hi/err.ms" --events "$hi/err.csv" --out "$hi/err" --history
hi_expect "history: an instant whose blocked when fails has no row" "$hi/err/history.csv" <<'CSV'
account,kind,name,from,to,at
e,milestone,m,,in_progress,2026-01-01T00:00:00Z
e,milestone,m,in_progress,blocked,2026-01-03T00:00:00Z
e,milestone,m,blocked,in_progress,2026-01-04T00:00:00Z
CSV
same "history: failing blocked when, milestones.csv unchanged" "$hi/err_plain/milestones.csv" "$hi/err/milestones.csv"
# where the run fails at T, the history run fails the same way, leaving nothing
expect_status "history: blocked when failing at T" 3 "$msl" run "$hi/err.ms" --events "$hi/err.csv" --as-of 2026-01-02 --out "$hi/err_t" --history
expect_stderr "history: blocked when failing at T, message" "runtime error: integer division by zero"
if [ -e "$hi/err_t/history.csv" ]; then bad "history: a failed run left history.csv"; else ok; fi

# ---- -j, JSON Lines, usage ---------------------------------------------------------------------
ent="examples/enterprise_implementation.ms --events examples/data/enterprise/events.csv --accounts examples/data/enterprise/accounts.csv"
# shellcheck disable=SC2086
expect_status "history: -j 1" 0 "$msl" run $ent --out "$hi/j1" --history -j 1
# shellcheck disable=SC2086
expect_status "history: -j 2" 0 "$msl" run $ent --out "$hi/j2" --history -j 2
same "history: -j 1 and -j 2 write the same history.csv" "$hi/j1/history.csv" "$hi/j2/history.csv"
# shellcheck disable=SC2086
expect_status "history: jsonl" 0 "$msl" run $ent --out "$hi/jsonl" --history --format jsonl
if [ "$(wc -l <"$hi/jsonl/history.jsonl")" = "$(($(wc -l <"$hi/j1/history.csv") - 1))" ]; then ok; else bad "history: history.jsonl and history.csv differ in rows"; fi
if [ -e "$hi/jsonl/history.csv" ]; then bad "history: --format jsonl wrote history.csv"; else ok; fi
expect_status "history: jsonl, small" 0 "$msl" run "$hi/cont.ms" --events "$hi/cont.csv" --as-of 2026-01-08 --out "$hi/cont_jsonl" --history --format jsonl
hi_expect "history: history.jsonl" "$hi/cont_jsonl/history.jsonl" <<'JSONL'
{"account":"u","kind":"milestone","name":"active","from":null,"to":"never_achieved","at":"2026-01-01T00:00:00Z"}
{"account":"u","kind":"milestone","name":"active","from":"never_achieved","to":"achieving","at":"2026-01-02T00:00:00Z"}
{"account":"u","kind":"milestone","name":"active","from":"achieving","to":"not_achieving","at":"2026-01-04T00:00:00Z"}
{"account":"u","kind":"milestone","name":"active","from":"not_achieving","to":"achieving","at":"2026-01-07T00:00:00Z"}
JSONL
# with --rejects: seven files in one commit
cp "$hi/cont.csv" "$hi/bad.csv"
printf 'u,not-a-time,login\n' >>"$hi/bad.csv"
expect_status "history: with --rejects" 0 "$msl" run "$hi/cont.ms" --events "$hi/bad.csv" --as-of 2026-01-08 --out "$hi/rej" --history --rejects "$hi/rej/rejects.csv"
same "history: with --rejects, history.csv" "$hi/cont/history.csv" "$hi/rej/history.csv"
if [ "$(wc -l <"$hi/rej/rejects.csv")" = 2 ]; then ok; else bad "history: with --rejects, rejects.csv: $(cat "$hi/rej/rejects.csv")"; fi
# without --history, no history file
if [ -e "$hi/err_plain/history.csv" ]; then bad "history: written without --history"; else ok; fi
expect_status "history: --history without --out" 2 "$msl" run "$hi/cont.ms" --events "$hi/cont.csv" --history
expect_stderr "history: --history without --out, message" "msl: --history needs --out DIR"
