#!/usr/bin/env python3
"""gen_events.py - seeded, deterministic event logs for the MSL examples.

Writes DIR/accounts.csv (id + the account fields of the example) and
DIR/events.csv (account,time,event,<fields>..., sorted by time) for one of the
examples in examples/:

    python3 tools/gen_events.py --rules enterprise --accounts 300 --days 120 \\
        --seed 7 --out-dir examples/data/enterprise

Every account follows the example's journey at its own pace: some finish
early, some late, some stall in a phase, a few churn and go silent. Product
usage follows a weekly rhythm (quiet weekends, busy working hours), support
tickets come in at random with the occasional critical one, and the
customer-success platform's control events (ms.assign, ms.complete, ms.block,
ms.unblock, ms.advance) appear where the example uses them.

Benchmark mode writes exactly N event rows over M accounts, streaming day by
day so memory stays small whatever N is:

    python3 tools/gen_events.py --bench --events 10000000 --accounts 10000 \\
        --rules enterprise --out-dir /tmp/bench

The journeys are the same; product usage is scaled to reach N rows exactly.
Event and field names are read from the example's .ms file (and the modules
it imports, such as stdlib/std/onboarding.ms) at start-up and checked against
what the generator emits, so the two cannot drift apart.
Standard library only; the same arguments always give the same bytes.
"""

import argparse
import bisect
import datetime
import math
import operator
import os
import random
import re
import sys

DAY = 86400
HOUR = 3600
first = operator.itemgetter(0)

EXAMPLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
STDLIB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stdlib")

FIRST_NAMES = ["ana", "ben", "chloe", "dev", "elif", "femi", "grace", "hiro", "ines", "jonas",
               "kemi", "liam", "maya", "nils", "olga", "priya", "quinn", "rosa", "sven", "tara",
               "umar", "vera", "wei", "ximena", "yusuf", "zoe"]
LAST_NAMES = ["adams", "becker", "costa", "dubois", "evans", "fischer", "garcia", "haddad",
              "ito", "jensen", "kowalski", "lopez", "moreau", "nakamura", "okafor", "patel",
              "quintero", "rossi", "silva", "tanaka", "ueda", "vogel", "wong", "yilmaz"]
COMPANY_A = ["north", "blue", "iron", "bright", "cedar", "silver", "harbor", "summit", "river",
             "stone", "maple", "falcon", "aurora", "pioneer", "atlas", "crescent", "granite",
             "meridian", "oak", "polar", "quartz", "redwood", "sterling", "tidal", "vertex"]
COMPANY_B = ["wind", "field", "works", "labs", "logistics", "health", "bank", "retail",
             "systems", "foods", "energy", "media", "capital", "motors", "insure", "pharma",
             "freight", "studio", "analytics", "supply"]
TLDS = ["com", "com", "com", "io", "co", "de", "fr", "co.uk", "nl", "com.au"]


# ---- reading the example's declarations ------------------------------------------------

FIELD_RE = re.compile(r"(`?)([A-Za-z_][A-Za-z0-9_]*)\1\s*:\s*(bool|int|float|string|time|duration)"
                      r"(\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^,\s}]+))?")


def strip_comments(text):
    """Removes '#' comments, leaving '#' inside strings alone."""
    out = []
    for line in text.splitlines():
        in_str = False
        cut = len(line)
        i = 0
        while i < len(line):
            c = line[i]
            if in_str and c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = not in_str
            elif c == "#" and not in_str:
                cut = i
                break
            i += 1
        out.append(line[:cut])
    return "\n".join(out)


def module_path(importer, name):
    """The file `import "name"` in importer loads: beside importer, then in the
    repository's stdlib/ (as msl finds it beside ./msl)."""
    if not name.endswith(".ms"):
        name += ".ms"
    for base in (os.path.dirname(importer), STDLIB_DIR):
        path = os.path.join(base, name)
        if os.path.isfile(path):
            return path
    sys.exit("gen_events.py: %s imports %s, which is not beside it nor in %s" % (importer, name, STDLIB_DIR))


def read_declarations(path, seen=None):
    """Returns ({event: [(field, type, required)]}, [(account field, type, required)],
    [events declared in path itself]); the events include those of the modules path
    imports, which share its namespaces."""
    seen = set() if seen is None else seen
    seen.add(os.path.realpath(path))
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    events = {}
    for m in re.finditer(r"^\s*import\s+\"([^\"]+)\"", text, re.M):
        module = module_path(path, m.group(1))
        if os.path.realpath(module) not in seen:
            events.update(read_declarations(module, seen)[0])
    own = []
    for m in re.finditer(r"^\s*event\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\{([^}]*)\})?", text, re.M):
        body = m.group(3) or ""
        events[m.group(1)] = [(g[1], g[2], not g[3]) for g in FIELD_RE.findall(body)]
        own.append(m.group(1))
    account = []
    m = re.search(r"^account\s*\{([^}]*)\}", text, re.M)
    if m:
        account = [(g[1], g[2], not g[3]) for g in FIELD_RE.findall(m.group(1))]
    return events, account, own


# ---- time --------------------------------------------------------------------------

