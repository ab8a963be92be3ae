#!/bin/sh
# bench.sh [MSL] — the benchmark `make bench` runs (issue 9, items 5 and 6).
#
# Over the shared benchmark logs (../shared/bench/gen_events.py: 100,000
# accounts, seed 7, time-sorted, plus a shuffled copy) it times
#   msl     ../shared/bench/three.ms with -j 1 and with every core, on CSV,
#           JSON Lines and gzipped CSV, and tools/bench/ten.ms (ten milestones
#           and a playbook, msl only);
#   DuckDB  the same three milestones in SQL (../shared/bench/duckdb_run.js),
#           through the npm package @duckdb/node-api, which this script
#           installs into bench/node/;
#   SQLite  the same (../shared/bench/sqlite_run.sh), on the check size only;
#   wc -l   the same files: the cost of reading the bytes;
# checks that every engine gives identical results (compared as sorted
# "account,milestone,epoch" lines; msl's variants as whole output folders) and
# writes bench/results.md. Results that differ, or a run that fails, make the
# exit status 1 — after results.md is written. The check size runs first; when
# its results differ, the larger logs are not timed.
#
# Environment (defaults in brackets):
#   BENCH_SIZES          event counts of the time-sorted logs ["1000000 10000000"]
#   BENCH_CHECK_SIZE     the log all engines, SQLite included, must agree on [1000000]
#   BENCH_SHUFFLED_SIZE  the shuffled log (msl and DuckDB); empty: none [largest size]
#   BENCH_FORMATS_SIZE   the log also timed as JSON Lines and .gz; empty: none [largest size]
#   BENCH_ACCOUNTS [100000]  BENCH_SEED [7]
#   BENCH_REPEAT         runs of each timed command; the median wall time counts [3]
#   BENCH_SHARED         the shared benchmark folder [../shared/bench]
#   BENCH_DATA           generated logs, kept between runs [bench/data]
#   BENCH_NODE           where npm installs DuckDB [bench/node]
#   BENCH_RESULTS        the report [bench/results.md]
# Run outputs go to bench/work/ (emptied at each run). Every size is added to
# BENCH_SIZES' list, so the check, shuffled and formats sizes always run.
#
#   sh tools/bench.sh ./msl                          the full benchmark
#   BENCH_SIZES=1000000 sh tools/bench.sh ./msl      the 1M log only (about 2 minutes)
set -eu

MSL=${1:-./msl}
SHARED=${BENCH_SHARED:-../shared/bench}
CHECK=${BENCH_CHECK_SIZE:-1000000}
ACCOUNTS=${BENCH_ACCOUNTS:-100000}
SEED=${BENCH_SEED:-7}
REPEAT=${BENCH_REPEAT:-3}
DATA=${BENCH_DATA:-bench/data}
NODE_DIR=${BENCH_NODE:-bench/node}
RESULTS=${BENCH_RESULTS:-bench/results.md}
WORK=bench/work
TEN=tools/bench/ten.ms
DUCKDB_PACKAGE=@duckdb/node-api
DUCKDB_VERSION=1.5.6-r.1

LARGEST=$(printf '%s\n' $CHECK ${BENCH_SIZES:-1000000 10000000} | sort -n | tail -n 1)
SHUFFLED=${BENCH_SHUFFLED_SIZE-$LARGEST}
FORMATS=${BENCH_FORMATS_SIZE-$LARGEST}
# The check size first, then the others from the smallest.
SIZES="$CHECK $(printf '%s\n' ${BENCH_SIZES:-1000000 10000000} $SHUFFLED $FORMATS |
    sort -un | grep -vx "$CHECK" || true)"

fail() {
    echo "bench: $*" >&2
    exit 2
}

[ -x "$MSL" ] || fail "$MSL is not an executable (run \`make all\` first)"
[ -f "$TEN" ] || fail "$TEN not found (run from the repository root)"
for f in gen_events.py three.ms sqlite_run.sh duckdb_run.js msl_to_epochs.py; do
    [ -f "$SHARED/$f" ] || fail "$SHARED/$f not found (the shared benchmark; set BENCH_SHARED)"
done
for n in $SIZES; do
    case $n in
    '' | *[!0-9]*) fail "event counts are whole numbers, not '$n'" ;;
    esac
done
command -v python3 >/dev/null 2>&1 || fail "python3 is needed"

