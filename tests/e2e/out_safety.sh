# out_safety.sh — results are never lost or mixed (SPEC 7, `--out` and
# `--rejects`): the commit, the lock, signals, stale temporaries of killed
# runs, --rejects errors and collisions, closed standard streams, parents of
# --out.  Sourced by run.sh (helpers ok, bad, expect_status, expect_stderr,
# same; $msl, $tmp, $root).

os=$tmp/out_safety
mkdir -p "$os"
cat >"$os/rules.ms" <<'MS'
event login { user: string }
milestone three "Three logins" { exit count(login) >= 3 }
MS
printf 'account,time,event,user\nacme,2026-01-01T09:00:00Z,login,ann\nacme,2026-01-02T09:00:00Z,login,bob\nglobex,2026-01-02T10:00:00Z,login,cy\n' >"$os/events.csv"
printf 'account,time,event,user\nacme,2026-01-01T09:00:00Z,login,ann\nacme,2026-13-01T09:00:00Z,login,bad\ninitech,2026-01-05T09:00:00Z,login,dee\n' >"$os/other.csv"

os_results="milestones.csv playbooks.csv signals.csv actions.csv summary.json"

# os_leftovers DIR: the temporary files and backups in DIR, if any
os_leftovers() { ls -A "$1" | grep '^\.msl-\(tmp\|bak\)-'; }

# os_no_leftovers NAME DIR
os_no_leftovers() {
  if [ -z "$(os_leftovers "$2")" ]; then ok; else bad "$1: left $(os_leftovers "$2" | tr '\n' ' ')"; fi
}

# os_unchanged NAME DIR SAVED: every result file in DIR is as in SAVED
os_unchanged() {
  for f in $os_results; do same "$1: $f kept" "$3/$f" "$2/$f"; done
}

# os_wait_temps DIR: waits (up to 10 s) until a run has temporary files in DIR
os_wait_temps() {
  os_i=0
  while [ $os_i -lt 200 ]; do
    ls -A "$1" 2>/dev/null | grep -q '^\.msl-tmp-' && return 0
    sleep 0.05
    os_i=$((os_i + 1))
  done
  return 1
}

# os_previous DIR: DIR holds a first run's results, copied to DIR.saved
os_previous() {
  rm -rf "$1" "$1.saved"
  expect_status "previous results in $1" 0 "$msl" run "$os/rules.ms" --events "$os/events.csv" --out "$1"
  cp -r "$1" "$1.saved"
}

# A slow run deterministically: the events come from a FIFO this shell
# holds open (fd 7) until it writes the rest and closes it.
mkfifo "$os/slow.csv"
os_open_fifo() {
  exec 7<>"$os/slow.csv"
  printf 'account,time,event,user\nacme,2026-01-01T09:00:00Z,login,ann\n' >&7
}
os_close_fifo() {
  printf 'acme,2026-01-02T09:00:00Z,login,bob\n' >&7
  exec 7>&-
}

# ---- a directory in the way: nothing is renamed, the previous results stay ----
os_previous "$os/prev"
rm "$os/prev/summary.json"
mkdir -p "$os/prev/summary.json/sub"
cp -r "$os/prev" "$os/prev.saved"
expect_status "directory in the way" 4 "$msl" run "$os/rules.ms" --events "$os/other.csv" --out "$os/prev" \
  --rejects "$os/prev_rejects.csv"
expect_stderr "directory in the way" "summary.json: it is a directory"
for f in milestones.csv playbooks.csv signals.csv; do same "directory in the way: $f kept" "$os/prev.saved/$f" "$os/prev/$f"; done
if [ -d "$os/prev/summary.json/sub" ]; then ok; else bad "directory in the way: the directory was touched"; fi
if [ -e "$os/prev_rejects.csv" ]; then bad "directory in the way: --rejects was committed"; else ok; fi
os_no_leftovers "directory in the way" "$os/prev"
os_no_leftovers "directory in the way (rejects dir)" "$os"