class Clock:
    """The generated period: times are integer seconds since the Unix epoch, days are
    counted from the first day of the period."""

    def __init__(self, start_date, days):
        d = datetime.datetime.strptime(start_date, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
        self.base = int(d.timestamp())
        self.days = days
        self.end = self.base + days * DAY          # exclusive
        self.base_weekday = d.weekday()            # Monday = 0

    def weekday(self, day):
        return (self.base_weekday + day) % 7

    def day_of(self, ts):
        return (ts - self.base) // DAY

    def day_prefix(self, day):
        """'2026-01-05T' for a day index counted from the start."""
        return (datetime.datetime.fromtimestamp(self.base + day * DAY, datetime.timezone.utc)
                .strftime("%Y-%m-%dT"))

    def date(self, ts):
        """ISO 8601 UTC with seconds, as the account cells are written."""
        return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the shared machinery of every scenario ---------------------------------------------

class Account:
    """One simulated account: its CSV fields and how it behaves."""

    def __init__(self, ident):
        self.id = ident
        self.fields = {}          # account field -> cell text
        self.start = 0            # ts the journey starts
        self.stop = None          # ts the account goes silent (churn), or None
        self.pace = 1.0           # multiplies every duration of the journey
        self.users = []


class Scenario:
    """An example's journey. Subclasses give the schema, the accounts, the
    sparse journey events and the day-by-day product usage."""

    rules = ""                    # file name in examples/
    default_days = 60
    FIELDS = {}                   # event -> field names, in the declared order
    CONTROLS = {}                 # control event -> "milestone" | "playbook"
    ACCOUNT_FIELDS = ()

    def __init__(self, rng, clock):
        self.rng = rng
        self.clock = clock
        # Seconds of the day at which people work: from 06:30 to 21:30 UTC, peaking at noon.
        self.work_seconds = sorted(int(rng.triangular(6.5, 21.5, 12.5) * HOUR) + rng.randrange(60)
                                   for _ in range(4096))

    # helpers for subclasses
    def days(self, acct, lo, hi):
        return int(self.rng.uniform(lo, hi) * acct.pace * DAY)

    def biz(self, ts):
        """A working hour on a working day, at or after ts."""
        day = self.clock.day_of(ts)
        while True:
            if self.clock.weekday(day) < 5:
                t = self.clock.base + day * DAY + self.work_seconds[self.rng.randrange(4096)]
                if t >= ts:
                    return t
            day += 1

    def person(self, domain):
        return "%s.%s@%s" % (self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES), domain)

    @staticmethod
    def colleague(i, domain):
        """The i-th distinct work address at domain."""
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
        suffix = i // (len(FIRST_NAMES) * len(LAST_NAMES))
        return "%s.%s%s@%s" % (first, last, suffix or "", domain)

    def company_domain(self):
        return "%s%s.%s" % (self.rng.choice(COMPANY_A), self.rng.choice(COMPANY_B), self.rng.choice(TLDS))

    def make_users(self, n):
        return ["u%04d" % i for i in range(1, n + 1)]

    # what subclasses implement
    def make_account(self, ident):
        raise NotImplementedError

    def journey(self, acct, emit):
        """Calls emit(ts, event, values_tuple) for the account's sparse events."""
        raise NotImplementedError

    def day_rate(self, acct, day):
        """Expected usage rows on a working day (the weekday rhythm is applied after)."""
        raise NotImplementedError

    def usage(self, acct, day, ts):
        """One usage row at ts: (event, values_tuple)."""
        raise NotImplementedError


WEEKDAY_FACTOR = (1.0, 1.05, 1.05, 1.0, 0.85, 0.22, 0.12)


