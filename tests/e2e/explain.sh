# `msl explain`: it agrees with `msl run` on every milestone of every
# account of the acceptance cases; it names what an overdue account of the
# examples falls short on, with values and thresholds; a part whose value is
# an error is shown, never fatal; the as-of time counts every row; control
# events make the timeline; unknown accounts and milestones are errors;
# colour only on a terminal without NO_COLOR.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

x=$tmp/explain
mkdir -p "$x"
esc=$(printf '\033')

# ---- every acceptance case run succeeds on: explain agrees, account by account ------------------
# (status, the times, on_time, progress), and a criterion's tree gives the
# value its root holds.
cat >"$x/agree.py" <<'PY'
import csv, io, json, os, subprocess, sys
msl = sys.argv[1]
fields = ('status', 'started_at', 'entered_at', 'achieved_at', 'lost_at', 'deadline_at', 'on_time', 'progress')
def cell(v):
    return '' if v is None else 'true' if v is True else 'false' if v is False else str(v)
def trees(m):
    crits = [m['entry'], m['exit'], m['blocked_when']] + [a['done_when'] for a in m['actions']]
    return [c for c in crits if c and c['state'] == 'evaluated' and c['tree'] and c['error'] is None]
for root in sys.argv[2:]:
    for case in sorted(os.listdir(root)):
        cdir = os.path.join(root, case)
        if not os.path.isfile(os.path.join(cdir, 'rules.ms')):
            continue
        args = ['--events', 'events.csv']
        if os.path.isfile(os.path.join(cdir, 'accounts.csv')):
            args += ['--accounts', 'accounts.csv']
        if os.path.isfile(os.path.join(cdir, 'as_of')):
            args += ['--as-of', open(os.path.join(cdir, 'as_of')).read().strip()]
        run = subprocess.run([msl, 'run', 'rules.ms'] + args, cwd=cdir, capture_output=True)
        if run.returncode != 0:
            continue   # an error case: nothing to agree with
        rows = {}
        for r in csv.DictReader(io.StringIO(run.stdout.decode('utf-8'), newline='')):
            rows.setdefault(r['account'], {})[r['milestone']] = [r[k] for k in fields]
        for acct, want in rows.items():
            q = subprocess.run([msl, 'explain', 'rules.ms'] + args + ['--account', acct, '--format', 'json'],
                               cwd=cdir, capture_output=True)
            what = '%s/%s account %s' % (os.path.basename(root), case, acct)
            if q.returncode != 0:
                print('FAIL %s: exit %d: %s' % (what, q.returncode, q.stderr.decode()[:300]))
                continue
            ms = [m for m in json.loads(q.stdout)['milestones'] if m['applies']]
            got = {m['name']: [cell(m[k]) for k in fields] for m in ms}
            if got != want:
                print('FAIL %s: explain %s, run %s' % (what, got, want))
            elif any(t['tree']['holds'] != t['holds'] for m in ms for t in trees(m)):
                print('FAIL %s: a tree does not give its criterion\'s value' % what)
            else:
                print('ok')
PY
if [ -d ../shared/acceptance/cases ]; then
  python3 "$x/agree.py" "$msl" ../shared/acceptance/cases tests/cases >"$x/agree.out" 2>&1
  while read -r line; do
    case $line in ok) ok ;; *) bad "explain agrees with run: $line" ;; esac
  done <"$x/agree.out"
  [ -s "$x/agree.out" ] || bad "explain agrees with run: nothing was compared"
else
  bad "explain: ../shared/acceptance/cases not found (CI puts ../shared beside the clone)"
fi

# ---- an overdue account of the examples: each unmet criterion, its value and threshold ---------
ent="examples/enterprise_implementation.ms --events examples/data/enterprise/events.csv --accounts examples/data/enterprise/accounts.csv"
# shellcheck disable=SC2086
expect_status "explain: overdue example" 0 "$msl" explain $ent --account acct0041
for want in 'migration "Data migration": overdue' \
  '2026-05-01T14:13:16Z  deadline (missed)' \
  'entry: ✓ met at 2026-04-03T09:35:01Z' \
  '✗ sum(data_migrated.records since start) = 36569, needs >= 50000 (account.migration_records)' \
  '✓ distinct(data_migrated.object since start) = 6, needs >= 4' \
  '✗ distinct(training_completed.user since start) = 13, needs >= 23 (account.seats / 4)' \
  '· account.seats = 94' \
  'step migrate "Migrate the data" since 2026-03-27T14:13:16Z; tracks migration (overdue)' \
  '2026-03-04T14:28:27Z  kickoff_done (from kickoff)'; do
  if grep -qF -- "$want" "$tmp/out"; then ok; else bad "explain: overdue example lacks '$want'"; fi