# ---- two runs into one directory: the second fails at once, naming the lock ----
rm -rf "$os/shared"
os_open_fifo
"$msl" run "$os/rules.ms" --events "$os/slow.csv" --out "$os/shared" 7>&- 2>"$os/first.err" &
os_first=$!
if os_wait_temps "$os/shared"; then ok; else bad "concurrent: the first run never started writing"; fi
expect_status "concurrent: second run" 4 timeout 10 "$msl" run "$os/rules.ms" --events "$os/other.csv" \
  --rejects "$os/shared_rejects.csv" --out "$os/shared"
expect_stderr "concurrent: second run names the lock" "$os/shared/.msl.lock"
if [ -e "$os/shared_rejects.csv" ]; then bad "concurrent: the second run wrote --rejects"; else ok; fi
os_close_fifo
wait $os_first
os_status=$?
if [ $os_status = 0 ]; then ok; else bad "concurrent: first run exit $os_status: $(cat "$os/first.err")"; fi
printf 'account,time,event,user\nacme,2026-01-01T09:00:00Z,login,ann\nacme,2026-01-02T09:00:00Z,login,bob\n' >"$os/slow_data.csv"
expect_status "concurrent: reference" 0 "$msl" run "$os/rules.ms" --events "$os/slow_data.csv" --out "$os/shared_ref"
for f in $os_results; do same "concurrent: $f is the first run's" "$os/shared_ref/$f" "$os/shared/$f"; done
expect_status "concurrent: a later run takes the lock" 0 "$msl" run "$os/rules.ms" --events "$os/events.csv" --out "$os/shared"

# ---- SIGTERM and SIGINT mid-run: no temporary files, previous results intact ----
for os_sig in TERM INT; do
  case $os_sig in TERM) os_want=143 ;; INT) os_want=130 ;; esac
  os_previous "$os/sig$os_sig"
  os_open_fifo
  # a background job of a non-interactive shell ignores SIGINT: start msl with the default action
  python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
    "$msl" run "$os/rules.ms" --events "$os/slow.csv" --out "$os/sig$os_sig" \
    --rejects "$os/sig$os_sig/rejects.csv" 7>&- 2>/dev/null &
  os_pid=$!
  if os_wait_temps "$os/sig$os_sig"; then ok; else bad "SIG$os_sig: the run never started writing"; fi
  kill -$os_sig $os_pid
  wait $os_pid 2>/dev/null
  os_status=$?
  exec 7>&-
  if [ $os_status = $os_want ]; then ok; else bad "SIG$os_sig: exit $os_status, expected $os_want"; fi
  os_no_leftovers "SIG$os_sig" "$os/sig$os_sig"
  os_unchanged "SIG$os_sig" "$os/sig$os_sig" "$os/sig$os_sig.saved"
  if [ -e "$os/sig$os_sig/rejects.csv" ]; then bad "SIG$os_sig: --rejects was committed"; else ok; fi
done

# ---- a killed run's temporary files are removed by the next run ----------------
rm -rf "$os/killed"
os_open_fifo
"$msl" run "$os/rules.ms" --events "$os/slow.csv" --out "$os/killed" 7>&- 2>/dev/null &
os_pid=$!
os_wait_temps "$os/killed"
kill -KILL $os_pid
wait $os_pid 2>/dev/null
exec 7>&-
if [ -n "$(os_leftovers "$os/killed")" ]; then ok; else bad "SIGKILL: no temporary files to clean (test setup)"; fi
expect_status "after a killed run" 0 "$msl" run "$os/rules.ms" --events "$os/events.csv" --out "$os/killed"
os_no_leftovers "after a killed run" "$os/killed"