# The measuring tools and SQLite come from the distribution; install them when
# missing and we may (root), otherwise say what is missing.
need=""
[ -x /usr/bin/time ] || need="$need time"
command -v sqlite3 >/dev/null 2>&1 || need="$need sqlite3"
command -v gzip >/dev/null 2>&1 || need="$need gzip"
if [ -n "$need" ]; then
    [ "$(id -u)" = 0 ] || fail "missing$need (apt-get install$need)"
    echo "bench: installing$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

bench_start=$(date +%s)
rm -rf "$WORK"
mkdir -p "$WORK" "$DATA"
ROWS=$WORK/rows.tsv         # one line per timed run, read by report.py
VERDICTS=$WORK/verdicts.tsv # one line per comparison
META=$WORK/meta             # key=value lines about the machine and tools
: >"$ROWS"
: >"$VERDICTS"
: >"$META"
status=0

meta() {
    printf '%s=%s\n' "$1" "$2" >>"$META"
}

# DuckDB: installed by npm into $NODE_DIR, once. Without it the benchmark goes
# on and results.md says why DuckDB has no figures.
# duckdb_run.js requires the package by this path, so it must be absolute.
mkdir -p "$NODE_DIR"
DUCKDB_MODULES=$(cd "$NODE_DIR" && pwd)/node_modules
duckdb_note=""
duckdb_installed() {
    command -v node >/dev/null 2>&1 &&
        [ "$(DUCKDB_MODULES="$DUCKDB_MODULES" node -e \
            'console.log(require(require("path").resolve(process.env.DUCKDB_MODULES,
             "@duckdb/node-api/package.json")).version)' 2>/dev/null)" = "$DUCKDB_VERSION" ]
}
if ! duckdb_installed; then
    if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "bench: installing nodejs and npm"
        apt-get update -qq || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || true
    fi
    if command -v npm >/dev/null 2>&1; then
        echo "bench: npm install --prefix $NODE_DIR $DUCKDB_PACKAGE@$DUCKDB_VERSION"
        if ! npm install --prefix "$NODE_DIR" --no-audit --no-fund \
                "$DUCKDB_PACKAGE@$DUCKDB_VERSION" >"$WORK/npm.log" 2>&1; then
            duckdb_note="npm install $DUCKDB_PACKAGE@$DUCKDB_VERSION failed ($(grep -m 1 '^npm error' "$WORK/npm.log" || tail -n 1 "$WORK/npm.log"); $WORK/npm.log has the rest)"
        fi
    else
        duckdb_note="npm is not installed (apt-get install npm)"
    fi
    if [ -z "$duckdb_note" ] && ! duckdb_installed; then
        duckdb_note="$DUCKDB_PACKAGE@$DUCKDB_VERSION does not load under $DUCKDB_MODULES"
    fi
fi
have_duckdb=1
if [ -n "$duckdb_note" ]; then
    have_duckdb=0
    echo "bench: no DuckDB figures: $duckdb_note" >&2
fi

# A log of N events: $DATA/aACCOUNTS-eN-sSEED-KIND/, made by the shared
# generator and kept with a stamp of the generator it came from, so a changed
# generator makes it again. Written beside and renamed, so an interrupted run
# leaves no half log to reuse.
gen_stamp=$(cksum <"$SHARED/gen_events.py")
log_dir() { # N KIND (sorted|shuffled)
    echo "$DATA/a$ACCOUNTS-e$1-s$SEED-$2"
}
make_log() { # N KIND
    log=$(log_dir "$1" "$2")
    shuffle=""
    [ "$2" = shuffled ] && shuffle=" --shuffle"
    meta log "python3 $SHARED/gen_events.py $log $ACCOUNTS $1 --seed $SEED$shuffle"
    if [ -f "$log/stamp" ] && [ "$(cat "$log/stamp")" = "$gen_stamp" ]; then
        return
    fi
    echo "  generating $log"
    rm -rf "$log" "$log.tmp"
    python3 "$SHARED/gen_events.py" "$log.tmp" "$ACCOUNTS" "$1" --seed "$SEED" $shuffle
    echo "$gen_stamp" >"$log.tmp/stamp"
    mv "$log.tmp" "$log"
}
# The JSON Lines and gzipped copies of a log's events.csv, made when missing
# (beside, then renamed, like the log).
make_copies() { # DIR
    meta log "python3 tools/bench/csv_to_jsonl.py $1/events.csv $1/events.jsonl"
    meta log "gzip -c $1/events.csv > $1/events.csv.gz"
    if [ ! -f "$1/events.jsonl" ]; then
        echo "  writing $1/events.jsonl"
        python3 tools/bench/csv_to_jsonl.py "$1/events.csv" "$1/events.jsonl.tmp"
        mv "$1/events.jsonl.tmp" "$1/events.jsonl"
    fi
    if [ ! -f "$1/events.csv.gz" ]; then
        echo "  writing $1/events.csv.gz"
        gzip -c "$1/events.csv" >"$1/events.csv.gz.tmp"
        mv "$1/events.csv.gz.tmp" "$1/events.csv.gz"
    fi
}