done
# an open action: whose it is, what it needs
# shellcheck disable=SC2086
expect_status "explain: overdue action" 0 "$msl" explain $ent --account acct0048 --milestone kickoff
if grep -qF 'plan "Sign the success plan" (customer): ✗ count(success_plan_signed) = 0, needs >= 1' "$tmp/out"; then ok; else bad "explain: the open action and its owner: $(cat "$tmp/out")"; fi
if grep -qF 'technical_setup' "$tmp/out"; then bad "explain --milestone shows other milestones"; else ok; fi
if grep -q "$esc" "$tmp/out"; then bad "explain: escape codes in output that is not a terminal"; else ok; fi

# ---- a part that errors is shown, never fatal; one the run evaluates stops it -----------------
cat >"$x/div.ms" <<'MS'
event a
event b
event e { n: int }
milestone ratio "Ratio" {
  exit count(b) > 0 and count(a) / count(b) >= 2
}
milestone guarded "Guarded" {
  exit count(e) > 5 and count(e where 10 / n > 1) >= 1
}
MS
printf 'account,time,event,n\nacme,2026-01-01,a,\nacme,2026-01-02,a,\nacme,2026-01-02,e,0\n' >"$x/div.csv"
expect_status "explain: run of the error rules" 0 "$msl" run "$x/div.ms" --events "$x/div.csv"
expect_status "explain: an error in a part" 0 "$msl" explain "$x/div.ms" --events "$x/div.csv" --account acme
for want in '✗ count(b) = 0, needs > 0' \
  '! count(a) / count(b): error: integer division by zero, needs >= 2' \
  '· count(a) = 2' \
  '! count(e where 10 / n > 1): error: integer division by zero (a `where` filter, on the event at 2026-01-02T00:00:00Z), needs >= 1'; do
  if grep -qF -- "$want" "$tmp/out"; then ok; else bad "explain: error part lacks '$want': $(cat "$tmp/out")"; fi
done
expect_status "explain: an error in a part, JSON" 0 "$msl" explain "$x/div.ms" --events "$x/div.csv" --account acme --format json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ex = d["milestones"][0]["exit"]
assert ex["state"] == "evaluated" and ex["holds"] is False and ex["error"] is None, ex
part = ex["tree"]["parts"][1]
assert part["error"] == "integer division by zero" and part["holds"] is None, part
' "$tmp/out"; then ok; else bad "explain: JSON error part: $(head -c 600 "$tmp/out")"; fi
printf 'event a\nevent b\nmilestone ratio "Ratio" { exit count(a) / count(b) >= 2 }\n' >"$x/div2.ms"
expect_status "explain: a runtime error the run meets" 3 "$msl" explain "$x/div2.ms" --events "$x/div.csv" --account acme
expect_stderr "explain: a runtime error the run meets" "integer division by zero in exit of milestone \`ratio\` for account \`acme\`"

# parts that exceed the bytecode's limits (an `in` list compiled once per
# enclosing part) leave the criteria without parts, never fail the command
python3 -c "
print('event e { n: int }')
print('milestone big \"Big\" { exit (count(e) in [%s] and count(e) > 1) or count(e) > 3 }' % ', '.join(str(i) for i in range(20000)))
" >"$x/big.ms"
printf 'account,time,event,n\nacme,2026-01-01,e,1\n' >"$x/big.csv"
expect_status "explain: parts over the limits" 0 "$msl" explain "$x/big.ms" --events "$x/big.csv" --account acme
for want in 'note: the parts of the criteria exceed the limits of the bytecode' 'big "Big": in_progress' 'exit: ✗ fails'; do
  if grep -qF -- "$want" "$tmp/out"; then ok; else bad "explain: parts over the limits lack '$want': $(head -c 400 "$tmp/out")"; fi