# ---- --rejects on a full device: exit 4, nothing committed ---------------------------
os_previous "$os/full"
rm -rf "$os/full_new"
expect_status "--rejects /dev/full" 4 "$msl" run "$os/rules.ms" --events "$os/other.csv" --rejects /dev/full --out "$os/full"
expect_stderr "--rejects /dev/full" "No space left on device"
os_unchanged "--rejects /dev/full" "$os/full" "$os/full.saved"
os_no_leftovers "--rejects /dev/full" "$os/full"
expect_status "--rejects /dev/full, new dir" 4 "$msl" run "$os/rules.ms" --events "$os/other.csv" --rejects /dev/full --out "$os/full_new"
if [ -e "$os/full_new/milestones.csv" ] || [ -e "$os/full_new/summary.json" ]; then bad "--rejects /dev/full: results committed"; else ok; fi
# the count in summary.json is what --rejects holds
expect_status "--rejects counted" 0 "$msl" run "$os/rules.ms" --events "$os/other.csv" --rejects "$os/ok_rejects.csv" --out "$os/ok"
if [ "$(wc -l <"$os/ok_rejects.csv")" = 2 ] && grep -q '"rejected": 1' "$os/ok/summary.json"; then ok; else bad "--rejects: file and count disagree"; fi
os_no_leftovers "--rejects committed" "$os"

# ---- --rejects naming an input: usage error, the file untouched ----------------------
cp "$os/other.csv" "$os/in.csv"
expect_status "--rejects = events" 2 "$msl" run "$os/rules.ms" --events "$os/in.csv" --rejects "$os/in.csv" --out "$os/same"
expect_stderr "--rejects = events" "is the input file"
same "--rejects = events: untouched" "$os/other.csv" "$os/in.csv"
cp "$os/rules.ms" "$os/rules.saved"
ln "$os/rules.ms" "$os/rules_link.ms"
expect_status "--rejects = rules (hard link)" 2 "$msl" run "$os/rules.ms" --events "$os/other.csv" --rejects "$os/rules_link.ms"
same "--rejects = rules: untouched" "$os/rules.saved" "$os/rules.ms"
if [ -e "$os/same" ]; then bad "--rejects = events: --out was created"; else ok; fi

# ---- closed standard streams are never reused --------------------------------------
expect_status "--events - with stdin closed" 4 sh -c '"$1" run "$2" --events - --as-of 2026-02-01 --out "$3" <&-' \
  sh "$msl" "$os/rules.ms" "$os/closed"
expect_stderr "--events - with stdin closed" "standard input is closed"
expect_status "stdout closed without --out" 4 sh -c '"$1" run "$2" --events "$3" >&-' sh "$msl" "$os/rules.ms" "$os/events.csv"
expect_status "stdin closed, events from a file" 0 sh -c '"$1" run "$2" --events "$3" --out "$4" <&-' \
  sh "$msl" "$os/rules.ms" "$os/events.csv" "$os/closed_ok"
same "stdin closed: same results" "$os/prev.saved/milestones.csv" "$os/closed_ok/milestones.csv"

# ---- --out creates its parents --------------------------------------------------------
rm -rf "$os/a"
expect_status "--out a/b/c" 0 "$msl" run "$os/rules.ms" --events "$os/events.csv" --out "$os/a/b/c"
for f in $os_results; do
  if [ -f "$os/a/b/c/$f" ]; then ok; else bad "--out a/b/c: no $f"; fi
done
printf 'x' >"$os/plain"
expect_status "--out under a file" 4 "$msl" run "$os/rules.ms" --events "$os/events.csv" --out "$os/plain/sub"
expect_stderr "--out under a file" "not a directory"

# ---- --rejects through a symbolic link: the link stays, the file it names is replaced ----
echo old >"$os/real_rejects.csv"
ln -s "$os/real_rejects.csv" "$os/link_rejects.csv"
expect_status "--rejects via a link" 0 "$msl" run "$os/rules.ms" --events "$os/other.csv" --rejects "$os/link_rejects.csv"
if [ -L "$os/link_rejects.csv" ] && grep -q '2026-13-01' "$os/real_rejects.csv" && ! grep -q '^old' "$os/real_rejects.csv"; then ok
else bad "--rejects via a link: link replaced or file not written"; fi
expect_status "--rejects /dev/stderr" 0 sh -c '"$1" run "$2" --events "$3" --rejects /dev/stderr >/dev/null 2>&1' \
  sh "$msl" "$os/rules.ms" "$os/other.csv"
if [ -L /dev/stderr ] || [ ! -e /dev/stderr ]; then ok; else bad "--rejects /dev/stderr replaced the link"; fi
