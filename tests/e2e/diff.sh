# `msl diff`: the same rules twice change nothing (exit 0); the enterprise
# example with one threshold raised lists exactly the accounts whose status
# differs between two separate `msl run`s (exit 5), in text and in JSON;
# added and removed milestones and playbooks, a milestone that stops
# applying, a playbook step compared by name; --limit; the errors: rule
# errors in either file (exit 1, naming it), usage (2), bad input (3), I/O
# (4); colour only on a terminal.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

x=$tmp/diff
mkdir -p "$x"
esc=$(printf '\033')
E=examples/data/enterprise

# expect_same_text NAME FILE: the last command's stdout is FILE's text
expect_same_text() {
  if cmp -s "$tmp/out" "$2"; then ok; else bad "$1: output differs:"; diff "$2" "$tmp/out" | head -20; fi
}

# ---- the same rules twice: no change -----------------------------------------------------------
expect_status "diff: same file twice" 0 "$msl" diff examples/enterprise_implementation.ms \
  examples/enterprise_implementation.ms --events "$E/events.csv" --accounts "$E/accounts.csv"
if grep -q '^0 of 300 accounts change as of ' "$tmp/out" && [ "$(wc -l <"$tmp/out")" -eq 1 ]; then ok
else bad "diff: no change should print the summary alone: $(head -c 300 "$tmp/out")"; fi

# ---- one threshold raised: exactly the accounts two separate runs disagree on -------------------
sed 's/result == "passed" since start) >= 25/result == "passed" since start) >= 30/' \
  examples/enterprise_implementation.ms >"$x/raised.ms"
if cmp -s examples/enterprise_implementation.ms "$x/raised.ms"; then bad "diff: the sed edit changed nothing"; else ok; fi
mkdir -p "$x/old" "$x/new"
expect_status "diff: run old" 0 "$msl" run examples/enterprise_implementation.ms --events "$E/events.csv" \
  --accounts "$E/accounts.csv" --out "$x/old"
expect_status "diff: run new" 0 "$msl" run "$x/raised.ms" --events "$E/events.csv" --accounts "$E/accounts.csv" \
  --out "$x/new"
expect_status "diff: threshold raised" 5 "$msl" diff examples/enterprise_implementation.ms "$x/raised.ms" \
  --events "$E/events.csv" --accounts "$E/accounts.csv"
cp "$tmp/out" "$x/diff.txt"
expect_status "diff: threshold raised, json" 5 "$msl" diff examples/enterprise_implementation.ms "$x/raised.ms" \
  --events "$E/events.csv" --accounts "$E/accounts.csv" --format json
cp "$tmp/out" "$x/diff.json"
cat >"$x/agree.py" <<'PY'
import csv, json, re, sys
old, new, text, js = sys.argv[1:5]
def rows(d, f, key):
    return {(r['account'], r[key]): r for r in csv.DictReader(open('%s/%s' % (d, f), newline=''))}
def changes(f, key, value):
    o, n = rows(old, f, key), rows(new, f, key)
    out = set()
    for k in set(o) & set(n):
        a, b = value(o[k]), value(n[k])
        if a != b:
            out.add((k[1], a, b, k[0]))
    return out
want_ms = changes('milestones.csv', 'milestone', lambda r: r['status'])
want_pb = changes('playbooks.csv', 'playbook', lambda r: r['step'] or 'not_started')
accounts = {c[3] for c in want_ms | want_pb}
# the text: `milestone NAME: ...`, `  from → to: N`, `    ID`
got = {'milestone': set(), 'playbook': set()}
counted = set()
kind = name = None
for line in open(text, encoding='utf-8'):
    line = line.rstrip('\n')
    m = re.match(r'(milestone|playbook) (\S+): (\d+) accounts? changes?$', line)
    t = re.match(r'  (\S+) \u2192 (\S+): (\d+)$', line)
    if m:
        kind, name = m.group(1), m.group(2)
    elif t:
        frm, to = t.group(1), t.group(2)
        counted.add((kind, name, frm, to, int(t.group(3))))
    elif line.startswith('    '):
        got[kind].add((name, frm, to, line[4:]))
    else:
        summary = line
