#!/bin/sh
# bench.sh MSL [--full] — the benchmark `make bench` runs.
#
#   sh tools/bench.sh ./msl                 1M and 4M events (a few minutes on 2 cores)
#   sh tools/bench.sh ./msl --full          adds the 10M-event log
#   BENCH_EVENTS="10000000" sh tools/bench.sh ./msl   exactly these sizes
#
# For each size, tools/gen_events.py --bench writes a time-sorted enterprise log
# over BENCH_ACCOUNTS (default 10000) accounts into a temporary directory, then:
#   msl     evaluates tools/bench/bench.ms (four milestones) with --out;
#   sqlite  imports the same CSV (.import) and computes one of them,
#           three_logins (exit count(login) >= 3): the time of each account's
#           3rd login, with ROW_NUMBER(); its rows are compared with msl's
#           achieved_at (MATCH / MISMATCH);
#   duckdb  the same query, when node can load @duckdb/node-api.
# Wall time and peak RSS come from /usr/bin/time. Environment: BENCH_ACCOUNTS,
# BENCH_EVENTS (sizes), BENCH_DATA (a directory to keep and reuse generated
# logs in), BENCH_KEEP=1 (keep the temporary directory).
set -eu

MSL=${1:-./msl}
SIZES=${BENCH_EVENTS:-"1000000 4000000"}
if [ "${2:-}" = "--full" ]; then SIZES="$SIZES 10000000"; fi
ACCOUNTS=${BENCH_ACCOUNTS:-10000}
RULES=tools/bench/bench.ms
MILESTONE=three_logins

if [ ! -x "$MSL" ]; then
    echo "bench: $MSL is not an executable (run \`make all\` first)" >&2
    exit 2
fi
if [ ! -f "$RULES" ]; then
    echo "bench: $RULES not found (run from the repository root)" >&2
    exit 2
fi

# The measuring tools come from the distribution; install them when missing
# and we may (root), otherwise say what is missing.
need=""
[ -x /usr/bin/time ] || need="$need time"
command -v sqlite3 >/dev/null 2>&1 || need="$need sqlite3"
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "bench: installing$need"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "bench: missing$need (apt-get install$need)" >&2
        exit 2
    fi
fi
command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is needed" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/msl-bench.XXXXXX")
if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "bench: keeping $TMP"
else
    trap 'rm -rf "$TMP"' EXIT
    trap 'rm -rf "$TMP"; exit 130' INT TERM
fi
DATA=${BENCH_DATA:-$TMP/data}
RESULTS=$TMP/results.txt
: >"$RESULTS"

have_duckdb=0
if command -v node >/dev/null 2>&1 &&
   node -e "require('@duckdb/node-api')" >/dev/null 2>&1; then
    have_duckdb=1
fi

# measure NAME EVENTS CMD...: runs CMD under /usr/bin/time, appends a result row.
measure() {
    name=$1 events=$2
    shift 2
    if ! /usr/bin/time -f '%e %M' -o "$TMP/time" "$@"; then
        echo "bench: $name failed:" >&2
        cat "$TMP/time" >&2
        exit 1
    fi
    # The last line: with a non-zero exit /usr/bin/time writes a note first.
    tail -n 1 "$TMP/time" | awk -v n="$name" -v e="$events" '{
        s = $1 + 0; rate = (s > 0) ? e / s : 0
        printf "%-8s %10d %9.2f %12.0f %9.1f\n", n, e, s, rate, $2 / 1024 }' >>"$RESULTS"
    tail -n 1 "$RESULTS"
}

# compare ENGINE EVENTS FILE: FILE holds "account,time" rows of the engine;
# msl's are the achieved_at cells of $MILESTONE in milestones.csv.
compare() {
    engine=$1 events=$2
    LC_ALL=C sort "$3" >"$TMP/other.sorted"
    # Account ids and times of the generated data never need CSV quoting.
    awk -F, -v m="$MILESTONE" '$2 == m && $6 != "" { print $1 "," $6 }' \
        "$TMP/out-$events/milestones.csv" | LC_ALL=C sort >"$TMP/msl.sorted"
    n_msl=$(wc -l <"$TMP/msl.sorted")
    n_other=$(wc -l <"$TMP/other.sorted")
    same=$(LC_ALL=C comm -12 "$TMP/msl.sorted" "$TMP/other.sorted" | wc -l)
    if [ "$same" -eq "$n_msl" ] && [ "$same" -eq "$n_other" ]; then
        verdict=MATCH
    else
        verdict=MISMATCH
        echo "  first differences (< msl, > $engine):"
        LC_ALL=C diff "$TMP/msl.sorted" "$TMP/other.sorted" | grep '^[<>]' | head -n 5 | sed 's/^/    /'
    fi
    line="$MILESTONE $verdict $engine: msl $n_msl rows, $engine $n_other rows, $same identical"
    echo "  $line"
    echo "$events $line" >>"$TMP/verdicts"
}

echo "msl benchmark: rules $RULES, $ACCOUNTS accounts, sizes: $SIZES"
echo "machine: $(nproc 2>/dev/null || echo '?') cores, $(uname -m), $(sqlite3 --version | cut -d' ' -f1 | sed 's/^/sqlite /')"
for n in $SIZES; do
    d=$DATA/$n-$ACCOUNTS
    echo
    if [ -f "$d/events.csv" ] && [ -f "$d/accounts.csv" ]; then
        echo "== $n events: reusing $d"
    else
        echo "== $n events: generating into $d"
        mkdir -p "$d"
        start=$(date +%s)
        python3 tools/gen_events.py --bench --events "$n" --accounts "$ACCOUNTS" \
            --rules enterprise --out-dir "$d" --quiet
        echo "  generated in $(( $(date +%s) - start ))s ($(du -m "$d/events.csv" | cut -f1) MB of CSV)"
    fi

    mkdir -p "$TMP/out-$n"
    measure msl "$n" "$MSL" run "$RULES" --events "$d/events.csv" \
        --accounts "$d/accounts.csv" --out "$TMP/out-$n"

    rm -f "$TMP/bench.db"
    cat >"$TMP/query.sql" <<EOF
.bail on
.output /dev/null
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
.import --csv $d/events.csv events
.mode list
.separator ","
.headers off
.output $TMP/sqlite-$n.csv
SELECT account, time FROM (
  SELECT account, time,
         ROW_NUMBER() OVER (PARTITION BY account ORDER BY time) AS rn
  FROM events WHERE event = 'login')
WHERE rn = 3 ORDER BY account;
EOF
    measure sqlite "$n" sqlite3 "$TMP/bench.db" ".read $TMP/query.sql"
    rm -f "$TMP/bench.db"
    compare sqlite "$n" "$TMP/sqlite-$n.csv"

    if [ "$have_duckdb" = 1 ]; then
        measure duckdb "$n" node tools/bench/duckdb_query.js "$d/events.csv" "$TMP/duckdb-$n.csv"
        compare duckdb "$n" "$TMP/duckdb-$n.csv"
    fi
done

echo
echo "results (msl: 4 milestones, all outputs; sqlite/duckdb: import + the $MILESTONE query)"
printf "%-8s %10s %9s %12s %9s\n" engine events seconds events/s "peak MB"
sort -s -k2,2n "$RESULTS"
cat "$TMP/verdicts"
if [ "$have_duckdb" = 0 ]; then
    echo "duckdb: not installed (npm install @duckdb/node-api to compare)"
fi
if grep -q MISMATCH "$TMP/verdicts"; then
    exit 1
fi
