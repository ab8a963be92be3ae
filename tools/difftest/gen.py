#!/usr/bin/env python3
"""gen.py - seeded random MSL programs and event logs for differential testing.

    python3 tools/difftest/gen.py SEED DIR     writes DIR/rules.ms, DIR/events.csv,
                                               [DIR/accounts.csv], [DIR/as_of], DIR/case.json

The same seed always gives the same case.  Programs are small (1-4 milestones,
at most one playbook) and well typed; logs are small (<= 8 accounts, <= 60
rows) so that the brute-force oracle (../shared/oracle) stays fast.  The
generator is biased toward the places where evaluators disagree: rows exactly
one window length apart (e and e + D), rows sharing a timestamp, control
events at the same instants as ordinary rows, resets, sequences, continuous
mode, deadlines, the start kinds, integer division in `where` filters, and
signal clauses of every kind (achieved, overdue, lost) among the others.

A case is kept as a structure (case.json) so that run.py --shrink can drop
declarations, clauses and rows and render it again.  Standard library only.
"""

import json
import os
import random
import sys

BASE_DAY = 20454            # 2026-01-01 as days since the epoch
DAY = 86400
WINDOWS = {'12h': 43200, '1d': DAY, '2d': 2 * DAY, '3d': 3 * DAY}

# Event declarations: name -> [(field, type, default or None)].  Field names are
# distinct across events, so they share one CSV header without clashes.
EVENTS = {
    'login': [('user', 'string', None)],
    'use': [('feature', 'string', '""'), ('n', 'int', '0')],
    'buy': [('amount', 'int', '1')],
    'ping': [],
}
USERS = ['u1', 'u2', 'u3']
FEATURES = ['x', 'y', '']
CONTROL_MS = ['ms.reset', 'ms.block', 'ms.unblock', 'ms.complete']


