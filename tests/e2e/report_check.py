#!/usr/bin/env python3
"""report_check.py CHROMIUM DIR [--timing] — opens DIR/report.html in headless
Chromium and checks it against DIR's other result files (tests/e2e/report.sh).

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: requests on fd 3, replies and events on fd 4,
each a JSON text ended by a NUL byte), so nothing but Python's standard
library and Debian's chromium is needed, and no port is opened.

Checks, each failure printed on a line of its own (exit status 1):
  - the page's script ran to its end (body[data-ready]);
  - no console error or warning, no uncaught exception, no CSP violation or
    other browser log entry of level warning or error, no dialog (alert);
  - per milestone of summary.json: the applicable count, and each status's
    count and percent shown (data-count, data-percent) equal summary.json's,
    as do the time to complete and estimate, the tracking counts (on track,
    behind, stuck) and, with --report-by, the field and every value's count
    of every status (a status column no account is in may be left out), the
    value shown as text; per playbook, each step's count;
  - every list a reader can open (each status, step and tracking state with
    accounts) says as many accounts as summary.json and shows, as text, the
    first page of the ids that milestones.csv / playbooks.csv /
    tracking.csv give it, in byte order; a tracking state's list opens
    exactly when tracking.csv is in DIR and the state has accounts;
  - nothing from the data became markup: no img, iframe, object or embed
    element, only the page's two script elements, window.__xss unset.
--timing prints the load time (navigation start to the load event's end,
which includes running the page's script) and the time until the page
was drawn, as seen from outside.
"""
import csv
import fcntl
import json
import os
import select
import shutil
import sys
import tempfile
import time

PAGE = 100


