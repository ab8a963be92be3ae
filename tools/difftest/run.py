#!/usr/bin/env python3
"""run.py - differential testing of `msl run` against the reference oracle.

    python3 tools/difftest/run.py [--seeds 1-500] [--jobs 2] [--msl ./msl]
                                  [--oracle ../shared/oracle/msl_oracle.py]
                                  [--out build/difftest] [--shrink]

Case N is generated from seed N by gen.py.  Both evaluators run on it; their
exit statuses and milestones.csv, playbooks.csv, signals.csv and actions.csv
must agree
(for an error exit, only the status).  A case the oracle flags as touching a
point the SPEC leaves open (its --flags output) is skipped, not compared.

On a difference the case is written to OUT/seed-N/ (rules.ms, events.csv,
[accounts.csv], [as_of], case.json, msl/, oracle/, diff) and a one-line
summary is printed: the seed, a bucket key (which files and columns differ,
or the two exit statuses) and the directory.  With --shrink each failing
case is first reduced (declarations, clauses, rows, accounts and as_of are
dropped while the same bucket key persists).  The last line is
`difftest: N passed, M failed` (plus the skipped count); the exit status is
1 when any case failed.

Shrink one saved case again:  run.py --shrink-dir OUT/seed-N
"""

import argparse
import copy
import csv
import difflib
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402

OUTPUTS = ('milestones.csv', 'playbooks.csv', 'signals.csv', 'actions.csv')
TIMEOUT = 120
KEYS = {'milestones.csv': ('account', 'milestone'), 'playbooks.csv': ('account', 'playbook'),
        'actions.csv': ('account', 'milestone', 'action')}


