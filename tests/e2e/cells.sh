# Cells (SPEC 7): the time forms databases export, in CSV and JSON Lines and
# in --as-of; unsigned duration literals; epoch range; a UTF-8 BOM at the
# start of every kind of input file.  Sourced by tests/e2e/run.sh with its
# helpers ($msl, $tmp, ok, bad, expect_status, expect_stderr, same).

c=$tmp/cells
mkdir -p "$c"
cat >"$c/rules.ms" <<'MS'
account { since: time = @1970-01-01, grace: duration = 0s }
event login { user: string }
milestone first "First login" {
  description "Someone logged in"
  exit count(login) >= 1
}
milestone late "Late login" {
  description "A login after the account's own date plus its grace"
  exit count(login since account.since + account.grace) >= 1
}
MS
# One account per time form: each logs in once at 2026-01-31T09:30:00Z
# (a fraction where the form has one), so `first` is achieved there.
printf 'account,time,event,user\n' >"$c/events.csv"
n=0
for form in '2026-01-31 09:30:00' '2026-01-31T09:30:00' '2026-01-31 09:30:00+00' \
  '2026-01-31 11:30:00+02' '2026-01-31 04:00:00 -0530' '2026-01-31 09:30:00.000 +0000' \
  '2026-01-31 09:30:00.25 UTC' '2026-01-31 09:30:00UTC' '2026-01-31t09:30:00z' \
  '2026-01-31 09:30:00.123456789Z' '2026-01-31 10:30:00 +01:00' '+1769851800'; do
  n=$((n + 1))
  printf 'a%02d,%s,login,u\n' "$n" "$form" >>"$c/events.csv"
done
n=0
expect_status "cells: database time forms in CSV" 0 "$msl" run "$c/rules.ms" --events "$c/events.csv" --as-of '2026-02-01 00:00:00 UTC'
{
  printf 'account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\n'
  for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
    at=2026-01-31T09:30:00Z
    case $i in 07) at=2026-01-31T09:30:00.250000Z ;; 10) at=2026-01-31T09:30:00.123456Z ;; esac
    printf 'a%s,first,completed,,,%s,,,,\na%s,late,completed,,,%s,,,,\n' "$i" "$at" "$i" "$at"
  done
} >"$c/want.csv"
same "cells: every database form reads as 2026-01-31T09:30:00Z" "$c/want.csv" "$tmp/out"

# The same in JSON Lines strings, with a BOM in front.
printf '\357\273\277' >"$c/events.jsonl"
tail -n +2 "$c/events.csv" | while IFS=, read -r account time event user; do
  printf '{"account":"%s","time":"%s","event":"%s","user":"%s"}\n' "$account" "$time" "$event" "$user"
done >>"$c/events.jsonl"
expect_status "cells: database time forms in JSON Lines after a BOM" 0 "$msl" run "$c/rules.ms" --events "$c/events.jsonl" --as-of 2026-02-01
same "cells: JSON Lines strings read as the CSV cells" "$c/want.csv" "$tmp/out"

# --as-of takes the same forms: one second before the logins, none is seen.
for asof in '2026-01-31 09:29:59' '2026-01-31 09:29:59+00' '2026-01-31 11:29:59 +0200' \
  '2026-01-31 09:29:59.999999999 UTC' '1769851799'; do
  expect_status "cells: --as-of '$asof'" 0 "$msl" run "$c/rules.ms" --events "$c/events.csv" --as-of "$asof"
  if grep -q ',completed,' "$tmp/out"; then bad "cells: --as-of '$asof' is not one second before the logins"; else ok; fi
done
for asof in '2026-01-31 09:30' '2026-01-31 09:30:00 Z' '2026-01-31 09:30:00 utc' \
  '2026-01-31 09:30:00  +00' '1769851800000' '2026-01-31 09:30:00.1234567890'; do
  expect_status "cells: --as-of '$asof' refused" 2 "$msl" run "$c/rules.ms" --events "$c/events.csv" --as-of "$asof"
  expect_stderr "cells: --as-of '$asof' is named" "--as-of: \`$asof\` is not a time"
done