problems = []
if got['milestone'] != want_ms:
    problems.append('text milestones: missing %s, extra %s' % (sorted(want_ms - got['milestone'])[:5], sorted(got['milestone'] - want_ms)[:5]))
if got['playbook'] != want_pb:
    problems.append('text playbooks: missing %s, extra %s' % (sorted(want_pb - got['playbook'])[:5], sorted(got['playbook'] - want_pb)[:5]))
for kind, name, frm, to, n in counted:
    if n != sum(1 for c in got[kind] if c[:3] == (name, frm, to)):
        problems.append('count of %s %s %s -> %s is not its accounts' % (kind, name, frm, to))
if not summary.startswith('%d of 300 accounts change as of ' % len(accounts)):
    problems.append('summary: %s (want %d accounts)' % (summary, len(accounts)))
d = json.load(open(js))
for key, want in (('milestones', want_ms), ('playbooks', want_pb)):
    got_js = {(m['name'], c['from'], c['to'], a) for m in d[key] for c in m['changes'] for a in c['accounts']}
    if got_js != want:
        problems.append('json %s disagree with the runs' % key)
    for m in d[key]:
        if m['changed'] != len({a for c in m['changes'] for a in c['accounts']}) or \
           any(c['count'] != len(c['accounts']) for c in m['changes']):
            problems.append('json counts of %s' % m['name'])
if d['changed_accounts'] != len(accounts) or d['accounts'] != 300 or d['limit'] is not None:
    problems.append('json totals: %s' % {k: d[k] for k in ('accounts', 'changed_accounts', 'limit')})
if not want_ms or any(d[k] for k in ('added_milestones', 'removed_milestones', 'added_playbooks', 'removed_playbooks')):
    problems.append('the edit should change statuses and add nothing')
print('\n'.join(problems) if problems else 'ok')
PY
res=$(python3 "$x/agree.py" "$x/old" "$x/new" "$x/diff.txt" "$x/diff.json" 2>&1)
if [ "$res" = ok ]; then ok; else bad "diff: enterprise, threshold raised: $res"; fi
if grep -q "$esc" "$x/diff.txt"; then bad "diff: escape codes in output that is not a terminal"; else ok; fi

# -j does not change the report
expect_status "diff: -j 1" 5 "$msl" diff examples/enterprise_implementation.ms "$x/raised.ms" \
  --events "$E/events.csv" --accounts "$E/accounts.csv" -j 1
same "diff: -j 1 equals the default" "$tmp/out" "$x/diff.txt"

# ---- added, removed, a milestone that stops applying, playbooks by step name --------------------
cat >"$x/old.ms" <<'MS'
account { tier: string = "basic" }
event login { user: string }
segment premium = account.tier == "premium"
milestone first "First login" { exit count(login) >= 1 }
milestone three "Three logins" { exit count(login) >= 3 }
milestone gone "Two logins" { exit count(login) >= 2 }
playbook onboard "Onboarding" {
  step one "One" tracks first auto
  step two "Two" tracks three auto
}
MS
cat >"$x/new.ms" <<'MS'
account { tier: string = "basic" }
event login { user: string }
segment premium = account.tier == "premium"
milestone first "First login" { exit count(login) >= 1 }
milestone three "Three logins" { segments premium exit count(login) >= 3 }
milestone fresh "Five logins" { exit count(login) >= 5 }
playbook onboard "Onboarding" {
  step zero "Zero" tracks first when account.tier == "none"
  step one "One" tracks first auto
  step two "Two" tracks three auto
}
playbook extra "Extra" { step only "Only" tracks fresh }
MS
printf 'id,tier\nacme,premium\nglobex,basic\ninitech,basic\n' >"$x/accounts.csv"
cat >"$x/events.csv" <<'CSV'
account,time,event,user
acme,2026-01-01T09:00:00Z,login,ann
acme,2026-01-02T09:00:00Z,login,bob
acme,2026-01-03T09:00:00Z,login,cy
globex,2026-01-01T10:00:00Z,login,dee
globex,2026-01-02T10:00:00Z,login,dee
globex,2026-01-03T10:00:00Z,login,dee
initech,2026-01-02T11:00:00Z,login,eve
CSV
cat >"$x/want.txt" <<'TXT'
milestone three: 2 accounts change
  in_progress → not_applicable: 1
    initech
  completed → not_applicable: 1
    globex