def iso(sec):
    days, rem = divmod(sec, DAY)
    # civil date from days since the epoch (Howard Hinnant's algorithm)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y += m <= 2
    return '%04d-%02d-%02dT%02d:%02d:%02dZ' % (y, m, d, rem // 3600, rem % 3600 // 60, rem % 60)


def lit_time(sec):
    s = iso(sec)
    return '@' + (s[:10] if s.endswith('T00:00:00Z') else s)


class Gen:
    def __init__(self, seed, exclude=()):
        self.r = random.Random(seed)
        self.exclude = set(exclude)   # features left out (see FEATURES_TO_EXCLUDE)
        self.windows = set()        # window lengths (seconds) the program uses
        self.ms = []                # [(name, mode, start kind)]
        self.assign_targets = []    # ('milestone'|'playbook', name)

    def chance(self, p):
        return self.r.random() < p

    def pick(self, xs):
        return self.r.choice(xs)

    # ---- expressions -------------------------------------------------------
    def window(self, bounded):
        k = self.r.random()
        if k < 0.45:
            w = self.pick(list(WINDOWS))
            self.windows.add(WINDOWS[w])
            return ' within ' + w
        if k < 0.6:
            return ' since start'
        if k < 0.7:
            return ' since ' + self.pick(['account.kickoff', '@2026-01-04', 'account.kickoff + 1d'])
        return ''

    def where(self, ev):
        fields = EVENTS[ev]
        if not fields or not self.chance(0.4):
            return ''
        f, ty, _ = self.pick(fields)
        if ty == 'string':
            vals = USERS if f == 'user' else FEATURES
            if self.chance(0.3):
                return ' where %s in ["%s", "%s"]' % (f, vals[0], vals[1])
            return ' where %s %s "%s"' % (f, self.pick(['==', '!=']), self.pick(vals))
        k = self.r.random()
        if k < 0.15 and 'divzero' not in self.exclude:
            return ' where 6 / %s >= 2' % f                      # division by zero when f == 0
        if k < 0.3:
            return ' where %s != 0 and 6 / %s >= 2' % (f, f)      # guarded
        if k < 0.4:
            return ' where %s %% 2 == 0' % f
        return ' where %s %s %d' % (f, self.pick(['>', '>=', '<', '==']), self.r.randint(0, 3))

    def aggregate(self, bounded):
        k = self.r.random()
        if k < 0.5:
            ev = self.pick(list(EVENTS))
            a = 'count(%s%s%s)' % (ev, self.where(ev), self.window(bounded))
            if self.chance(0.15):
                a = '%s * 2 + %d' % (a, self.r.randint(0, 2))
            elif self.chance(0.1):
                a = '%s / 2' % a
            elif self.chance(0.05):
                a = '%s %% 2' % a
            return a + ' ' + self.pick(['>=', '>', '==', '<']) + ' %d' % self.r.randint(0, 4)
        if k < 0.75:
            kind = self.pick(['sum'] if 'minmax' in self.exclude else ['sum', 'min', 'max'])
            ev, f = self.pick([('buy', 'amount'), ('use', 'n')])
            a = '%s(%s.%s%s%s)' % (kind, ev, f, self.where(ev), self.window(bounded))
            return a + ' ' + self.pick(['>=', '>', '<=']) + ' %d' % self.r.randint(0, 5)
        if k < 0.85:
            ev, f = self.pick([('buy', 'amount'), ('use', 'n')])
            return 'avg(%s.%s%s%s) > %s' % (ev, f, self.where(ev), self.window(bounded),
                                             self.pick(['0.5', '1.5', '2.0']))
        if k < 0.93 or 'divzero' in self.exclude:
            ev, f = self.pick([('login', 'user'), ('use', 'feature')])
            return 'distinct(%s.%s%s%s) >= %d' % (ev, f, self.where(ev), self.window(bounded),
                                                  self.r.randint(1, 3))
        # an unguarded division: zero when nothing has happened yet
        self.windows.add(DAY)
        return '6 / count(%s within 1d) >= %d' % (self.pick(list(EVENTS)), self.r.randint(1, 3))

    def sequence(self):
        n = self.r.randint(2, 3)
        steps = []
        for _ in range(n):
            ev = self.pick(list(EVENTS))
            steps.append(ev + self.where(ev))
        win = ''
        if self.chance(0.6):
            w = self.pick(list(WINDOWS))
            self.windows.add(WINDOWS[w])
            win = ' within ' + w
        return 'sequence(%s%s)' % (', '.join(steps), win)

    def atom(self, bounded, earlier):
        k = self.r.random()
        if k < 0.12 and earlier:
            name, mode, _ = self.pick(earlier)
            if mode == 'continuous' and self.chance(0.5):
                return 'achieving(%s)' % name
            return 'completed(%s)' % name
        if k < 0.25:
            return self.sequence()
        if k < 0.3:
            return 'account.seats >= %d' % self.pick([0, 5, 10])
        if k < 0.36:
            w = self.pick(list(WINDOWS))            # a window through fn inlining, a let bound
            self.windows.add(WINDOWS[w])
            return 'recent_logins(%s) >= lim' % w
        return self.aggregate(bounded)

    def criterion(self, bounded, earlier):
        a = self.atom(bounded, earlier)
        k = self.r.random()
        if k < 0.2:
            return '%s and %s' % (a, self.atom(bounded, earlier))
        if k < 0.3:
            return '%s or %s' % (a, self.atom(bounded, earlier))
        if k < 0.35:
            return 'not (%s)' % a
        return a

    # ---- declarations --------------------------------------------------------
    def start_clause(self, idx, is_playbook):
        k = self.r.random()
        earlier = self.ms[:idx] if not is_playbook else self.ms
        if k < 0.3:
            return None, False
        if k < 0.5:
            e = self.pick(['account.kickoff', '@2026-01-03', 'account.kickoff + 1d', '@2026-01-02T12:00:00Z'])
            return 'start at ' + e, True
        if k < 0.65 and earlier:
            return 'start after ' + self.pick(earlier)[0], True
        if k < 0.8:
            ev = self.pick(list(EVENTS))
            return 'start on %s%s' % (ev, self.where(ev)), True
        return 'start on assignment', True

    def milestone(self, idx):
        name = 'm%d' % (idx + 1)
        earlier = self.ms[:idx]
        mode = 'continuous' if self.chance(0.25) else 'once'
        clauses = []
        if mode == 'continuous':
            clauses.append('mode continuous')
        if self.chance(0.2):
            clauses.append('segments ' + self.pick(['big', 'pro', 'big, pro']))
        start, bounded = self.start_clause(idx, False)
        if start:
            clauses.append(start)
            if start == 'start on assignment':
                self.assign_targets.append(('milestone', name))
        if bounded and self.chance(0.35):
            clauses.append('deadline ' + self.pick(['1d', '2d', '3d', '36h']))
        elif self.chance(0.15):
            clauses.append('deadline at ' + self.pick(['@2026-01-05', 'account.kickoff + 2d', '@2026-01-04T12:00:00Z']))
        if self.chance(0.25):
            clauses.append('entry ' + self.criterion(bounded, earlier))
        nact = 0
        if self.chance(0.3):
            nact = self.r.randint(1, 2)
            for a in range(nact):
                owner = self.pick(['', ' owner csm', ' owner customer'])
                clauses.append('action a%d "Action %d"%s done when %s' % (a + 1, a + 1, owner,
                                                                         self.criterion(bounded, earlier)))
        if nact == 0 or self.chance(0.5):
            if self.chance(0.95):
                clauses.append('exit ' + self.criterion(bounded, earlier))
        if self.chance(0.2):
            clauses.append('blocked when ' + self.criterion(bounded, earlier))
        for e in self.signal_clauses(name, mode, any(c.startswith('deadline') for c in clauses)):
            clauses.insert(self.r.randint(0, len(clauses)), e)     # signal clauses go anywhere
        self.ms.append((name, mode, start))
        return {'head': 'milestone %s "Milestone %d"' % (name, idx + 1), 'clauses': clauses}

    def signal_clauses(self, name, mode, has_deadline):
        """`on achieved|overdue|lost emit` clauses: overdue only with a deadline, lost
        only in continuous mode, sometimes two of one kind (clause order breaks ties)."""
        kinds = []
        if self.chance(0.4):
            kinds.append('achieved')
        if has_deadline and 'overdue' not in self.exclude and self.chance(0.5):
            kinds.append('overdue')
        if mode == 'continuous' and 'lost' not in self.exclude and self.chance(0.6):
            kinds.append('lost')
        names = {'achieved': 'done', 'overdue': 'late', 'lost': 'lost'}
        out = ['on %s emit "%s_%s"' % (k, name, names[k]) for k in kinds]
        if kinds and self.chance(0.2):
            k = self.pick(kinds)
            out.append('on %s emit "%s_%s2"' % (k, name, names[k]))
        return out

    def playbook(self):
        clauses = []
        if self.chance(0.2):
            clauses.append('segments ' + self.pick(['big', 'pro']))
        start, _ = self.start_clause(len(self.ms), True)
        if start:
            clauses.append(start)
            if start == 'start on assignment':
                self.assign_targets.append(('playbook', 'pb'))
        for i in range(self.r.randint(1, 3)):
            m = self.pick(self.ms)[0]
            mods = ''
            k = self.r.random()
            if k < 0.6:
                mods = ' auto'
            if self.chance(0.25):
                mods += ' when ' + self.pick(['account.seats >= 5', 'account.plan == "pro"', 'big'])
            clauses.append('step s%d "Step %d" tracks %s%s' % (i + 1, i + 1, m, mods))
        if self.chance(0.4):
            clauses.append('on complete emit "pb_done"')
        return {'head': 'playbook pb "Playbook"', 'clauses': clauses}

    def program(self):
        blocks = []
        with_accounts = self.chance(0.45)
        required = with_accounts and self.chance(0.4)
        fields = ['plan: string = "free"', 'seats: int = %s' % ('5' if required else self.pick(['0', '5'])),
                  'kickoff: time = @2026-01-03' if not required else 'kickoff: time']
        blocks.append({'head': 'account', 'clauses': fields, 'fields': True})
        for ev, fs in EVENTS.items():
            if fs:
                decl = ', '.join('%s: %s%s' % (f, ty, ' = ' + d if d is not None else '') for f, ty, d in fs)
                blocks.append({'line': 'event %s { %s }' % (ev, decl)})
            else:
                blocks.append({'line': 'event ' + ev})
        blocks.append({'line': 'segment big = account.seats >= 5'})
        blocks.append({'line': 'segment pro = account.plan == "pro"'})
        blocks.append({'line': 'let lim = 1 + 1'})
        blocks.append({'line': 'fn recent_logins(w: duration) = count(login within w)'})
        n = self.r.randint(1, 4)
        for i in range(n):
            blocks.append(self.milestone(i))
        if self.chance(0.4):
            blocks.append(self.playbook())
        return blocks, with_accounts, required

    # ---- inputs --------------------------------------------------------------
    def times(self, count):
        """Row times of one account: a few anchors, then rows one window length
        after an earlier row, at the same instant, or a second before a boundary."""
        ts = []
        wins = sorted(self.windows) or [DAY]
        for _ in range(count):
            k = self.r.random()
            if ts and k < 0.3:
                t = self.pick(ts) + self.pick(wins)
            elif ts and k < 0.5:
                t = self.pick(ts)
            elif ts and k < 0.55:
                t = self.pick(ts) + self.pick(wins) + self.pick([-1, 1])
            else:
                t = (BASE_DAY + self.r.randint(0, 7)) * DAY + self.pick([0, 0, 0, 43200, 3600])
            ts.append(t)
        return ts

    def row(self, acct, t):
        k = self.r.random()
        if k < 0.18:
            # control event
            if self.assign_targets and self.chance(0.35):
                kind, name = self.pick(self.assign_targets)
                return {'account': acct, 'time': t, 'event': 'ms.assign', kind: name}
            if any(n == 'pb' for _, n in self.assign_targets) or self.chance(0.2):
                if self.chance(0.3):
                    return {'account': acct, 'time': t, 'event': 'ms.advance', 'playbook': 'pb'}
            kinds = [c for c in CONTROL_MS if c[3:] not in self.exclude]
            return {'account': acct, 'time': t, 'event': self.pick(kinds),
                    'milestone': self.pick(self.ms)[0]}
        ev = self.pick(list(EVENTS))
        row = {'account': acct, 'time': t, 'event': ev}
        if ev == 'login':
            row['user'] = self.pick(USERS)
        elif ev == 'use':
            row['feature'] = self.pick(FEATURES)
            row['n'] = self.pick(['0', '1', '2', '3', ''])
        elif ev == 'buy':
            amounts = ['1', '2', '5', '', '-1']
            if 'overflow' not in self.exclude and self.chance(0.03):
                amounts = ['4611686018427387904', '-4611686018427387904']   # 2^62: two overflow a sum
            row['amount'] = self.pick(amounts)
        return row

    def case(self):
        blocks, with_accounts, required = self.program()
        self.time_forms = self.chance(0.3)         # other spellings of the same instants
        naccts = self.r.randint(1, 8)
        accts = ['a%d' % i for i in range(naccts)]
        rows = []
        budget = self.r.randint(3, 60)
        per = max(1, budget // naccts)
        for a in accts:
            for t in self.times(self.r.randint(1, per)):
                row = self.row(a, t)
                if self.time_forms and self.chance(0.4):
                    forms = [f for f in TIME_FORMS if 'dbtime' not in self.exclude or f not in DB_FORMS]
                    row['tform'] = self.pick(forms)
                rows.append(row)
        if self.chance(0.7):
            rows.sort(key=lambda x: x['time'])      # sorted input: the streaming path
        else:
            self.r.shuffle(rows)
        accounts = None
        if with_accounts:
            accounts = []
            ids = list(accts)
            if self.chance(0.3):
                ids.append('z9')                   # an account with no events
            if self.chance(0.3) and len(ids) > 1:
                ids.remove(self.pick(accts))       # events of an unknown account
            for a in ids:
                kick = self.pick(['2026-01-02', '2026-01-03T12:00:00Z', '2026-01-05', ''])
                if required and kick == '':
                    kick = '2026-01-04'
                accounts.append({'id': a, 'plan': self.pick(['free', 'pro', '']),
                                 'seats': self.pick(['0', '5', '12', '']), 'kickoff': kick})
        as_of = None
        if self.chance(0.45) and rows:
            # not before any account's first row: an account seen only after T is an open point
            floor = max(min(r['time'] for r in rows if r['account'] == a)
                        for a in set(r['account'] for r in rows))
            t = max(floor, self.pick(rows)['time'] + self.pick([0, 0, -1, 1, 43200, DAY]))
            as_of = iso(t)
        return {'blocks': blocks, 'rows': rows, 'accounts': accounts, 'as_of': as_of}


def render_rules(blocks):
    out = []
    for b in blocks:
        if 'line' in b:
            out.append(b['line'])
        else:
            out.append('%s {\n%s\n}' % (b['head'], '\n'.join('  ' + c for c in b['clauses'])))
    return '\n'.join(out) + '\n'


def time_cell(sec, form):
    s = iso(sec)
    if form == 'space':
        return s[:10] + ' ' + s[11:19]
    if form == 'epoch':
        return str(sec)
    if form == 'offset':            # the same instant at +01:00
        return iso(sec + 3600)[:19] + '+01:00'
    if form == 'date' and s.endswith('T00:00:00Z'):
        return s[:10]
    if form == 'frac9':             # 7-9 fraction digits are truncated to microseconds
        return s[:19] + '.000000999Z'
    if form == 'utc':
        return s[:10] + ' ' + s[11:19] + '.000 UTC'
    return s


TIME_FORMS = ('space', 'epoch', 'offset', 'date', 'utc', 'frac9')
DB_FORMS = ('space', 'utc', 'frac9')    # the database export forms of SPEC 7


def csv_cell(v):
    v = str(v)
    if any(c in v for c in ',"\n\r'):
        return '"' + v.replace('"', '""') + '"'
    return v


EVENT_COLS = ['account', 'time', 'event', 'milestone', 'playbook', 'user', 'feature', 'n', 'amount']


def write_case(case, d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'rules.ms'), 'w') as f:
        f.write(render_rules(case['blocks']))
    with open(os.path.join(d, 'events.csv'), 'w') as f:
        f.write(','.join(EVENT_COLS) + '\n')
        for r in case['rows']:
            cells = [time_cell(r['time'], r.get('tform')) if c == 'time' else r.get(c, '') for c in EVENT_COLS]
            f.write(','.join(csv_cell(c) for c in cells) + '\n')
    acc_path = os.path.join(d, 'accounts.csv')
    if case['accounts'] is not None:
        with open(acc_path, 'w') as f:
            f.write('id,plan,seats,kickoff\n')
            for a in case['accounts']:
                f.write(','.join(csv_cell(a[c]) for c in ('id', 'plan', 'seats', 'kickoff')) + '\n')
    elif os.path.exists(acc_path):
        os.remove(acc_path)
    as_of_path = os.path.join(d, 'as_of')
    if case['as_of'] is not None:
        with open(as_of_path, 'w') as f:
            f.write(case['as_of'] + '\n')
    elif os.path.exists(as_of_path):
        os.remove(as_of_path)
    with open(os.path.join(d, 'case.json'), 'w') as f:
        json.dump(case, f, indent=1)


# What --exclude can leave out, to look past a known difference:
#   complete  no ms.complete rows;  reset  no ms.reset rows;  divzero  no unguarded
#   integer division;  minmax  no min()/max() aggregates;  overflow  no amounts
#   near 2^62 (whose sums overflow);  dbtime  no database-export time cells
#   (`2026-01-31 09:30:00`, `... UTC`, 9 fraction digits);  overdue  no `on overdue
#   emit`;  lost  no `on lost emit`.
FEATURES_TO_EXCLUDE = ('complete', 'reset', 'divzero', 'minmax', 'overflow', 'dbtime', 'overdue', 'lost')


def generate(seed, exclude=()):
    return Gen(seed, exclude).case()


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write('usage: gen.py SEED DIR [EXCLUDE,...]\n')
        return 2
    write_case(generate(int(argv[1]), argv[3].split(',') if len(argv) == 4 else ()), argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