# measure TABLE KEY LABEL EVENTS CMD...: runs CMD REPEAT times under
# /usr/bin/time (peak RSS: the largest process of the command, %M, the most
# of the runs), its standard output to /dev/null, and appends a row to $ROWS
# with the median wall time: on a shared machine one run can take half as
# long again as the next. Wall time is taken around each run with date's
# nanoseconds: /usr/bin/time's %e has 10 ms steps, too coarse for wc -l on
# the 1M log. A failed run ends the repeats.
measure() {
    m_table=$1 m_key=$2 m_label=$3 m_events=$4
    shift 4
    printf '  %-40s ' "$m_label"
    row_status=ok rss=0 walls=""
    m_run=0
    while [ "$m_run" -lt "$REPEAT" ] && [ "$row_status" = ok ]; do
        m_run=$((m_run + 1))
        start=$(date +%s%N)
        if /usr/bin/time -f %M -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr"; then
            end=$(date +%s%N)
            m_rss=$(tail -n 1 "$WORK/time")
            [ "$m_rss" -gt "$rss" ] && rss=$m_rss
            walls="$walls $(((end - start) / 1000000))"
        else
            rc=$?
            row_status="failed (exit $rc)"
            status=1
        fi
    done
    wall_ms=$(printf '%s\n' $walls | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m_table" "$m_key" "$m_label" "$m_events" \
        "$row_status" "$wall_ms" "$rss" "$*" >>"$ROWS"
    if [ "$row_status" = ok ]; then
        awk -v ms="$wall_ms" -v n="$m_events" -v kb="$rss" -v all="$walls" 'BEGIN {
            s = ms / 1000; printf "%7.2f s %8.2fM events/s %7.1f MB  (ms:%s)\n", s, (s > 0 ? n / s / 1e6 : 0), kb / 1024, all }'
    else
        echo "$row_status"
        sed 's/^/    /' "$WORK/stderr" | tail -n 5
    fi
}
# skipped TABLE KEY LABEL EVENTS WHY: a row without a run.
skipped() {
    printf '%s\t%s\t%s\t%s\t%s\t\t\t\n' "$1" "$2" "$3" "$4" "$5" >>"$ROWS"
    printf '  %-40s %s\n' "$3" "$5"
}
# verdict TABLE WHAT A B: MATCH when files A and B are identical (folders: every
# file), MISMATCH otherwise; a missing side (its run failed) is MISMATCH too.
# The differences go to WORK/diff-N, N the verdict's line in $VERDICTS.
verdict() {
    v_diff=$WORK/diff-$(($(wc -l <"$VERDICTS") + 1))
    if diff -r "$3" "$4" >"$v_diff" 2>&1; then
        v=MATCH
        rm -f "$v_diff"
    else
        v=MISMATCH
        status=1
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$v" "$3" "$4" >>"$VERDICTS"
    echo "  $v: $2"
    if [ "$v" = MISMATCH ]; then
        head -n 5 "$v_diff" | sed 's/^/    /'
    fi
}
# The peers write "account,milestone,epoch" lines (SQLite's .mode csv ends them
# with CRLF); compared sorted bytewise, as msl_to_epochs.py writes msl's.
epochs_of_peer() { tr -d '\r' <"$1" | LC_ALL=C sort >"$2"; }
epochs_of_msl() {
    python3 "$SHARED/msl_to_epochs.py" "$1/milestones.csv" "$2.unsorted"
    LC_ALL=C sort "$2.unsorted" >"$2"
    rm -f "$2.unsorted"
}

# -j may not exist yet: probe it on a tiny log.
cores=$(nproc)
python3 "$SHARED/gen_events.py" "$WORK/probe" 20 500 --seed "$SEED" >/dev/null
have_jobs=0
if "$MSL" run -j 1 "$SHARED/three.ms" --events "$WORK/probe/events.csv" \
        --out "$WORK/probe/out" >/dev/null 2>&1; then
    have_jobs=1
fi