class Browser:
    def __init__(self, exe, profile):
        cmd_r, self.cmd_w = os.pipe()
        self.evt_r, evt_w = os.pipe()
        # fds 3 and 4 of the child; moved out of the way first so that no
        # dup2 below overwrites the other pipe
        hi_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(evt_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(cmd_r)
        os.close(evt_w)
        self.log = os.path.join(profile, 'chromium.log')
        args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe',
                '--user-data-dir=' + profile, '--no-first-run', '--no-default-browser-check',
                '--disable-extensions', '--disable-background-networking', '--disable-sync',
                '--disable-component-update', '--window-size=1280,1000', 'about:blank']
        actions = [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, '/dev/null', os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
                   (os.POSIX_SPAWN_DUP2, hi_r, 3), (os.POSIX_SPAWN_DUP2, hi_w, 4)]
        self.pid = os.posix_spawnp(exe, args, os.environ, file_actions=actions)
        os.close(hi_r)
        os.close(hi_w)
        self.buf = b''
        self.next_id = 0
        self.events = []
        self.dialogs_closed = 0

    def _read(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('chromium did not answer in time')
            ready, _, _ = select.select([self.evt_r], [], [], left)
            if ready:
                chunk = os.read(self.evt_r, 1 << 16)
                if not chunk:
                    raise EOFError('chromium closed the pipe: ' + self.tail_log())
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        req = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            req['sessionId'] = session
        data = json.dumps(req).encode() + b'\0'
        while data:
            data = data[os.write(self.cmd_w, data):]
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg.get('id') == self.next_id:
                if 'error' in msg:
                    raise RuntimeError('%s: %s' % (method, msg['error']))
                return msg['result']
            if 'method' in msg:
                self.events.append(msg)
                if msg['method'] == 'Page.javascriptDialogOpening':
                    self._dismiss_dialog(msg.get('sessionId'))

    def _dismiss_dialog(self, session):
        # a dialog blocks the page (and so the pending request): closed at
        # once, without waiting for the answer, which call() then skips
        self.dialogs_closed += 1
        req = {'id': 1000000 + self.dialogs_closed, 'method': 'Page.handleJavaScriptDialog',
               'params': {'accept': False}, 'sessionId': session}
        data = json.dumps(req).encode() + b'\0'
        while data:
            data = data[os.write(self.cmd_w, data):]

    def tail_log(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()[-2000:]
        except OSError:
            return ''

    def close(self):
        try:
            self.call('Browser.close', timeout=10)
        except Exception:
            pass
        for _ in range(100):
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                return
            time.sleep(0.05)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)


# Runs in the page once it is drawn: what it shows, and every list opened.
COLLECT = r'''(() => {
  const out = {milestones: {}, playbooks: {}, lists: [], markup: 0, scripts: 0, xss: window.__xss !== undefined};
  for (const more of document.querySelectorAll('.by button.more')) more.click();
  for (const card of document.querySelectorAll('article[data-milestone]')) {
    const m = {applicable: card.querySelector('[data-applicable]').dataset.applicable, status: {},
               ttc: Object.assign({}, card.querySelector('.ttc').dataset), tracking: {}, by: null};
    for (const k of card.querySelectorAll('button.key[data-status]')) m.status[k.dataset.status] = [k.dataset.count, k.dataset.percent];
    for (const k of card.querySelectorAll('button.key[data-tracking]')) m.tracking[k.dataset.tracking] = k.dataset.count;
    const by = card.querySelector('details.by');
    if (by) {
      m.by = {field: by.dataset.field, heading: by.querySelector('summary code').textContent, values: {}, texts: {}};
      for (const tr of by.querySelectorAll('tr[data-value]')) {
        const counts = m.by.values[tr.dataset.value] = {};
        for (const td of tr.querySelectorAll('td[data-status]')) counts[td.dataset.status] = td.dataset.count;
        m.by.texts[tr.dataset.value] = tr.cells[0].textContent;
      }
    }
    out.milestones[card.dataset.milestone] = m;
  }
  for (const card of document.querySelectorAll('article[data-playbook]')) {
    const p = {applicable: card.querySelector('[data-applicable]').dataset.applicable, steps: {}};
    for (const k of card.querySelectorAll('button.key[data-step]')) p.steps[k.dataset.step] = k.dataset.count;
    out.playbooks[card.dataset.playbook] = p;
  }
  for (const k of document.querySelectorAll('button.key')) {
    if (k.disabled) continue;
    k.click();
    const card = k.closest('article'), panel = card.querySelector('.drill');
    out.lists.push({milestone: card.dataset.milestone, playbook: card.dataset.playbook,
                    tracking: k.dataset.tracking !== undefined,
                    key: k.dataset.status || k.dataset.step || k.dataset.tracking, count: panel.dataset.count,
                    ids: Array.from(panel.querySelectorAll('li'), li => li.textContent)});
  }
  out.markup = document.querySelectorAll('img, iframe, object, embed, frame').length;
  out.scripts = document.querySelectorAll('script').length;
  return JSON.stringify(out);
})()'''


def read_rows(path, unit_col, value_col):
    """{(unit, value): [ids in byte order]} of a CSV or JSON Lines result file."""
    groups = {}
    if path.endswith('.jsonl'):
        with open(path, encoding='utf-8') as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
    for row in rows:
        value = row[value_col] or 'not_started'
        groups.setdefault((row[unit_col], value), []).append(row['account'])
    # code point order is UTF-8 byte order
    return {k: sorted(v) for k, v in groups.items()}


def same_number(shown, expected):
    if expected is None:
        return shown in ('null', 'undefined', '')
    try:
        return abs(float(shown) - float(expected)) < 1e-9
    except ValueError:
        return False


def check_tracking(m, shown, problems):
    """The tracking counts shown equal summary.json's (none shown when all are 0)."""
    tracking = m.get('tracking')
    want = {k: str(v) for k, v in tracking.items()} if tracking and any(tracking.values()) else {}
    if shown['tracking'] != want:
        problems.append('milestone %r: tracking shown %s, summary.json %s' % (m['name'], shown['tracking'], tracking))


def check_by(m, shown, problems):
    """The --report-by table: the field, and every value's count of every status."""
    by = m.get('by')
    if by is None or shown['by'] is None:
        if (by is None) != (shown['by'] is None):
            problems.append('milestone %r: by shown %s, summary.json %s' % (m['name'], shown['by'], by))
        return
    got = shown['by']
    if got['field'] != by['field'] or got['heading'] != by['field']:
        problems.append('milestone %r: by field shown %r / %r, summary.json %r' % (m['name'], got['field'], got['heading'], by['field']))
    if set(got['values']) != set(by['values']):
        problems.append('milestone %r: by values shown %s, summary.json %s' % (m['name'], sorted(got['values']), sorted(by['values'])))
    for value, counts in by['values'].items():
        cells = got['values'].get(value, {})
        text = got['texts'].get(value)
        if text != (value if value else '(empty)'):
            problems.append('milestone %r: by value %r shown as %r' % (m['name'], value, text))
        for status, count in counts.items():
            # a column is left out only when no account is in that status
            want = str(count) if m['status'][status] else None
            if cells.get(status) != want:
                problems.append('milestone %r: by %s=%r status %s: shown %s, summary.json %s' % (
                    m['name'], by['field'], value, status, cells.get(status), count))
        if set(cells) - set(counts):
            problems.append('milestone %r: by value %r shows statuses %s' % (m['name'], value, sorted(cells)))


def check_page(page, out_dir, problems):
    with open(os.path.join(out_dir, 'summary.json'), encoding='utf-8') as f:
        summary = json.load(f)
    ext = '.jsonl' if os.path.exists(os.path.join(out_dir, 'milestones.jsonl')) else '.csv'
    ms_rows = read_rows(os.path.join(out_dir, 'milestones' + ext), 'milestone', 'status')
    pb_rows = read_rows(os.path.join(out_dir, 'playbooks' + ext), 'playbook', 'step')
    tracking_path = os.path.join(out_dir, 'tracking' + ext)
    tk_rows = read_rows(tracking_path, 'milestone', 'tracking') if os.path.exists(tracking_path) else None
    tracking_lists = 0

    for m in summary['milestones']:
        shown = page['milestones'].get(m['name'])
        if shown is None:
            problems.append('milestone %r is not shown' % m['name'])
            continue
        if shown['applicable'] != str(m['applicable']):
            problems.append('milestone %r: applicable %s shown, %s in summary.json' % (m['name'], shown['applicable'], m['applicable']))
        for status, count in m['status'].items():
            got = shown['status'].get(status)
            pct = m['percent'][status]
            want = [str(count), '' if pct is None else '%.2f' % pct]
            if got != want:
                problems.append('milestone %r status %s: shown %s, summary.json %s' % (m['name'], status, got, want))
        if set(shown['status']) != set(m['status']):
            problems.append('milestone %r: statuses shown %s' % (m['name'], sorted(shown['status'])))
        ttc = m['time_to_complete']
        for key, want in (('median', ttc['median_s']), ('p90', ttc['p90_s']), ('estimate', m['estimate_s'])):
            if not same_number(shown['ttc'].get(key, ''), want):
                problems.append('milestone %r: %s %s shown, %s in summary.json' % (m['name'], key, shown['ttc'].get(key), want))
        check_tracking(m, shown, problems)
        check_by(m, shown, problems)
        if tk_rows is not None and m.get('tracking'):
            tracking_lists += sum(1 for v in m['tracking'].values() if v)
    for p in summary['playbooks']:
        shown = page['playbooks'].get(p['name'])
        if shown is None:
            problems.append('playbook %r is not shown' % p['name'])
            continue
        want = {k: str(v) for k, v in p['steps'].items()}
        if shown['steps'] != want or shown['applicable'] != str(p['applicable']):
            problems.append('playbook %r: shown %s / %s, summary.json %s / %s' % (p['name'], shown['applicable'], shown['steps'], p['applicable'], want))
    if len(page['milestones']) != len(summary['milestones']) or len(page['playbooks']) != len(summary['playbooks']):
        problems.append('the page shows %d milestones and %d playbooks' % (len(page['milestones']), len(page['playbooks'])))

    for lst in page['lists']:
        if lst['tracking']:
            ids = (tk_rows or {}).get((lst['milestone'], lst['key']), [])
            what = 'milestone %r tracking %s' % (lst['milestone'], lst['key'])
            tracking_lists -= 1
        elif lst.get('milestone') is not None:
            ids = ms_rows.get((lst['milestone'], lst['key']), [])
            what = 'milestone %r status %s' % (lst['milestone'], lst['key'])
        else:
            ids = pb_rows.get((lst['playbook'], lst['key']), [])
            what = 'playbook %r step %s' % (lst['playbook'], lst['key'])
        if lst['count'] != str(len(ids)):
            problems.append('%s: the list says %s accounts, the rows have %d' % (what, lst['count'], len(ids)))
        if lst['ids'] != ids[:PAGE]:
            problems.append('%s: the list shows %r, expected %r' % (what, lst['ids'][:5], ids[:5]))
    if tracking_lists:
        problems.append('%d tracking lists opened, expected %d (tracking.csv %s)' % (
            sum(1 for lst in page['lists'] if lst['tracking']), sum(1 for lst in page['lists'] if lst['tracking']) + tracking_lists,
            'present' if tk_rows is not None else 'absent'))
    if not page['lists'] and any(m['applicable'] for m in summary['milestones']):
        problems.append('no list could be opened')
    if page['markup']:
        problems.append('%d img/iframe/object/embed elements: data became markup' % page['markup'])
    if page['scripts'] != 2:
        problems.append('%d script elements, expected the page\'s 2' % page['scripts'])
    if page['xss']:
        problems.append('window.__xss is set: a script from the data ran')


def browser_problems(events):
    out = []
    for e in events:
        method, p = e.get('method'), e.get('params', {})
        if method == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            out.append('exception: %s %s' % (d.get('text'), d.get('exception', {}).get('description', '')))
        elif method == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'warning', 'assert'):
            out.append('console %s: %s' % (p['type'], ' '.join(str(a.get('value', a.get('description'))) for a in p.get('args', []))))
        elif method == 'Log.entryAdded' and p.get('entry', {}).get('level') in ('error', 'warning'):
            out.append('browser log %s: %s' % (p['entry']['level'], p['entry'].get('text')))
        elif method == 'Page.javascriptDialogOpening':
            out.append('a dialog opened: %s %r' % (p.get('type'), p.get('message')))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: report_check.py CHROMIUM DIR [--timing]')
    exe, out_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    timing = '--timing' in sys.argv[3:]
    profile = tempfile.mkdtemp(prefix='msl-chromium-')
    browser = Browser(exe, profile)
    problems = []
    try:
        target = browser.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = browser.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log'):
            browser.call(domain + '.enable', session=session)
        start, loaded_at = time.monotonic(), None
        browser.call('Page.navigate', {'url': 'file://' + os.path.join(out_dir, 'report.html')}, session=session)
        # the page's script runs before the load event; its end sets body[data-ready]
        state = None
        while time.monotonic() - start < 120 and state != 'ready':
            r = browser.call('Runtime.evaluate', {'expression': "document.readyState !== 'complete' ? 'loading' : "
                                                  "document.body.dataset.ready === '1' ? 'ready' : 'loaded'",
                                                  'returnByValue': True}, session=session)
            state = r['result'].get('value')
            if state == 'loaded' and loaded_at is None:
                loaded_at = time.monotonic()
            if state == 'loaded' and time.monotonic() - loaded_at > 2:
                break
            if state != 'ready':
                time.sleep(0.02)
        ready = state == 'ready'
        drawn = time.monotonic() - start
        if not ready:
            problems.append('the page was not drawn: its script did not run to its end (body[data-ready] unset)')
        else:
            if timing:
                r = browser.call('Runtime.evaluate', {'expression': "JSON.stringify(performance.getEntriesByType('navigation')[0])",
                                                      'returnByValue': True}, session=session)
                nav = json.loads(r['result']['value'])
                print('load: %.0f ms (navigation start to the load event\'s end); drawn after %.0f ms as seen from outside'
                      % (nav['loadEventEnd'], drawn * 1000))
            r = browser.call('Runtime.evaluate', {'expression': COLLECT, 'returnByValue': True}, session=session, timeout=300)
            if 'exceptionDetails' in r:
                problems.append('collecting the page failed: %s' % r['exceptionDetails'])
            else:
                check_page(json.loads(r['result']['value']), out_dir, problems)
        time.sleep(0.2)  # late console messages
        browser.call('Runtime.evaluate', {'expression': '1'}, session=session)
        problems += browser_problems(browser.events)
    except (TimeoutError, EOFError, RuntimeError) as e:
        problems.append('driving chromium: %s' % e)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