# Bad time cells: each is a bad row (exit 3, or written to --rejects).
printf 'account,time,event,user\nok,2026-01-31 09:30:00,login,u\n' >"$c/bad.csv"
for form in '2026-01-31 09:30' '2026-01-31 09:30:00 Z' '2026-01-31 09:30:00 utc' \
  '2026-01-31 09:30:00  UTC' '2026-01-31 09:30:00+0' '1769851800000' '-62135596801' \
  '2026-01-31 09:30:00.1234567890'; do
  printf 'bad,%s,login,u\n' "$form" >>"$c/bad.csv"
done
expect_status "cells: a bad time form stops the run" 3 "$msl" run "$c/rules.ms" --events "$c/bad.csv" --as-of 2026-02-01
expect_stderr "cells: the first bad time is named" "bad.csv:3: bad time"
expect_status "cells: bad time forms to --rejects" 0 "$msl" run "$c/rules.ms" --events "$c/bad.csv" --as-of 2026-02-01 --rejects "$c/rejects.csv"
if [ "$(grep -c 'bad time' "$c/rejects.csv")" = 8 ]; then ok; else bad "cells: 8 bad time rows expected in rejects: $(cat "$c/rejects.csv")"; fi

# Accounts: durations, a BOM in CSV and in JSON Lines; `late` needs a login
# at or after since + grace.
printf '\357\273\277id,since,grace\nx,2026-01-31 08:30:00 UTC,3600\ny,2026-01-31 08:30:00+00,1h\nz,2026-01-31 08:30:00,-3600\nw,2026-01-31 08:30:00,+3601\n' >"$c/accounts.csv"
expect_status "cells: accounts CSV after a BOM" 0 "$msl" run "$c/rules.ms" --events "$c/events.csv" --accounts "$c/accounts.csv" --as-of 2026-02-01
printf 'account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\nw,first,in_progress,,,,,,,\nw,late,in_progress,,,,,,,\nx,first,in_progress,,,,,,,\nx,late,in_progress,,,,,,,\ny,first,in_progress,,,,,,,\ny,late,in_progress,,,,,,,\nz,first,in_progress,,,,,,,\nz,late,in_progress,,,,,,,\n' >"$c/want_accounts.csv"
same "cells: accounts with a BOM read by id" "$c/want_accounts.csv" "$tmp/out"
printf 'account,time,event,user\nx,2026-01-31 09:30:00,login,u\ny,2026-01-31 09:29:59,login,u\nz,2026-01-31 07:30:00,login,u\nw,2026-01-31 09:30:00,login,u\n' >"$c/events2.csv"
expect_status "cells: duration cells" 0 "$msl" run "$c/rules.ms" --events "$c/events2.csv" --accounts "$c/accounts.csv" --as-of 2026-02-01
if grep -q '^x,late,completed' "$tmp/out" && grep -q '^y,late,in_progress' "$tmp/out" &&
  grep -q '^z,late,completed' "$tmp/out" && grep -q '^w,late,in_progress' "$tmp/out"; then ok
else bad "cells: durations 3600, 1h, -3600, +3601: $(cat "$tmp/out")"; fi
printf '\357\273\277{"id":"x","since":"2026-01-31 08:30:00 UTC","grace":3600}\n{"id":"y","since":"2026-01-31 08:30:00+00","grace":"1h"}\n{"id":"z","since":"2026-01-31 08:30:00","grace":-3600}\n{"id":"w","since":"2026-01-31 08:30:00","grace":"+3601"}\n' >"$c/accounts.jsonl"
cp "$tmp/out" "$c/durations_csv.out"
expect_status "cells: accounts JSON Lines after a BOM" 0 "$msl" run "$c/rules.ms" --events "$c/events2.csv" --accounts "$c/accounts.jsonl" --as-of 2026-02-01
same "cells: JSON Lines accounts read as the CSV ones" "$c/durations_csv.out" "$tmp/out"
for grace in -1h +1h; do
  printf 'id,since,grace\nx,2026-01-31,%s\n' "$grace" >"$c/bad_accounts.csv"
  expect_status "cells: duration literal $grace is a bad cell" 3 "$msl" run "$c/rules.ms" --events "$c/events2.csv" --accounts "$c/bad_accounts.csv" --as-of 2026-02-01
  expect_stderr "cells: duration literal $grace is named" "bad duration"
done