done

# ---- one account, yet the default as-of is the latest row of any; unsorted, stdin, .msc ---------
cat >"$x/ctl.ms" <<'MS'
event login { user: string }
milestone setup "Setup" {
  start on assignment
  deadline 7d
  action invite "Invite the team" owner customer done when distinct(login.user since start) >= 2
  action config "Configure" owner csm done when count(login where user == "admin") >= 1
}
milestone active "Active" { mode continuous exit count(login within 7d) >= 2 }
milestone manual "Manual" {}
milestone watch "Watch" { mode continuous }
MS
cat >"$x/ctl.csv" <<'CSV'
account,time,event,user,milestone
acme,2026-01-01T09:00:00Z,ms.assign,,setup
acme,2026-01-02T09:00:00Z,login,ann,
acme,2026-01-03T09:00:00Z,ms.block,,setup
acme,2026-01-04T09:00:00Z,ms.unblock,,setup
acme,2026-01-05T09:00:00Z,login,bob,
acme,2026-01-06T09:00:00Z,ms.reset,,setup
acme,2026-01-07T09:00:00Z,ms.block,,setup
globex,2026-01-20T09:00:00Z,login,cy,
CSV
expect_status "explain: control events" 0 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account acme
cp "$tmp/out" "$x/ctl.txt"
for want in 'account "acme" as of 2026-01-20T09:00:00Z' \
  'setup "Setup": blocked' \
  '2026-01-01T09:00:00Z  assigned (ms.assign)' \
  '2026-01-03T09:00:00Z  blocked (ms.block)' \
  '2026-01-04T09:00:00Z  unblocked (ms.unblock)' \
  '2026-01-06T09:00:00Z  restarted (ms.reset)' \
  '2026-01-13T09:00:00Z  deadline (missed)' \
  'blocked by ms.block since 2026-01-07T09:00:00Z, until an ms.unblock' \
  'invite "Invite the team" (customer): ✗ distinct(login.user since start) = 0, needs >= 2' \
  'config "Configure" (csm): ✗ count(login where user == "admin") = 0, needs >= 1' \
  'active "Active": not_achieving (continuous)' \
  '2026-01-09T09:00:00Z  stopped achieving' \
  'exit: none, so only an ms.complete completes it' \
  'exit: none, so it never becomes achieving'; do
  if grep -qF -- "$want" "$x/ctl.txt"; then ok; else bad "explain: control events lack '$want': $(cat "$x/ctl.txt")"; fi
done
expect_status "explain: control events, JSON" 0 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account acme --format json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["as_of"] == "2026-01-20T09:00:00Z", d["as_of"]
m = d["milestones"][0]
assert m["status"] == "blocked" and m["started_at"] == "2026-01-06T09:00:00Z", m
assert m["blocked_spans"] == [{"from": "2026-01-03T09:00:00Z", "to": "2026-01-04T09:00:00Z"},
                              {"from": "2026-01-07T09:00:00Z", "to": None}], m["blocked_spans"]
assert [a["owner"] for a in m["actions"]] == ["customer", "csm"]
assert m["progress"] == 0 and d["playbooks"] == [] and d["signals"] == []
' "$tmp/out"; then ok; else bad "explain: control events in JSON: $(head -c 600 "$tmp/out")"; fi
cp "$tmp/out" "$x/ctl.json"
{ head -1 "$x/ctl.csv"; tail -n +2 "$x/ctl.csv" | sort -r; } >"$x/ctl_unsorted.csv"
expect_status "explain: unsorted input" 0 "$msl" explain "$x/ctl.ms" --events "$x/ctl_unsorted.csv" --account acme --format json
same "explain: unsorted input explains the same" "$x/ctl.json" "$tmp/out"
expect_status "explain: standard input" 0 sh -c "\"$msl\" explain \"$x/ctl.ms\" --events - --account acme < \"$x/ctl.csv\""
same "explain: standard input explains the same" "$x/ctl.txt" "$tmp/out"
expect_status "explain: build" 0 "$msl" build "$x/ctl.ms" -o "$x/ctl.msc"
expect_status "explain: a .msc" 0 "$msl" explain "$x/ctl.msc" --events "$x/ctl.csv" --account acme
for want in 'note: a .msc keeps no rule text' 'config "Configure" (csm): ✗ fails' 'setup "Setup": blocked'; do
  if grep -qF -- "$want" "$tmp/out"; then ok; else bad "explain: .msc lacks '$want': $(cat "$tmp/out")"; fi
