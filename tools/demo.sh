#!/bin/sh
# demo.sh MSL — runs the enterprise example and summarises the result.
#
#   sh tools/demo.sh ./msl        (what `make demo` does; run from the repo root)
#
# Writes out/demo/ (milestones.csv, playbooks.csv, signals.csv, summary.json,
# report.html when the build writes one) and prints, per milestone in
# declaration order, how many accounts are in each status.
set -eu

MSL=${1:-./msl}
RULES=examples/enterprise_implementation.ms
DATA=examples/data/enterprise
OUT=out/demo

if [ ! -x "$MSL" ]; then
    echo "demo: $MSL is not an executable (run \`make all\` first)" >&2
    exit 2
fi
if [ ! -f "$RULES" ]; then
    echo "demo: $RULES not found (run from the repository root)" >&2
    exit 2
fi
command -v python3 >/dev/null 2>&1 || { echo "demo: python3 is needed for the summary table" >&2; exit 2; }

mkdir -p "$OUT"
echo "\$ $MSL run $RULES --events $DATA/events.csv --accounts $DATA/accounts.csv --out $OUT"
"$MSL" run "$RULES" --events "$DATA/events.csv" --accounts "$DATA/accounts.csv" --out "$OUT"

echo
echo "results in $OUT/:"
for f in milestones.csv playbooks.csv signals.csv summary.json report.html; do
    if [ -f "$OUT/$f" ]; then echo "  $OUT/$f"; fi
done
echo

# Counts come from milestones.csv (read with a real CSV parser: cells may be
# quoted); summary.json only supplies the declaration order of the milestones.
python3 - "$OUT/milestones.csv" "$OUT/summary.json" <<'EOF'
import csv, json, sys
from collections import Counter, OrderedDict

rows_path, summary_path = sys.argv[1], sys.argv[2]
counts = OrderedDict()
with open(rows_path, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        counts.setdefault(row["milestone"], Counter())[row["status"]] += 1
with open(summary_path, encoding="utf-8") as f:
    order = [m["name"] for m in json.load(f)["milestones"]]
names = [n for n in order if n in counts] + [n for n in counts if n not in order]

# Once-mode statuses, then continuous-mode ones, as the spec lists them.
STATUSES = ["completed", "achieving", "in_progress", "overdue", "blocked", "pending",
            "not_achieving", "never_achieved", "not_started"]
present = [s for s in STATUSES if any(counts[n][s] for n in names)]
present += sorted({s for n in names for s in counts[n]} - set(present))

width = max([len("milestone")] + [len(n) for n in names])
cols = [max(len(s), 5) for s in present]
print("  ".join(["milestone".ljust(width), "accounts".rjust(8)] +
                [s.rjust(w) for s, w in zip(present, cols)]))
for n in names:
    c = counts[n]
    print("  ".join([n.ljust(width), str(sum(c.values())).rjust(8)] +
                    [(str(c[s]) if c[s] else "-").rjust(w) for s, w in zip(present, cols)]))
EOF
