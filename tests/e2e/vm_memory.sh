# vm_memory.sh — memory the VM keeps (sourced by run.sh: ok, bad, expect_status, $msl, $tmp).

# ---- strings returned by externs stay valid for the whole evaluation ---------------------
# lower(body) and upper(body) of a 9,000-byte body each outgrow the VM's
# scratch memory; the first result must survive the second call (it was
# freed there: heap-use-after-free under ./msl-asan, a wrong result without).
vm=$tmp/vm_memory
mkdir -p "$vm"
cat >"$vm/long.ms" <<'MS'
import "std/text"
event note { body: string }
milestone same_case "A note reads the same in both cases" {
  exit count(note where lower(body) == upper(body)) >= 1
}
MS
{
  echo 'account,time,event,body'
  printf 'a,2026-01-01,note,'
  head -c 9000 /dev/zero | tr '\0' '7'
  echo
} >"$vm/long.csv"
expect_status "long extern strings" 0 "$msl" run "$vm/long.ms" --events "$vm/long.csv"
if grep -q '^a,same_case,completed,,,2026-01-01T00:00:00Z,' "$tmp/out"; then ok; else
  bad "long extern strings: $(head -c 300 "$tmp/out")"; fi

# ---- rows that share a timestamp do not pile up (SPEC 5) ----------------------------------
# A million rows of one account at one instant (a date-only export), with
# windows, distinct values, a since-start scope and control events at that
# instant.  The VM used to keep every row of the instant until time moved
# on (~190 MB here); now the peak stays near what one row needs.
cat >"$vm/instant.ms" <<'MS'
event login { user: string  n: int }
milestone many "Many logins" { exit count(login) >= 999000 }
milestone busy "Busy week" { mode continuous
  exit count(login within 7d) >= 5 and distinct(login.user within 7d) >= 3 and max(login.n within 1d) >= 9 }
milestone fresh "Since the first login" { start on login exit count(login since start) >= 999000 }
MS
awk 'BEGIN { print "account,time,event,user,n,milestone";
  for (i = 0; i < 1000000; i++) {
    if (i % 1000 == 999) print "a,2026-01-01,ms.block,,,busy";
    else printf "a,2026-01-01,login,u%d,%d,\n", i % 5, i % 10 } }' >"$vm/instant.csv"
mkdir -p "$vm/instant" "$vm/instant-j"
peak_rss() {
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8 python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r.returncode == 0 else -r.returncode)
' "$@"
}
# one worker: the VM's own memory
peak_kb=$(peak_rss "$msl" run "$vm/instant.ms" --events "$vm/instant.csv" --out "$vm/instant-j" -j 1)
if [ "$peak_kb" -gt 0 ] && [ "$peak_kb" -lt 65536 ]; then ok; else
  bad "one instant, -j 1: peak RSS ${peak_kb} KB (want under 64 MB; negative: exit status)"; fi
# the default workers add the split read's rows in flight (three rounds of
# 2 MiB per worker, a few times that once parsed), not the instant's rows
peak_kb=$(peak_rss "$msl" run "$vm/instant.ms" --events "$vm/instant.csv" --out "$vm/instant")
if [ "$peak_kb" -gt 0 ] && [ "$peak_kb" -lt 98304 ]; then ok; else
  bad "one instant: peak RSS ${peak_kb} KB (want under 96 MB; negative: exit status)"; fi
if [ "$(sed -n 2,4p "$vm/instant/milestones.csv")" = "a,many,completed,,,2026-01-01T00:00:00Z,,,,
a,busy,achieving,,,2026-01-01T00:00:00Z,,,,
a,fresh,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,," ]; then ok; else
  bad "one instant: $(cat "$vm/instant/milestones.csv")"; fi

# ---- windows and sets too large for the pools' blocks are freed ----------------------------
# One account with 20,000 logins at distinct times in a year's window and
# as many distinct users: its ring and set outgrow the pooled blocks (64
# KiB) and come from malloc; the runtime frees them with its pools (under
# ./msl-asan, LeakSanitizer failed this run when accounts stopped giving
# their blocks back one by one).  Run time-sorted and shuffled (the sorter's
# path starts over once its first pass meets an earlier row).
cat >"$vm/big.ms" <<'MS'
event login { user: string }
milestone busy "A busy year" {
  mode continuous
  exit count(login within 365d) >= 100 and distinct(login.user within 365d) >= 100
}
MS
awk 'BEGIN { print "account,time,event,user";
  for (i = 0; i < 20000; i++) printf "big,2026-01-01T00:00:00Z,login,u%d\n", i }' |
  awk -F, 'NR == 1 { print; next } { s = NR - 2; printf "%s,2026-%02d-%02dT%02d:%02d:%02dZ,%s,%s\n", $1,
    1 + int(s / 2000), 1 + int(s % 2000 / 80), int(s % 80 / 4), s % 60, s % 4 * 10, $3, $4 }' >"$vm/big.csv"
expect_status "large windows, time-sorted" 0 "$msl" run "$vm/big.ms" --events "$vm/big.csv" --out "$vm/big-sorted"
if grep -q '^big,busy,achieving,' "$vm/big-sorted/milestones.csv"; then ok; else
  bad "large windows: $(head -c 300 "$vm/big-sorted/milestones.csv")"; fi
{ head -1 "$vm/big.csv"; tail -n +2 "$vm/big.csv" | sort -t, -k4,4; } >"$vm/big-shuffled.csv"
expect_status "large windows, shuffled" 0 "$msl" run "$vm/big.ms" --events "$vm/big-shuffled.csv" --out "$vm/big-shuffled"
same "large windows, shuffled" "$vm/big-sorted/milestones.csv" "$vm/big-shuffled/milestones.csv"
