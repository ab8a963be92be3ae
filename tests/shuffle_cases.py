#!/usr/bin/env python3
"""Runs every acceptance case with its event rows shuffled (three seeds),
as CSV and as JSON Lines, and checks the outputs equal the expected ones:
results must not depend on the order of the input (SPEC 7).

usage: shuffle_cases.py MSL CASES_DIR
Prints one line per failure and ends with `shuffle: N passed, M failed`."""
import csv, io, json, os, random, shutil, subprocess, sys, tempfile


def shuffled_csv(text, seed):
    lines = text.split('\n')
    header, rows = lines[0], [l for l in lines[1:] if l.strip()]
    random.Random(seed).shuffle(rows)
    return header + '\n' + '\n'.join(rows) + '\n'


def csv_to_jsonl(text):
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        out.append(json.dumps({k: v for k, v in row.items() if v != ''}))
    return '\n'.join(out) + '\n'


def run_case(msl, case, events_name, events_text):
    work = tempfile.mkdtemp(prefix='msl-shuffle-')
    try:
        for name in os.listdir(case):
            src = os.path.join(case, name)
            if os.path.isfile(src) and name != 'events.csv':
                shutil.copy(src, work)
        with open(os.path.join(work, events_name), 'w') as f:
            f.write(events_text)
        out = os.path.join(work, 'out')
        os.mkdir(out)
        cmd = [msl, 'run', 'rules.ms', '--events', events_name]
        if os.path.exists(os.path.join(work, 'accounts.csv')):
            cmd += ['--accounts', 'accounts.csv']
        if os.path.exists(os.path.join(work, 'as_of')):
            cmd += ['--as-of', open(os.path.join(work, 'as_of')).read().strip()]
        cmd += ['--out', out]
        p = subprocess.run(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if p.returncode != 0:
            return 'exit %d: %s' % (p.returncode, p.stderr.decode()[:300])
        exp = os.path.join(case, 'expected')
        for name in sorted(os.listdir(exp)):
            want = open(os.path.join(exp, name), 'rb').read()
            path = os.path.join(out, name)
            got = open(path, 'rb').read() if os.path.exists(path) else b'(missing)'
            if got != want:
                return '%s differs' % name
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    msl, cases = os.path.abspath(sys.argv[1]), sys.argv[2]
    passed = failed = 0
    for name in sorted(os.listdir(cases)):
        case = os.path.join(cases, name)
        if not os.path.isdir(os.path.join(case, 'expected')):
            continue
        if os.path.exists(os.path.join(case, 'expected', 'exit_code')):
            continue  # error cases: which bad row comes first depends on order
        text = open(os.path.join(case, 'events.csv')).read()
        for seed in (1, 2, 3):
            variants = [('events.csv', shuffled_csv(text, seed))]
            if seed == 1:
                variants.append(('events.jsonl', csv_to_jsonl(shuffled_csv(text, seed))))
            for events_name, events_text in variants:
                problem = run_case(msl, case, events_name, events_text)
                if problem:
                    failed += 1
                    print('FAIL %s (seed %d, %s): %s' % (name, seed, events_name, problem))
                else:
                    passed += 1
    print('shuffle: %d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