# msl_runs TABLE KEY LABEL EVENTS OUT RUN-ARGS...: msl -j 1, then with every core
# (its output folder compared with -j 1's); without -j, msl as it is and an
# n/a row for every core.
msl_runs() {
    r_table=$1 r_key=$2 r_label=$3 r_events=$4 r_out=$5
    shift 5
    if [ "$have_jobs" = 1 ]; then
        measure "$r_table" "$r_key-j1" "msl -j 1, $r_label" "$r_events" "$MSL" run -j 1 "$@" --out "$r_out"
        measure "$r_table" "$r_key-jall" "msl -j $cores, $r_label" "$r_events" \
            "$MSL" run -j "$cores" "$@" --out "$r_out-jall"
        verdict "$r_table" "msl -j $cores = msl -j 1, $r_label (all output files)" "$r_out" "$r_out-jall"
    else
        measure "$r_table" "$r_key-j1" "msl, $r_label" "$r_events" "$MSL" run "$@" --out "$r_out"
        skipped "$r_table" "$r_key-jall" "msl -j $cores, $r_label" "$r_events" "n/a (-j not implemented)"
    fi
}

# report_figures DIR: report.html of a run over every account: its size, and
# its load time in headless Chromium (tests/e2e/report_check.py --timing,
# which also checks the page) when chromium is installed.
report_figures() {
    meta report_accounts "$ACCOUNTS"
    meta report_bytes "$(wc -c <"$1/report.html")"
    meta report_gzip_bytes "$(gzip -c "$1/report.html" | wc -c)"
    if command -v chromium >/dev/null 2>&1; then
        meta report_load "$(python3 tests/e2e/report_check.py chromium "$1" --timing 2>&1 | sed -n 's/^load: //p' | head -n 1)"
    else
        meta report_load "not measured (chromium is not installed)"
    fi
}