def poisson(rng, lam):
    """A Poisson draw with mean lam (a normal approximation for large means)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# ---- self-serve activation -------------------------------------------------------------

class SelfServe(Scenario):
    rules = "self_serve_activation.ms"
    default_days = 45
    FIELDS = {
        "email_verified": (),
        "login": ("user",),
        "project_created": ("template",),
        "task_completed": ("user",),
        "teammate_invited": ("email",),
        "integration_connected": ("app",),
        "subscription_started": ("plan",),
        "payment_failed": (),
    }
    CONTROLS = {}
    ACCOUNT_FIELDS = ("signup", "signup_email", "company_size")
    PERSONAL = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"]
    TEMPLATES = ["kanban", "roadmap", "sprint", "content_calendar", "crm"]
    APPS = ["slack", "google_drive", "github", "jira", "figma"]

    def make_account(self, ident):
        rng, a = self.rng, Account(ident)
        kind = rng.random()
        if kind < 0.04:
            domain, size = rng.choice(["example.com", "example.org"]), rng.randint(1, 20)
        elif kind < 0.42:
            domain, size = rng.choice(self.PERSONAL), rng.choice([1, 1, 1, 2, 3, 5])
        else:
            domain, size = self.company_domain(), int(min(500, max(2, rng.lognormvariate(math.log(15), 1.0))))
        latest = max(1, self.clock.days - 10)
        a.start = self.clock.base + rng.randrange(0, latest * DAY)
        a.fields = {"signup": self.clock.date(a.start), "signup_email": self.person(domain),
                    "company_size": str(size)}
        a.size = size
        r = rng.random()
        # engaged trials activate and form a habit; drifting ones fade; bounced ones leave
        a.kind = "engaged" if r < 0.45 else "drifting" if r < 0.8 else "bounced"
        a.pace = rng.uniform(0.5, 1.0) if a.kind == "engaged" else rng.uniform(1.0, 2.0)
        team = 1 if size == 1 else min(size, rng.randint(2, 6))
        a.users = sorted({rng.choice(FIRST_NAMES) for _ in range(team * 2)})[:team]
        if a.kind == "bounced":
            a.stop = a.start + self.days(a, 1, 5)
        elif a.kind == "drifting":
            a.stop = a.start + self.days(a, 8, 25)
        return a

    def journey(self, a, emit):
        rng = self.rng
        owner = a.users[0]
        t = a.start + rng.randrange(60, 20 * 60)
        emit(t, "login", (owner,))
        if rng.random() < 0.9:
            emit(t + int(rng.expovariate(1 / (6 * HOUR))), "email_verified", ())
        tp = t + self.days(a, 0.02, 2.5)
        if rng.random() < 0.35:       # blank projects do not count
            emit(tp, "project_created", ("blank",))
            tp += self.days(a, 0.1, 1.5)
        if a.kind != "bounced" or rng.random() < 0.3:
            emit(tp, "project_created", (rng.choice(self.TEMPLATES),))
            emit(tp + int(rng.uniform(0.2, 30) * HOUR), "task_completed", (owner,))
        if a.size >= 5 and a.kind != "bounced":
            domain = a.fields["signup_email"].split("@")[1]
            for _ in range(rng.randint(1, 6)):
                emit(tp + self.days(a, 0.2, 6), "teammate_invited", (self.person(domain),))
            if rng.random() < 0.85:
                emit(tp + self.days(a, 0.5, 8), "integration_connected", (rng.choice(self.APPS),))
        if a.kind == "engaged" and rng.random() < 0.6:
            tpay = a.start + self.days(a, 7, 20)
            if rng.random() < 0.15:
                emit(tpay, "payment_failed", ())
                tpay += self.days(a, 1, 5)
            emit(tpay, "subscription_started", (rng.choice(["team", "team", "business"]),))
        elif a.kind == "drifting" and rng.random() < 0.1:
            emit(a.start + self.days(a, 5, 12), "subscription_started", ("starter",))

    def day_rate(self, a, day):
        ts = self.clock.base + day * DAY
        if ts + DAY <= a.start:
            return 0.0
        age = (ts - a.start) / DAY
        people = len(a.users)
        if a.kind == "engaged":
            return 2.0 + 2.2 * people * min(1.0, 0.4 + age / 7)
        if a.kind == "drifting":
            return max(0.3, (1.5 + people) * (1 - age / 30))
        return 1.0

    def usage(self, a, day, ts):
        user = a.users[int(self.rng.random() * len(a.users))]
        if self.rng.random() < 0.45:
            return "login", (user,)
        return "task_completed", (user,)


# ---- SaaS onboarding ---------------------------------------------------------------------

class Saas(Scenario):
    rules = "saas_onboarding.ms"
    default_days = 75
    FIELDS = {
        "kickoff_call": (),
        "login": ("user",),
        "user_invited": ("email",),
        "data_imported": ("rows",),
        "integration_connected": ("kind",),
        "feature_used": ("feature",),
        "report_created": ("template",),
        "report_shared": ("channel",),
        "training_completed": ("user", "course"),
        "ticket_opened": ("severity",),
        "nps_response": ("score",),
    }
    CONTROLS = {"ms.assign": "milestone", "ms.complete": "milestone"}
    ACCOUNT_FIELDS = ("signup", "plan", "seats", "import_target")
    FEATURES = ["dashboards", "reports", "alerts", "api", "exports", "notifications", "search"]
    TICKETS = ["low"] * 50 + ["normal"] * 35 + ["high"] * 11 + ["urgent"] * 4   # by percent

    def make_account(self, ident):
        rng, a = self.rng, Account(ident)
        plan = rng.choices(["starter", "pro", "business", "enterprise"], [20, 45, 25, 10])[0]
        seats = {"starter": (3, 10), "pro": (5, 30), "business": (20, 80), "enterprise": (50, 150)}[plan]
        a.seats = rng.randint(*seats)
        latest = max(1, int(self.clock.days * 0.6))
        a.start = self.clock.base + rng.randrange(0, latest) * DAY
        a.fields = {"signup": self.clock.date(a.start), "plan": plan, "seats": str(a.seats),
                    "import_target": str(rng.choice([500, 1000, 2000, 5000, 10000, 20000]))}
        a.import_target = int(a.fields["import_target"])
        r = rng.random()
        a.kind = "fast" if r < 0.2 else "steady" if r < 0.7 else "slow" if r < 0.88 else "stalled" if r < 0.96 else "churned"
        a.pace = {"fast": rng.uniform(0.5, 0.8), "steady": rng.uniform(0.8, 1.2), "slow": rng.uniform(1.3, 1.9),
                  "stalled": rng.uniform(1.0, 1.5), "churned": rng.uniform(1.0, 1.5)}[a.kind]
        a.users = self.make_users(a.seats)
        a.domain = self.company_domain()
        a.live = None             # ts the team started using the product for real
        if a.kind == "churned":
            a.stop = a.start + self.days(a, 10, 30)
        return a

    def journey(self, a, emit):
        rng = self.rng
        if rng.random() < 0.04:
            return                                  # never assigned a CSM yet
        assigned = a.start + int(rng.uniform(0.1, 3) * DAY)
        emit(assigned, "ms.assign", ("kickoff",))
        kick = self.biz(assigned + self.days(a, 1, 8))
        if rng.random() < 0.06:
            emit(kick, "ms.complete", ("kickoff",))  # held offline, ticked off in the CS platform
        else:
            emit(kick, "kickoff_call", ())
        done = [kick]
        invite_n = a.seats // 2 + rng.randint(0, max(1, a.seats // 2))
        if a.kind == "stalled":
            invite_n = max(0, a.seats // 2 - 1 - rng.randint(0, 2))
        for i in range(invite_n):
            t = self.biz(kick + self.days(a, 0.5, 12))
            emit(t, "user_invited", (self.colleague(i, a.domain),))
            done.append(t)
        loads = rng.randint(1, 4)
        total = a.import_target * rng.uniform(1.0, 1.6) * (0.4 if a.kind == "stalled" else 1.0)
        for _ in range(loads):
            t = self.biz(kick + self.days(a, 1, 14))
            emit(t, "data_imported", (str(max(1, int(total / loads))),))
            done.append(t)
        crm = rng.choice(["salesforce", "hubspot"])
        if a.kind != "stalled" or rng.random() < 0.5:
            t = self.biz(kick + self.days(a, 2, 16))
            emit(t, "integration_connected", (crm,))
            done.append(t)
        emit(self.biz(kick + self.days(a, 3, 20)), "integration_connected", (rng.choice(["slack", "gmail", "zapier"]),))
        t = self.biz(kick + self.days(a, 1, 10))
        emit(t, "feature_used", ("notifications",))
        done.append(t)
        if a.seats >= 50 or a.fields["plan"] in ("business", "enterprise"):
            for u in a.users[:rng.choice([1, 2, 2, 3])]:
                emit(self.biz(kick + self.days(a, 3, 18)), "training_completed", (u, "admin"))
        for u in a.users[2:2 + a.seats // 5]:
            emit(self.biz(kick + self.days(a, 5, 25)), "training_completed", (u, "basics"))
        if a.kind == "stalled":
            a.live = None
            return
        setup_done = max(done)
        t = self.biz(setup_done + self.days(a, 0.5, 6))
        if rng.random() < 0.3:
            emit(t, "report_created", ("blank",))
            t = self.biz(t + self.days(a, 0.5, 3))
        emit(t, "report_created", (rng.choice(["pipeline", "forecast", "activity", "churn"]),))
        share = t + int(rng.uniform(0.05, 2.4) * DAY)
        emit(share, "report_shared", (rng.choices(["email", "slack", "teams", "link"], [40, 30, 18, 12])[0],))
        a.live = share
        for k in range(rng.randint(0, 2)):
            score = rng.choices(range(0, 11), [1, 1, 1, 1, 2, 3, 5, 8, 12, 14, 10])[0]
            emit(self.biz(a.start + self.days(a, 25 + 20 * k, 40 + 20 * k)), "nps_response", (str(score),))

    def day_rate(self, a, day):
        ts = self.clock.base + day * DAY
        if ts + DAY <= a.start:
            return 0.0
        if a.live is None or ts < a.live:
            return 1.5 + a.seats * 0.03
        ramp = min(1.0, (ts - a.live) / (14 * DAY * a.pace))
        return 2.0 + a.seats * (0.12 + 0.28 * ramp)

    def usage(self, a, day, ts):
        rng = self.rng
        r = rng.random()
        pool = a.users if a.live is not None and ts >= a.live else a.users[:3]
        user = pool[int(rng.random() * len(pool))]
        if r < 0.62:
            return "login", (user,)
        if r < 0.975:
            return "feature_used", (self.FEATURES[int(rng.random() * len(self.FEATURES))],)
        return "ticket_opened", (self.TICKETS[int(rng.random() * 100)],)


# ---- enterprise implementation ------------------------------------------------------------

class Enterprise(Scenario):
    rules = "enterprise_implementation.ms"
    default_days = 120
    FIELDS = {
        "kickoff_meeting": ("attendees",),
        "stakeholder_added": ("role",),
        "success_plan_signed": (),
        "sandbox_provisioned": (),
        "sso_configured": ("provider", "enforced"),
        "integration_connected": ("system",),
        "security_review": ("outcome",),
        "field_mapping_approved": (),
        "data_migrated": ("object", "records"),
        "uat_case": ("result",),
        "training_completed": ("user", "course"),
        "go_live_approved": (),
        "cutover_completed": (),
        "login": ("user",),
        "feature_used": ("feature",),
        "ticket_opened": ("severity",),
        "csat_response": ("score",),
        "exec_review": ("sentiment",),
    }
    CONTROLS = {"ms.assign": "milestone", "ms.complete": "milestone", "ms.block": "milestone",
                "ms.unblock": "milestone", "ms.advance": "playbook"}
    ACCOUNT_FIELDS = ("contract_start", "go_live_target", "arr", "seats", "industry", "owner_email",
                      "migration_records")
    INDUSTRIES = ["finance", "healthcare", "public_sector", "retail", "manufacturing", "technology", "media"]
    REGULATED = ("finance", "healthcare", "public_sector")
    SYSTEMS = ["salesforce", "sap", "workday", "snowflake", "servicenow", "netsuite", "jira"]
    OBJECTS = ["accounts", "contacts", "opportunities", "cases", "products", "invoices"]
    FEATURES_LIVE = ["workflows", "dashboards", "api", "reports", "search", "exports", "approvals"]
    FEATURES_BUILD = ["configuration", "workflows", "dashboards", "permissions"]
    # severities by percent, for a table lookup in the hot loop
    TICKETS_BUILD = ["low"] * 50 + ["normal"] * 35 + ["high"] * 13 + ["critical"] * 2
    TICKETS_HAPPY = ["low"] * 55 + ["normal"] * 30 + ["high"] * 12 + ["critical"] * 3
    TICKETS_UNHAPPY = ["low"] * 35 + ["normal"] * 30 + ["high"] * 27 + ["critical"] * 8

    def make_account(self, ident):
        rng, a = self.rng, Account(ident)
        latest = max(1, int(self.clock.days * 0.8))
        a.start = self.clock.base + rng.randrange(0, latest) * DAY
        weeks = rng.choice([12, 13, 14, 14, 15, 16])
        a.seats = int(min(400, max(20, rng.lognormvariate(math.log(70), 0.6))))
        industry = rng.choices(self.INDUSTRIES, [18, 12, 8, 15, 15, 22, 10])[0]
        a.sandbox = rng.random() < 0.03
        domain = rng.choice(["example.com", "example.net"]) if a.sandbox else self.company_domain()
        a.fields = {
            "contract_start": self.clock.date(a.start),
            "go_live_target": self.clock.date(a.start + weeks * 7 * DAY),
            "arr": str(int(round(a.seats * rng.uniform(1500, 5000), -3))),
            "seats": str(a.seats),
            "industry": industry,
            "owner_email": self.person(domain),
            "migration_records": str(rng.choice([50, 80, 120, 200, 350, 500]) * 1000),
        }
        a.regulated = industry in self.REGULATED
        a.strategic = int(a.fields["arr"]) >= 250000 or a.seats >= 1000
        r = rng.random()
        a.kind = ("fast" if r < 0.12 else "normal" if r < 0.7 else "slow" if r < 0.83
                  else "stalled" if r < 0.95 else "churned")
        a.pace = {"fast": rng.uniform(0.6, 0.8), "normal": rng.uniform(0.85, 1.15), "slow": rng.uniform(1.25, 1.6),
                  "stalled": rng.uniform(0.9, 1.3), "churned": rng.uniform(1.0, 1.4)}[a.kind]
        phases = ["kickoff", "build", "migration", "uat", "training", "go_live"] + (["security"] if a.regulated else [])
        a.stall = rng.choice(phases) if a.kind == "stalled" else None
        if a.kind == "churned":
            a.stop = a.start + self.days(a, 25, 70)
        a.happy = rng.random() < 0.8
        a.api_heavy = rng.random() < 0.35
        a.users = self.make_users(a.seats + 5)
        a.live = None             # go-live (cutover) ts
        a.stalled_at = None       # ts the journey stopped moving
        return a

    def journey(self, a, emit):
        rng, S = self.rng, a.start
        # ---- mobilise
        meet = self.biz(S + self.days(a, 2, 8))
        attendees = rng.randint(3, 12)
        emit(meet, "kickoff_meeting", (str(attendees),))
        if attendees < 4:            # too few people came: a second, full meeting
            meet = self.biz(meet + self.days(a, 3, 7))
            emit(meet, "kickoff_meeting", (str(rng.randint(5, 10)),))
        emit(self.biz(S + self.days(a, 0.5, 4)), "stakeholder_added", ("project_manager",))
        emit(self.biz(S + self.days(a, 0.5, 6)), "stakeholder_added", ("it_lead",))
        sponsor = self.biz(S + self.days(a, 1, 12)) if rng.random() < 0.9 else None
        if sponsor:
            emit(sponsor, "stakeholder_added", ("executive_sponsor",))
        if a.stall == "kickoff":
            a.stalled_at = meet
            return
        plan = self.biz(S + self.days(a, 5, 14))
        emit(plan, "success_plan_signed", ())
        if sponsor:
            K = max(meet, sponsor, plan)
        else:                        # the sponsor was named by email: the CSM signs the phase off
            K = self.biz(max(meet, plan) + self.days(a, 3, 8))
            emit(K, "ms.complete", ("kickoff",))
        emit(self.biz(K + self.days(a, 5, 30)), "stakeholder_added", ("champion",))

        # ---- security review (regulated industries), beside the build
        if a.regulated:
            t = K
            if rng.random() < 0.3:   # waiting for the customer's infosec team
                blocked = self.biz(K + self.days(a, 4, 10))
                emit(blocked, "ms.block", ("security",))
                t = self.biz(blocked + self.days(a, 4, 14))
                emit(t, "ms.unblock", ("security",))
            if rng.random() < 0.6:
                t = self.biz(t + self.days(a, 6, 16))
                emit(t, "security_review", ("changes_requested",))
            if a.stall != "security":
                emit(self.biz(t + self.days(a, 5, 18)), "security_review", ("approved",))

        # ---- build
        sandbox = self.biz(K + self.days(a, 2, 8))
        emit(sandbox, "sandbox_provisioned", ())
        provider = rng.choice(["okta", "azure_ad", "google", "onelogin", "ping"])
        sso_test = self.biz(K + self.days(a, 5, 14))
        emit(sso_test, "sso_configured", (provider, "false"))
        sso_on = self.biz(sso_test + self.days(a, 4, 14))
        if rng.random() < 0.18:      # a critical incident stops the build for a while
            crit = self.biz(K + self.days(a, 2, 18))
            emit(crit, "ticket_opened", ("critical",))
            if crit < sso_on:
                sso_on = self.biz(crit + self.days(a, 3, 8))
        systems = rng.sample(self.SYSTEMS, rng.randint(2, 4))
        sys_times = sorted(self.biz(K + self.days(a, 4, 28)) for _ in systems)
        if a.stall == "build":
            emit(sys_times[0], "integration_connected", (systems[0],))
            a.stalled_at = sys_times[0]
            self.training(a, K, emit, stalled=True)
            return
        emit(sso_on, "sso_configured", (provider, "true"))
        for s, t in zip(systems, sys_times):
            emit(t, "integration_connected", (s,))
        T1 = max(sandbox, sso_on, sys_times[1])

        trained = self.training(a, T1, emit, stalled=a.stall == "training")

        # ---- migration
        mapping = self.biz(T1 + self.days(a, -5, 8))
        emit(mapping, "field_mapping_approved", ())
        base = max(T1, mapping)
        objects = rng.sample(self.OBJECTS, rng.randint(4, 6))
        nloads = rng.randint(len(objects), 12)
        target = int(a.fields["migration_records"])
        total = target * rng.uniform(1.02, 1.2)
        weights = [rng.uniform(0.5, 1.5) for _ in range(nloads)]
        times = sorted(base + self.days(a, 3, 30) + rng.randrange(HOUR) for _ in range(nloads))
        if a.stall == "migration":
            nloads = max(2, nloads // 2)
            total *= 0.4
        done_at, acc, seen = None, 0, set()
        for i in range(nloads):
            obj = objects[i] if i < len(objects) else rng.choice(objects)
            rows = max(1, int(total * weights[i] / sum(weights)))
            emit(times[i], "data_migrated", (obj, str(rows)))
            acc += rows
            seen.add(obj)
            if done_at is None and acc >= target and len(seen) >= 4:
                done_at = times[i]
        if done_at is None or a.stall == "migration":
            a.stalled_at = times[nloads - 1]
            return
        M = done_at

        # ---- user acceptance testing
        span = self.days(a, 10, 21)
        pause = 0
        if rng.random() < 0.12:      # the customer's testers are pulled onto other work
            blocked = self.biz(M + self.days(a, 1, 4))
            emit(blocked, "ms.block", ("uat",))
            unblocked = self.biz(blocked + self.days(a, 3, 9))
            emit(unblocked, "ms.unblock", ("uat",))
            pause = unblocked - blocked
        cases = [(M + int(rng.uniform(0.0, 0.7) * span), "failed") for _ in range(rng.randint(2, 12))]
        n_pass = rng.randint(26, 40)
        if a.stall == "uat":
            n_pass = rng.randint(8, 22)
        cases += [(M + int(rng.uniform(0.1, 1.0) * span), "passed") for _ in range(n_pass)]
        cases = sorted((t + (pause if t > M + span // 5 else 0), r) for t, r in cases)
        for t, r in cases:
            emit(t, "uat_case", (r,))
        U = self.uat_done(cases)
        if U is None:
            a.stalled_at = cases[-1][0]
            return

        # ---- go-live
        if trained is None:
            a.stalled_at = U
            return
        approve = self.biz(max(U, trained) + self.days(a, 3, 10))
        emit(approve, "go_live_approved", ())
        if a.stall == "go_live":
            a.stalled_at = approve
            return
        if rng.random() < 0.1:       # the go/no-go meeting postponed the cutover
            approve = self.biz(approve + self.days(a, 5, 12))
            emit(approve, "go_live_approved", ())
        G = approve + int(rng.uniform(0.3, 2.5) * DAY)
        emit(G, "cutover_completed", ())
        a.live = G
        if not a.sandbox:
            emit(self.biz(G + self.days(a, 0.5, 4)), "ms.advance", ("implementation",))

        # ---- life after go-live
        t = G
        while True:
            t = self.biz(t + int(rng.uniform(12, 25) * DAY))
            if t >= self.clock.end:
                break
            score = rng.choice([4, 5, 5, 4, 3]) if a.happy else rng.choice([2, 3, 3, 4, 1])
            emit(t, "csat_response", (str(score),))
        if a.strategic and rng.random() < 0.85:
            ask = self.biz(G + self.days(a, 14, 35))
            emit(ask, "ms.assign", ("ebr",))
            if rng.random() < 0.8:
                mood = rng.choices(["positive", "neutral", "negative"], [70, 20, 10])[0]
                emit(self.biz(ask + self.days(a, 5, 25)), "exec_review", (mood,))

    def training(self, a, begin, emit, stalled):
        """Admin and end-user courses; returns when the milestone's exit first holds, or None."""
        rng = self.rng
        admins = a.users[:rng.randint(2, 3)]
        wanted = a.seats // 4
        others = a.users[len(admins):len(admins) + int(wanted * rng.uniform(1.0, 1.2)) + 1]
        if stalled:
            others = others[:max(0, wanted // 2)]
        rows = [(self.biz(begin + self.days(a, 3, 30)), u, "admin") for u in admins]
        rows += [(self.biz(begin + self.days(a, 8, 55)), u, rng.choice(["end_user", "reporting", "workflows"]))
                 for u in others]
        rows.sort()
        done, admins_done, people = None, set(), set()
        for t, u, course in rows:
            emit(t, "training_completed", (u, course))
            people.add(u)
            if course == "admin":
                admins_done.add(u)
            if done is None and len(admins_done) >= 2 and len(people) >= wanted:
                done = t
        return None if stalled else done

    @staticmethod
    def uat_done(cases):
        """First instant with 25 passed cases and no failure in the last 3 days."""
        fails = [t for t, r in cases if r == "failed"]
        candidates = sorted({t for t, _ in cases} | {t + 3 * DAY for t in fails})
        passed = sorted(t for t, r in cases if r == "passed")
        for c in candidates:
            if bisect.bisect_right(passed, c) >= 25 and not any(c - 3 * DAY < f <= c for f in fails):
                return c
        return None

    def day_rate(self, a, day):
        ts = self.clock.base + day * DAY
        if ts + DAY <= a.start:
            return 0.0
        if a.live is None or ts < a.live:
            quiet = a.stalled_at is not None and ts > a.stalled_at
            return 0.25 if quiet else 0.6
        ramp = min(1.0, (ts - a.live) / (21 * DAY * a.pace))
        share = (0.07 + 0.13 * ramp) if a.happy else (0.04 + 0.05 * ramp)
        return 1.5 + a.seats * share

    def usage(self, a, day, ts):
        rng = self.rng
        r = rng.random()
        if a.live is None or ts < a.live:
            if r < 0.7:
                return "login", (a.users[int(rng.random() * 8)],)
            if r < 0.95:
                return "feature_used", (self.FEATURES_BUILD[int(rng.random() * 4)],)
            return "ticket_opened", (self.TICKETS_BUILD[int(rng.random() * 100)],)
        if r < 0.55:
            ramp = min(1.0, (ts - a.live) / (21 * DAY * a.pace))
            pool = int(a.seats * ((0.35 + 0.35 * ramp) if a.happy else (0.2 + 0.15 * ramp))) + 3
            return "login", (a.users[int(rng.random() * pool)],)
        if r < 0.975:
            if a.api_heavy and rng.random() < 0.3:
                return "feature_used", ("api",)
            return "feature_used", (self.FEATURES_LIVE[int(rng.random() * len(self.FEATURES_LIVE))],)
        table = self.TICKETS_HAPPY if a.happy else self.TICKETS_UNHAPPY
        return "ticket_opened", (table[int(rng.random() * 100)],)


SCENARIOS = {"self_serve": SelfServe, "saas": Saas, "enterprise": Enterprise}
ALIASES = {"self_serve_activation": "self_serve", "self-serve": "self_serve",
           "saas_onboarding": "saas", "enterprise_implementation": "enterprise"}


# ---- writing -------------------------------------------------------------------------

def check_schema(scenario, rules_path):
    """The generator emits exactly what the example declares."""
    events, account, own = read_declarations(rules_path)
    problems = []
    for name, fields in scenario.FIELDS.items():
        if name not in events:
            problems.append("event %s is not declared" % name)
            continue
        declared = [f for f, _, _ in events[name]]
        if list(fields) != declared:
            problems.append("event %s: generator fields %s, declared %s" % (name, list(fields), declared))
    # An imported module may declare events this example has no use for.
    for name in own:
        if name not in scenario.FIELDS:
            problems.append("declared event %s is never generated" % name)
    declared_account = [f for f, _, _ in account]
    if list(scenario.ACCOUNT_FIELDS) != declared_account:
        problems.append("account fields: generator %s, declared %s" % (list(scenario.ACCOUNT_FIELDS), declared_account))
    if problems:
        sys.exit("gen_events.py: %s does not match the generator:\n  %s" % (rules_path, "\n  ".join(problems)))


def row_templates(scenario):
    """The CSV header and, per event, a str.format template putting its values in their columns."""
    columns = []
    for fields in scenario.FIELDS.values():
        for f in fields:
            if f not in columns:
                columns.append(f)
    controls = sorted(set(scenario.CONTROLS.values()), key=["milestone", "playbook"].index)
    columns += controls
    templates = {}
    kinds = dict(scenario.FIELDS)
    kinds.update({name: (col,) for name, col in scenario.CONTROLS.items()})
    for name, fields in kinds.items():
        cells = []
        for col in columns:
            cells.append("{%d}" % (2 + fields.index(col)) if col in fields else "")
        templates[name] = "{0},{1},%s,%s\n" % (name, ",".join(cells))
    return "account,time,event,%s\n" % ",".join(columns), templates


def write_accounts(path, scenario, accounts):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,%s\n" % ",".join(scenario.ACCOUNT_FIELDS))
        for a in accounts:
            f.write("%s,%s\n" % (a.id, ",".join(a.fields[k] for k in scenario.ACCOUNT_FIELDS)))


def clamp(ts, a, day_start):
    """Keeps a usage row inside the day and inside the account's active span."""
    if ts < a.start:
        ts = min(a.start + (ts - day_start) % HOUR, day_start + DAY - 1)
    if a.stop is not None and ts >= a.stop:
        ts = max(a.stop - 1 - (ts - day_start) % HOUR, day_start, a.start)
    return ts


def generate(args):
    key = ALIASES.get(args.rules, args.rules)
    if key not in SCENARIOS:
        sys.exit("gen_events.py: unknown --rules %r (one of: %s)" % (args.rules, ", ".join(SCENARIOS)))
    cls = SCENARIOS[key]
    days = args.days or cls.default_days
    clock = Clock(args.start, days)
    rng = random.Random(args.seed)
    scenario = cls(rng, clock)
    check_schema(scenario, os.path.join(EXAMPLES_DIR, cls.rules))
    header, templates = row_templates(scenario)

    width = max(4, len(str(args.accounts)))
    accounts = [scenario.make_account("acct%0*d" % (width, i + 1)) for i in range(args.accounts)]

    # Sparse journey events, bucketed by day.
    by_day = [[] for _ in range(days)]
    n_journey = 0
    for idx, a in enumerate(accounts):
        kept = []

        def emit(ts, event, values, a=a, kept=kept):
            if clock.base <= ts < clock.end and (a.stop is None or ts < a.stop):
                kept.append((ts, event, values))

        scenario.journey(a, emit)
        for ts, event, values in kept:
            by_day[clock.day_of(ts)].append((ts, idx, event, values))
        n_journey += len(kept)

    # Expected usage per account and day, with the weekly rhythm.
    rates = []
    for a in accounts:
        r = []
        for d in range(days):
            ts = clock.base + d * DAY
            if a.stop is not None and ts >= a.stop:
                r.append(0.0)
            else:
                r.append(scenario.day_rate(a, d) * WEEKDAY_FACTOR[clock.weekday(d)])
        rates.append(r)

    exact = args.events is not None
    if exact:
        journey_budget = min(n_journey, args.events)
        if journey_budget < n_journey:      # tiny N: keep the earliest journey events
            flat = sorted((e for bucket in by_day for e in bucket), key=first)[:journey_budget]
            by_day = [[] for _ in range(days)]
            for e in flat:
                by_day[clock.day_of(e[0])].append(e)
        usage_total = args.events - journey_budget
        day_weight = [sum(r[d] for r in rates) for d in range(days)]
        total_weight = sum(day_weight)
        if total_weight == 0:
            day_weight = [1.0] * days
            total_weight = float(days)
            rates = [[1.0] * days for _ in accounts]
        budgets, cum, prev = [], 0.0, 0
        for d in range(days):
            cum += day_weight[d]
            upto = int(usage_total * cum / total_weight + 0.5) if d < days - 1 else usage_total
            budgets.append(upto - prev)
            prev = upto

    usage = scenario.usage
    os.makedirs(args.out_dir, exist_ok=True)
    write_accounts(os.path.join(args.out_dir, "accounts.csv"), scenario, accounts)

    ids = [a.id for a in accounts]
    starts = [a.start for a in accounts]
    stops = [a.stop if a.stop is not None else clock.end for a in accounts]
    written = 0
    work = scenario.work_seconds
    time_of_day = ["%02d:%02d:%02dZ" % (sec // HOUR, sec // 60 % 60, sec % 60) for sec in range(DAY)]
    tmp = os.path.join(args.out_dir, ".events.csv.tmp")
    with open(tmp, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
        out.write(header)
        for d in range(days):
            day_start = clock.base + d * DAY
            rows = by_day[d]
            if exact:
                if budgets[d] > 0:
                    cw, acc = [], 0.0
                    for r in rates:
                        acc += r[d]
                        cw.append(acc)
                    if acc == 0:
                        cw = list(range(1, len(accounts) + 1))
                    for idx in rng.choices(range(len(accounts)), cum_weights=cw, k=budgets[d]):
                        ts = day_start + work[int(rng.random() * 4096)]
                        if ts < starts[idx] or ts >= stops[idx]:
                            ts = clamp(ts, accounts[idx], day_start)
                        event, values = usage(accounts[idx], d, ts)
                        rows.append((ts, idx, event, values))
            else:
                for idx, a in enumerate(accounts):
                    k = poisson(rng, rates[idx][d])
                    for _ in range(k):
                        ts = clamp(day_start + work[int(rng.random() * 4096)], a, day_start)
                        event, values = usage(a, d, ts)
                        rows.append((ts, idx, event, values))
            rows.sort(key=first)          # stable: equal times keep their generation order
            prefix = clock.day_prefix(d)
            chunk = [templates[event].format(ids[idx], prefix + time_of_day[ts - day_start], *values)
                     for ts, idx, event, values in rows]
            out.write("".join(chunk))
            written += len(chunk)
            by_day[d] = None
    os.replace(tmp, os.path.join(args.out_dir, "events.csv"))
    return written, len(accounts), days


def main(argv=None):
    p = argparse.ArgumentParser(description="Seeded, deterministic event logs for the MSL examples.")
    p.add_argument("--rules", default="enterprise",
                   help="example: self_serve, saas or enterprise (default: enterprise)")
    p.add_argument("--accounts", type=int, default=300, help="number of accounts (default 300)")
    p.add_argument("--days", type=int, default=None, help="days of history (default: the example's)")
    p.add_argument("--start", default="2026-01-05", help="first day, YYYY-MM-DD (default 2026-01-05)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--events", type=int, default=None, help="write exactly this many event rows")
    p.add_argument("--bench", action="store_true", help="benchmark data: needs --events")
    p.add_argument("--out-dir", required=True, help="directory for accounts.csv and events.csv")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.bench and args.events is None:
        p.error("--bench needs --events N")
    if args.accounts < 1 or (args.days is not None and args.days < 1) or (args.events is not None and args.events < 0):
        p.error("--accounts and --days must be positive, --events not negative")
    written, naccounts, days = generate(args)
    if not args.quiet:
        print("gen_events.py: %d events, %d accounts, %d days -> %s" % (written, naccounts, days, args.out_dir),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