added milestone fresh: applies to 3 accounts
  in_progress: 3
removed milestone gone: applied to 3 accounts
  completed: 2
  in_progress: 1
playbook onboard: 1 account changes
  done → two: 1
    globex
added playbook extra: applies to 3 accounts
  only: 3
3 of 3 accounts change as of 2026-01-03T10:00:00Z (milestones: 1 changed, 1 added, 1 removed; playbooks: 1 changed, 1 added, 0 removed)
TXT
expect_status "diff: added and removed" 5 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" \
  --accounts "$x/accounts.csv"
expect_same_text "diff: added and removed" "$x/want.txt"
expect_status "diff: added and removed, json" 5 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" \
  --accounts "$x/accounts.csv" --format json
cat >"$x/want.json" <<'JSON'
{"old": "OLD", "new": "NEW", "as_of": "2026-01-03T10:00:00Z", "accounts": 3, "changed_accounts": 3, "limit": null,
 "milestones": [{"name": "first", "changed": 0, "changes": []},
                {"name": "three", "changed": 2, "changes": [
                  {"from": "in_progress", "to": "not_applicable", "count": 1, "accounts": ["initech"]},
                  {"from": "completed", "to": "not_applicable", "count": 1, "accounts": ["globex"]}]}],
 "added_milestones": [{"name": "fresh", "applicable": 3, "status": {"in_progress": 3}}],
 "removed_milestones": [{"name": "gone", "applicable": 3, "status": {"completed": 2, "in_progress": 1}}],
 "playbooks": [{"name": "onboard", "changed": 1, "changes": [
                {"from": "done", "to": "two", "count": 1, "accounts": ["globex"]}]}],
 "added_playbooks": [{"name": "extra", "applicable": 3, "steps": {"only": 3}}],
 "removed_playbooks": []}