# The same Python loop on each core, in milliseconds: on a shared machine
# one core can run at a fraction of the other's speed for minutes, which
# every -j run then waits for; recorded before and after the runs.
core_speeds() {
    c=0
    while [ "$c" -lt "$cores" ]; do
        ms=$(taskset -c "$c" python3 -c 'import time
t = time.perf_counter(); s = 0
for i in range(2000000): s += i
print(round((time.perf_counter() - t) * 1000))' 2>/dev/null || echo '?')
        printf '%score %s: %s ms' "$([ "$c" = 0 ] || echo ', ')" "$c" "$ms"
        c=$((c + 1))
    done
}

meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta core_speeds_start "$(core_speeds)"
meta cores "$cores"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
meta memory "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -sr)"
meta load "$(cut -d' ' -f1-3 /proc/loadavg)"
meta msl "$(git describe --always --dirty 2>/dev/null || echo unknown)"
meta sqlite "$(sqlite3 --version | cut -d' ' -f1)"
meta node "$(node --version 2>/dev/null || echo none)"
meta duckdb "$([ "$have_duckdb" = 1 ] && echo "$DUCKDB_PACKAGE@$DUCKDB_VERSION" || echo "none: $duckdb_note")"
meta duckdb_package "$DUCKDB_PACKAGE@$DUCKDB_VERSION"
meta jobs "$have_jobs"
meta repeat "$REPEAT"
meta accounts "$ACCOUNTS"
meta seed "$SEED"
meta shared "$SHARED"
meta data "$DATA"
meta node_dir "$NODE_DIR"
meta check "$CHECK"

echo "msl benchmark: $ACCOUNTS accounts, seed $SEED, logs of" $SIZES "events"
echo "  check size $CHECK; shuffled ${SHUFFLED:-none}; JSON Lines and .gz ${FORMATS:-none}"
echo "  $cores cores, load $(cut -d' ' -f1-3 /proc/loadavg); msl -j: $([ "$have_jobs" = 1 ] && echo yes || echo 'not implemented')"

for n in $SIZES; do
    echo
    echo "== $n events"
    make_log "$n" sorted
    d=$(log_dir "$n" sorted)
    if [ "$n" = "$FORMATS" ]; then
        make_copies "$d"
    fi
    if [ "$n" = "$SHUFFLED" ]; then
        make_log "$n" shuffled
    fi
    w=$WORK/$n
    mkdir -p "$w"
    t="sorted $n"
    measure "$t" wc-csv "wc -l, CSV" "$n" wc -l "$d/events.csv"
    msl_runs "$t" msl-csv "CSV" "$n" "$w/msl-csv" "$SHARED/three.ms" --events "$d/events.csv"
    if [ "$n" = "$FORMATS" ]; then
        measure "$t" wc-jsonl "wc -l, JSON Lines" "$n" wc -l "$d/events.jsonl"
        msl_runs "$t" msl-jsonl "JSON Lines" "$n" "$w/msl-jsonl" "$SHARED/three.ms" --events "$d/events.jsonl"
        verdict "$t" "msl JSON Lines = msl CSV (all output files)" "$w/msl-csv" "$w/msl-jsonl"
        measure "$t" gunzip "gzip -dc (decompression alone), CSV.gz" "$n" gzip -dc "$d/events.csv.gz"
        msl_runs "$t" msl-gz "CSV.gz" "$n" "$w/msl-gz" "$SHARED/three.ms" --events "$d/events.csv.gz"
        verdict "$t" "msl CSV.gz = msl CSV (all output files)" "$w/msl-csv" "$w/msl-gz"
    fi
    if [ -f "$w/msl-csv/milestones.csv" ]; then
        epochs_of_msl "$w/msl-csv" "$w/msl.epochs"
    fi
    if [ "$have_duckdb" = 1 ]; then
        measure "$t" duckdb "DuckDB, CSV" "$n" env DUCKDB_NODE_MODULES="$DUCKDB_MODULES" \
            node "$SHARED/duckdb_run.js" "$d/events.csv" "$w/duckdb.out"
        [ -f "$w/duckdb.out" ] && epochs_of_peer "$w/duckdb.out" "$w/duckdb.epochs"
        verdict "$t" "DuckDB = msl (account,milestone,epoch)" "$w/msl.epochs" "$w/duckdb.epochs"
    else
        skipped "$t" duckdb "DuckDB, CSV" "$n" "not run (not installed)"
    fi
    if [ "$n" = "$CHECK" ]; then
        measure "$t" sqlite "SQLite, CSV" "$n" bash "$SHARED/sqlite_run.sh" "$d/events.csv" "$w/sqlite.out"
        [ -f "$w/sqlite.out" ] && epochs_of_peer "$w/sqlite.out" "$w/sqlite.epochs"
        verdict "$t" "SQLite = msl (account,milestone,epoch)" "$w/msl.epochs" "$w/sqlite.epochs"
    fi
    msl_runs "$t" ten "CSV, ten.ms" "$n" "$w/ten" "$TEN" --events "$d/events.csv" \
        --accounts "$d/accounts.csv"
    if [ "$n" = "$CHECK" ] && [ -f "$w/ten/report.html" ]; then
        report_figures "$w/ten"
    fi

    if [ "$n" = "$SHUFFLED" ]; then
        s=$(log_dir "$n" shuffled)
        t="shuffled $n"
        measure "$t" wc-csv "wc -l, CSV" "$n" wc -l "$s/events.csv"
        msl_runs "$t" msl-csv "CSV" "$n" "$w/msl-shuffled" "$SHARED/three.ms" --events "$s/events.csv"
        # The same rows in another order: every output file must be the same.
        verdict "$t" "msl shuffled = msl time-sorted (all output files)" "$w/msl-csv" "$w/msl-shuffled"
        if [ "$have_duckdb" = 1 ]; then
            measure "$t" duckdb "DuckDB, CSV" "$n" env DUCKDB_NODE_MODULES="$DUCKDB_MODULES" \
                node "$SHARED/duckdb_run.js" "$s/events.csv" "$w/duckdb-shuffled.out"
            [ -f "$w/duckdb-shuffled.out" ] &&
                epochs_of_peer "$w/duckdb-shuffled.out" "$w/duckdb-shuffled.epochs"
            verdict "$t" "DuckDB shuffled = msl (account,milestone,epoch)" \
                "$w/msl.epochs" "$w/duckdb-shuffled.epochs"
        else
            skipped "$t" duckdb "DuckDB, CSV" "$n" "not run (not installed)"
        fi
    fi

    if [ "$n" = "$CHECK" ] && [ "$status" != 0 ]; then
        echo "bench: results differ or a run failed on the check log: larger logs not timed" >&2
        meta stopped "results differ or a run failed on the $CHECK-event log; larger logs not timed"
        break
    fi
done

meta core_speeds_end "$(core_speeds)"
meta runtime "$(($(date +%s) - bench_start))"
python3 tools/bench/report.py "$WORK" >"$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
echo
echo "bench: wrote $RESULTS in $(($(date +%s) - bench_start)) s"
if [ "$status" != 0 ]; then
    echo "bench: FAILED: $(grep -c MISMATCH "$VERDICTS" || true) comparisons differ," \
        "$(grep -c 'failed (exit' "$ROWS" || true) runs failed; see $RESULTS" >&2
fi
exit "$status"