def parse_seeds(spec):
    seeds = []
    for part in spec.split(','):
        if '-' in part:
            lo, hi = part.split('-', 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def invoke(cmd, cdir, out, extra=()):
    args = cmd + ['run', 'rules.ms', '--events', 'events.csv'] + list(extra)
    if os.path.exists(os.path.join(cdir, 'accounts.csv')):
        args += ['--accounts', 'accounts.csv']
    if os.path.exists(os.path.join(cdir, 'as_of')):
        with open(os.path.join(cdir, 'as_of')) as f:
            args += ['--as-of', f.read().strip()]
    args += ['--out', out]
    try:
        p = subprocess.run(args, cwd=cdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return 'timeout', ''
    return p.returncode, p.stderr.decode('utf-8', 'replace')


def read_out(d, name):
    try:
        with open(os.path.join(d, name), encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return None


def file_key(name, a, b):
    """What differs between two versions of one output file, coarsely."""
    if a is None or b is None:
        return name + ':missing'
    if name not in KEYS:
        return name
    ra = list(csv.DictReader(io.StringIO(a)))
    rb = list(csv.DictReader(io.StringIO(b)))
    keys = KEYS[name]
    ia = {tuple(r[k] for k in keys): r for r in ra}
    ib = {tuple(r[k] for k in keys): r for r in rb}
    if set(ia) != set(ib):
        return name + ':rows'
    cols = set()
    for k in ia:
        for c, v in ia[k].items():
            if ib[k].get(c) != v:
                cols.add(c)
    return '%s:%s' % (name.split('.')[0], ','.join(sorted(cols)) or 'order')


def compare(cdir, msl, oracle):
    """Runs both evaluators in cdir.  Returns (verdict, key, details) with verdict
    'pass', 'fail' or 'skip'; details holds the outputs for a report."""
    mo = os.path.join(cdir, 'out-msl')
    oo = os.path.join(cdir, 'out-oracle')
    for d in (mo, oo):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)      # msl does not create --out yet; that is not what this compares
    flags_path = os.path.join(cdir, 'flags.json')
    if os.path.exists(flags_path):
        os.remove(flags_path)
    # the oracle's --flags lists the open SPEC points this input touched
    oc, oerr = invoke([sys.executable, oracle], cdir, oo, ['--flags', flags_path])
    mc, merr = invoke([msl], cdir, mo)
    details = {'msl_status': mc, 'oracle_status': oc, 'msl_stderr': merr, 'oracle_stderr': oerr}
    try:
        with open(flags_path) as f:
            open_flags = json.load(f)
    except (OSError, ValueError):
        open_flags = []
    if open_flags:
        return 'skip', 'open:' + ','.join(sorted(set(x[0] for x in open_flags))), details
    if mc != oc:
        return 'fail', 'exit:msl=%s,oracle=%s' % (mc, oc), details
    if mc != 0:
        return 'pass', '', details
    keys = []
    for name in OUTPUTS:
        a, b = read_out(mo, name), read_out(oo, name)
        if a != b:
            keys.append(file_key(name, a, b))
    if keys:
        return 'fail', '+'.join(keys), details
    return 'pass', '', details


def run_case(case, cdir, msl, oracle):
    gen.write_case(case, cdir)
    return compare(cdir, msl, oracle)


def write_diff(cdir, details):
    lines = ['msl exit %s, oracle exit %s\n' % (details['msl_status'], details['oracle_status'])]
    if details['msl_stderr']:
        lines.append('msl stderr: %s' % details['msl_stderr'])
    if details['oracle_stderr']:
        lines.append('oracle stderr: %s' % details['oracle_stderr'])
    for name in OUTPUTS:
        a = read_out(os.path.join(cdir, 'out-oracle'), name)
        b = read_out(os.path.join(cdir, 'out-msl'), name)
        if a != b and a is not None and b is not None:
            lines.extend(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                              'oracle/' + name, 'msl/' + name))
    with open(os.path.join(cdir, 'diff'), 'w') as f:
        f.writelines(lines)


# ---- shrinking ---------------------------------------------------------------
def candidates(case):
    """Smaller variants of a case, biggest cuts first."""
    rows = case['rows']
    n = len(rows)
    chunk = n // 2
    while chunk >= 1:
        for i in range(0, n, chunk):
            c = copy.deepcopy(case)
            del c['rows'][i:i + chunk]
            yield c
        chunk //= 2
    for i in range(len(case['blocks'])):
        # a cut that breaks the program makes both exit 1: no difference, so it is not kept
        c = copy.deepcopy(case)
        del c['blocks'][i]
        yield c
    for i, b in enumerate(case['blocks']):
        for j in range(len(b.get('clauses', []))):
            if b.get('fields'):
                continue
            c = copy.deepcopy(case)
            del c['blocks'][i]['clauses'][j]
            yield c
    if case['as_of'] is not None:
        c = copy.deepcopy(case)
        c['as_of'] = None
        yield c
    if case['accounts'] is not None:
        for i in range(len(case['accounts'])):
            c = copy.deepcopy(case)
            del c['accounts'][i]
            yield c
        ids = set(r['account'] for r in case['rows'])
        if all(a['id'] in ids for a in case['accounts']) and \
                all('kickoff: time' != cl for b in case['blocks'] for cl in b.get('clauses', [])):
            c = copy.deepcopy(case)
            c['accounts'] = None
            yield c
    # simpler rows: one account name, control rows to plain ones are left as they are
    accts = sorted(set(r['account'] for r in case['rows']))
    if len(accts) > 1 and case['accounts'] is None:
        for a in accts:
            c = copy.deepcopy(case)
            c['rows'] = [r for r in c['rows'] if r['account'] == a]
            yield c


def shrink(case, key, msl, oracle, work):
    """Greedy reduction: take the first smaller variant that keeps `key`, repeat."""
    progress = True
    tries = 0
    while progress:
        progress = False
        for c in candidates(case):
            tries += 1
            verdict, k, _ = run_case(c, work, msl, oracle)
            if verdict == 'fail' and k == key:
                case = c
                progress = True
                break
    return case, tries


# ---- driver ------------------------------------------------------------------
def job(args):
    seed, msl, oracle, outdir, do_shrink, exclude = args
    work = tempfile.mkdtemp(prefix='msl-dt-%d-' % seed)
    try:
        case = gen.generate(seed, exclude)
        verdict, key, details = run_case(case, work, msl, oracle)
        if verdict != 'fail':
            return seed, verdict, key, None
        if do_shrink:
            case, _ = shrink(case, key, msl, oracle, work)
            verdict, key2, details = run_case(case, work, msl, oracle)
        dest = os.path.join(outdir, 'seed-%d' % seed)
        save(work, dest, details)
        return seed, verdict, key, dest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def save(work, dest, details):
    write_diff(work, details)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for name in ('rules.ms', 'events.csv', 'accounts.csv', 'as_of', 'case.json', 'diff', 'flags.json'):
        p = os.path.join(work, name)
        if os.path.exists(p):
            shutil.copy(p, dest)
    for sub, name in (('out-msl', 'msl'), ('out-oracle', 'oracle')):
        src = os.path.join(work, sub)
        os.makedirs(os.path.join(dest, name))
        for f in OUTPUTS:
            if os.path.exists(os.path.join(src, f)):
                shutil.copy(os.path.join(src, f), os.path.join(dest, name))


def shrink_dir(d, msl, oracle):
    with open(os.path.join(d, 'case.json')) as f:
        case = json.load(f)
    work = tempfile.mkdtemp(prefix='msl-dt-shrink-')
    try:
        verdict, key, details = run_case(case, work, msl, oracle)
        if verdict != 'fail':
            print('%s: no difference (%s)' % (d, verdict))
            return 1
        case, tries = shrink(case, key, msl, oracle, work)
        verdict, key, details = run_case(case, work, msl, oracle)
        save(work, d, details)
        print('%s: shrunk in %d tries, %s' % (d, tries, key))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export(src, dest, oracle):
    """Writes a saved case in the acceptance layout, expected/ from the oracle."""
    with open(os.path.join(src, 'case.json')) as f:
        case = json.load(f)
    shutil.rmtree(dest, ignore_errors=True)
    gen.write_case(case, dest)
    os.remove(os.path.join(dest, 'case.json'))
    work = tempfile.mkdtemp(prefix='msl-dt-export-')
    try:
        status, _ = invoke([sys.executable, oracle], dest, work)
        exp = os.path.join(dest, 'expected')
        os.makedirs(exp)
        if status != 0:
            with open(os.path.join(exp, 'exit_code'), 'w') as f:
                f.write('%s\n' % status)
        else:
            for name in OUTPUTS:
                shutil.copy(os.path.join(work, name), exp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('%s: written (oracle exit %s)' % (dest, status))
    return 0


def main():
    ap = argparse.ArgumentParser(description='differential test of msl run against the oracle')
    ap.add_argument('--seeds', default='1-200')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--msl', default=os.path.join(ROOT, 'msl'))
    ap.add_argument('--oracle', default=os.path.join(os.path.dirname(ROOT), 'shared', 'oracle', 'msl_oracle.py'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'build', 'difftest'))
    ap.add_argument('--shrink', action='store_true', help='reduce each failing case before saving it')
    ap.add_argument('--exclude', default='',
                    help='leave features out of the generated cases (comma-separated: %s)'
                    % ','.join(gen.FEATURES_TO_EXCLUDE))
    ap.add_argument('--shrink-dir', help='reduce one saved case (a directory with case.json) in place')
    ap.add_argument('--export', nargs=2, metavar=('CASE_DIR', 'DEST'),
                    help='write a saved case in the acceptance layout, expected/ from the oracle')
    a = ap.parse_args()
    msl = os.path.abspath(a.msl)
    oracle = os.path.abspath(a.oracle)
    if not os.path.exists(oracle):
        sys.stderr.write('difftest: no oracle at %s (shared/ must sit beside the repository)\n' % oracle)
        return 2
    if a.export:
        return export(a.export[0], a.export[1], oracle)
    if a.shrink_dir:
        return shrink_dir(a.shrink_dir, msl, oracle)
    os.makedirs(a.out, exist_ok=True)
    seeds = parse_seeds(a.seeds)
    passed = failed = skipped = 0
    exclude = [x for x in a.exclude.split(',') if x]
    for x in exclude:
        if x not in gen.FEATURES_TO_EXCLUDE:
            sys.stderr.write('difftest: --exclude takes %s\n' % ','.join(gen.FEATURES_TO_EXCLUDE))
            return 2
    jobs = [(s, msl, oracle, a.out, a.shrink, exclude) for s in seeds]
    with multiprocessing.Pool(max(1, a.jobs)) as pool:
        for seed, verdict, key, dest in pool.imap_unordered(job, jobs):
            if verdict == 'pass':
                passed += 1
            elif verdict == 'skip':
                skipped += 1
            else:
                failed += 1
                print('FAIL seed %d: %s -> %s' % (seed, key, dest), flush=True)
    print('difftest: %d passed, %d failed (%d skipped: open SPEC points)' % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
