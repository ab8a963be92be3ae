# The progress line of msl run (issue 11): on a terminal, one line on
# stderr that ends with the totals; nothing when stderr is not a terminal,
# nor with --quiet.  script(1) gives msl a terminal.  Sourced by
# tests/e2e/run.sh with its helpers ($msl, $root, $tmp, ok, bad, ...).

pg=$tmp/progress
mkdir -p "$pg"
python3 "$root/../shared/bench/gen_events.py" "$pg/log" 500 20000 --seed 5 >/dev/null
if command -v script >/dev/null 2>&1; then
  script -qec "'$msl' run '$root/../shared/bench/three.ms' --events '$pg/log/events.csv' --out '$pg/o1' -j 2" \
    /dev/null >"$pg/tty" 2>&1
  if [ $? = 0 ]; then ok; else bad "progress: run on a terminal failed: $(head -c 300 "$pg/tty")"; fi
  if grep -q "msl: 20,000 rows read, 500 accounts, .* rows/s, 0:0" "$pg/tty"; then ok
  else bad "progress: the last line lacks the totals: $(tr '\r' '\n' <"$pg/tty" | tail -3)"; fi
  script -qec "'$msl' run '$root/../shared/bench/three.ms' --events '$pg/log/events.csv' --out '$pg/o2' --quiet" \
    /dev/null >"$pg/quiet" 2>&1
  if grep -q "rows read" "$pg/quiet"; then bad "progress: --quiet still shows the line"; else ok; fi
else
  bad "progress: script(1) is missing (package bsdutils)"
fi
expect_status "progress: not a terminal" 0 "$msl" run "$root/../shared/bench/three.ms" --events "$pg/log/events.csv" --out "$pg/o3"
if [ -s "$tmp/err" ]; then bad "progress: stderr is not a terminal, yet msl wrote: $(head -c 200 "$tmp/err")"; else ok; fi
same "progress: the results do not depend on the line" "$pg/o1/milestones.csv" "$pg/o3/milestones.csv"