JSON
res=$(python3 -c '
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want["old"], want["new"] = sys.argv[3], sys.argv[4]
print("ok" if got == want else "got %s" % json.dumps(got))' "$tmp/out" "$x/want.json" "$x/old.ms" "$x/new.ms" 2>&1)
if [ "$res" = ok ]; then ok; else bad "diff: added and removed, json: $res"; fi

# the other way round: what was added is removed
expect_status "diff: reversed" 5 "$msl" diff "$x/new.ms" "$x/old.ms" --events "$x/events.csv" \
  --accounts "$x/accounts.csv"
if grep -qx 'removed milestone fresh: applied to 3 accounts' "$tmp/out" &&
   grep -qx 'added milestone gone: applies to 3 accounts' "$tmp/out" &&
   grep -qx '  not_applicable → completed: 1' "$tmp/out"; then ok
else bad "diff: reversed: $(head -c 400 "$tmp/out")"; fi

# --limit: the first N accounts of each change, and how many more
expect_status "diff: --limit 0" 5 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" \
  --accounts "$x/accounts.csv" --limit 0
if grep -qx '    … and 1 more' "$tmp/out" && ! grep -q '^    [a-z]' "$tmp/out"; then ok
else bad "diff: --limit 0 lists accounts: $(head -c 400 "$tmp/out")"; fi

# --as-of applies to both runs
expect_status "diff: --as-of" 5 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" \
  --accounts "$x/accounts.csv" --as-of 2026-01-02
if grep -q ' as of 2026-01-02T00:00:00Z ' "$tmp/out" && grep -qx '  in_progress → not_applicable: 2' "$tmp/out" &&
   grep -qx '  in_progress: 3' "$tmp/out" && ! grep -q '^playbook onboard' "$tmp/out"; then ok
else bad "diff: --as-of: $(head -c 400 "$tmp/out")"; fi

# ---- errors ---------------------------------------------------------------------------------------
printf 'event login { user: string }\nmilestone m "M" { exit count(logn) >= 1 }\n' >"$x/broken.ms"
expect_status "diff: rule error in NEW" 1 "$msl" diff "$x/old.ms" "$x/broken.ms" --events "$x/events.csv"
expect_stderr "diff: rule error in NEW" "broken.ms:2:"
expect_stderr "diff: rule error in NEW" "error[E028]"
if [ -s "$tmp/out" ]; then bad "diff: rule error printed a report"; else ok; fi
cp "$x/broken.ms" "$x/broken_old.ms"
expect_status "diff: rule errors in both" 1 "$msl" diff "$x/broken_old.ms" "$x/broken.ms" --events "$x/events.csv"
expect_stderr "diff: rule errors in both" "broken_old.ms:2:"
expect_stderr "diff: rule errors in both" "broken.ms:2:"
expect_status "diff: unknown option" 2 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" --limt 3
expect_stderr "diff: unknown option" "did you mean \`--limit\`"
expect_status "diff: one rule file" 2 "$msl" diff "$x/old.ms" --events "$x/events.csv"
expect_stderr "diff: one rule file" "diff needs two rule files: OLD and NEW"
expect_status "diff: three rule files" 2 "$msl" diff "$x/old.ms" "$x/new.ms" "$x/new.ms" --events "$x/events.csv"
expect_status "diff: no events" 2 "$msl" diff "$x/old.ms" "$x/new.ms"
expect_status "diff: bad format" 2 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" --format csv
expect_stderr "diff: bad format" "unknown report format \`csv\` (text or json)"
expect_status "diff: bad limit" 2 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" --limit -1
expect_stderr "diff: bad limit" "--limit: \`-1\` is not a number of accounts"
expect_status "diff: standard input" 2 sh -c "\"$msl\" diff \"$x/old.ms\" \"$x/new.ms\" --events - < \"$x/events.csv\""
expect_stderr "diff: standard input" "\`-\` (standard input) cannot be read twice"
if [ -e /dev/null ]; then
  expect_status "diff: not a regular file" 2 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/events.csv" \
    --accounts /dev/null
  expect_stderr "diff: not a regular file" "/dev/null is not a regular file and cannot be read twice"
fi
# a run that fails names the rule file: NEW needs --accounts
printf 'account { tier: string }\nevent login { user: string }\nmilestone m "M" { exit count(login) >= 1 }\n' >"$x/needs.ms"
expect_status "diff: NEW needs --accounts" 2 "$msl" diff "$x/old.ms" "$x/needs.ms" --events "$x/events.csv"
expect_stderr "diff: NEW needs --accounts" "msl: diff: the run of $x/needs.ms failed, so nothing was compared"
printf 'account,time,event,user\nacme,2026-13-01,login,ann\n' >"$x/badtime.csv"
expect_status "diff: bad input" 3 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/badtime.csv"
expect_stderr "diff: bad input" "badtime.csv:2:"
expect_status "diff: missing input" 4 "$msl" diff "$x/old.ms" "$x/new.ms" --events "$x/missing.csv"
expect_stderr "diff: missing input" "missing.csv"
expect_status "diff: stdout closed" 4 sh -c "\"$msl\" diff \"$x/old.ms\" \"$x/new.ms\" --events \"$x/events.csv\" >&-"

# ---- colour: on a terminal only, and never with NO_COLOR -------------------------------------------
if command -v script >/dev/null 2>&1; then
  script -qc "\"$msl\" diff \"$x/old.ms\" \"$x/new.ms\" --events \"$x/events.csv\" --accounts \"$x/accounts.csv\"" \
    /dev/null >"$x/tty.out" 2>&1
  if grep -q "$esc\\[" "$x/tty.out"; then ok; else bad "diff: no colour on a terminal: $(head -c 300 "$x/tty.out")"; fi
  NO_COLOR=1 script -qc "\"$msl\" diff \"$x/old.ms\" \"$x/new.ms\" --events \"$x/events.csv\" --accounts \"$x/accounts.csv\"" \
    /dev/null >"$x/tty.out" 2>&1
  if grep -q "$esc" "$x/tty.out"; then bad "diff: colour despite NO_COLOR"; else ok; fi
fi