done
expect_status "explain: --as-of" 0 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account acme --as-of 2026-01-03T12:00:00Z
if grep -qF 'setup "Setup": blocked' "$tmp/out" && ! grep -qF 'ms.reset' "$tmp/out"; then ok; else bad "explain: --as-of ignores later rows: $(cat "$tmp/out")"; fi

# ---- errors ----------------------------------------------------------------------------------
expect_status "explain: unknown account" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account initech
expect_stderr "explain: unknown account" "msl: --account initech: no row of the events names this account"
printf 'id\nacme\nquiet\n' >"$x/accounts.csv"
expect_status "explain: account not in --accounts" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --accounts "$x/accounts.csv" --account globex
expect_stderr "explain: account not in --accounts" "msl: --account globex: no such account in the accounts file"
expect_status "explain: an account without rows" 0 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --accounts "$x/accounts.csv" --account quiet
if grep -qF 'setup "Setup": not_started' "$tmp/out" && grep -qF 'as of 2026-01-20T09:00:00Z' "$tmp/out"; then ok; else bad "explain: an account without rows: $(cat "$tmp/out")"; fi
expect_status "explain: unknown milestone" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account acme --milestone setpu
expect_stderr "explain: unknown milestone" "--milestone: no milestone \`setpu\`; did you mean \`setup\`?"
expect_status "explain: unknown milestone, nothing close" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account acme --milestone onboarding
expect_stderr "explain: unknown milestone, nothing close" "--milestone: no milestone \`onboarding\` in the rules"
expect_status "explain: no --account" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv"
expect_stderr "explain: no --account" "explain needs --account ID"
expect_status "explain: bad --format" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account acme --format csv
expect_stderr "explain: bad --format" "unknown explanation format \`csv\` (text or json)"
expect_status "explain: misspelt option" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --acount acme
expect_stderr "explain: misspelt option" "did you mean \`--account\`?"

expect_status "explain: no RULES" 2 "$msl" explain --events "$x/ctl.csv" --account acme
expect_stderr "explain: no RULES" "explain needs a RULES file"
expect_status "explain: no --events" 2 "$msl" explain "$x/ctl.ms" --account acme
expect_stderr "explain: no --events" "explain needs --events FILE..."
expect_status "explain: an option without its value" 2 "$msl" explain "$x/ctl.ms" --events "$x/ctl.csv" --account
expect_stderr "explain: an option without its value" "--account needs a value"
expect_status "explain: standard output closed" 4 sh -c '"$1" explain "$2" --events "$3" --account acme >&-' sh "$msl" "$x/ctl.ms" "$x/ctl.csv"
expect_stderr "explain: standard output closed" "msl: standard output is closed: explain writes there"
if [ -w /dev/full ]; then
  expect_status "explain: standard output full" 4 sh -c '"$1" explain "$2" --events "$3" --account acme >/dev/full' sh "$msl" "$x/ctl.ms" "$x/ctl.csv"
  expect_stderr "explain: standard output full" "msl: standard output: No space left on device"
fi

# ---- colour: on a terminal only, and never with NO_COLOR ---------------------------------------
if command -v script >/dev/null 2>&1; then
  script -qc "\"$msl\" explain \"$x/ctl.ms\" --events \"$x/ctl.csv\" --account acme" /dev/null >"$x/tty.out" 2>&1
  if grep -q "$esc\\[" "$x/tty.out"; then ok; else bad "explain: no colour on a terminal: $(head -c 300 "$x/tty.out")"; fi
  NO_COLOR=1 script -qc "\"$msl\" explain \"$x/ctl.ms\" --events \"$x/ctl.csv\" --account acme" /dev/null >"$x/tty.out" 2>&1
  if grep -q "$esc" "$x/tty.out"; then bad "explain: colour despite NO_COLOR"; else ok; fi
fi
