# Unsorted input (the sorter's path, worker.c): a row's account is looked
# up when the sorter gives the row back, or, for an undeclared event, a few
# rows after it was read.  The counts in summary.json and every result must
# be those of the same rows in time order: with and without --accounts (rows
# of accounts it does not list), --as-of (rows after it), ids longer than a
# deferred lookup holds, accounts seen only in undeclared rows, and sort
# runs spilled to disk (a limit below the least, 1M, is refused).  Sourced by tests/e2e/run.sh with its helpers
# ($msl, $tmp, ok, bad, expect_status, same).

us=$tmp/unsorted
mkdir -p "$us"
cat >"$us/rules.ms" <<'MS'
event login { user: string }
event report_created
milestone reports "Two reports" { exit count(report_created) >= 2 }
milestone team "Team" {
  mode continuous
  exit distinct(login.user within 5d) >= 2
}
MS
# 30,000 rows over 900 accounts: a third of the ids 60 bytes long, every
# tenth account only in page_view rows (undeclared), half the rows
# page_view.  The accounts file lists the accounts whose number is even.
awk 'BEGIN { srand(3); print "account,time,event,user";
  for (i = 0; i < 30000; i++) {
    a = int(rand() * 900); r = rand();
    e = a % 10 == 0 || r < 0.5 ? "page_view" : r < 0.8 ? "login" : "report_created";
    id = a % 3 == 0 ? sprintf("account-with-a-long-identifier-from-the-crm-export-%09d", a) : "a" a;
    printf "%s,2026-01-%02dT%02d:00:00Z,%s,%s\n", id, 1 + int(i / 1000), int(i % 1000 * 24 / 1000), e, e == "login" ? "u" int(rand() * 3) : "" } }' \
  >"$us/sorted.csv"
{ head -1 "$us/sorted.csv"; tail -n +2 "$us/sorted.csv" | awk 'BEGIN { srand(4) } { print rand() "\t" $0 }' |
  sort -k1,1 | cut -f2-; } >"$us/shuffled.csv"
{ echo id; cut -d, -f1 "$us/sorted.csv" | tail -n +2 | sort -u | awk '{ n = $0; sub(/^[^0-9]*0*/, "", n); if (n % 2 == 0) print }'; } \
  >"$us/accounts.csv"

# unsorted_same NAME OPTION...: shuffled and sorted rows give the same outputs
unsorted_same() {
  what=$1
  shift
  expect_status "unsorted: $what, sorted" 0 "$msl" run "$us/rules.ms" --events "$us/sorted.csv" "$@" --out "$us/sorted-out"
  expect_status "unsorted: $what, shuffled" 0 "$msl" run "$us/rules.ms" --events "$us/shuffled.csv" "$@" --out "$us/shuffled-out"
  for f in milestones.csv summary.json; do same "unsorted: $what, $f" "$us/sorted-out/$f" "$us/shuffled-out/$f"; done
}

# rows_are NAME KEY N: the last run's summary.json counts N rows under KEY
rows_are() {
  got=$(sed -n "s/^ *\"$2\": \\([0-9]*\\),*$/\\1/p" "$us/shuffled-out/summary.json")
  if [ "$got" = "$3" ]; then ok; else bad "unsorted: $1: $2 is $got, expected $3"; fi
}

page_views=$(grep -c ',page_view,' "$us/sorted.csv")
unsorted_same "every account"
rows_are "every account" read 30000
rows_are "every account" undeclared "$page_views"
rows_are "every account" unknown_accounts 0
accounts=$(($(wc -l <"$us/shuffled-out/milestones.csv") - 1))
if [ "$accounts" = $((2 * 900)) ]; then ok; else bad "unsorted: every account: $accounts result rows, expected 1800"; fi

unsorted_same "spilled runs" --memory-limit 1M
unsorted_same "one worker" -j 1
unsorted_same "three workers, spilled" -j 3 --memory-limit 1M
unsorted_same "--accounts" --accounts "$us/accounts.csv"
# rows of odd-numbered accounts are unknown, page_view rows of the others undeclared
unknown=$(tail -n +2 "$us/sorted.csv" | cut -d, -f1 | awk '{ sub(/^[^0-9]*0*/, ""); if ($0 % 2) n++ } END { print n + 0 }')
even_page_views=$(grep ',page_view,' "$us/sorted.csv" | cut -d, -f1 | awk '{ sub(/^[^0-9]*0*/, ""); if ($0 % 2 == 0) n++ } END { print n + 0 }')
rows_are "--accounts" unknown_accounts "$unknown"
rows_are "--accounts" undeclared "$even_page_views"
unsorted_same "--as-of" --as-of 2026-01-20T00:00:00Z
unsorted_same "--accounts and --as-of, spilled" --accounts "$us/accounts.csv" --as-of 2026-01-09T12:00:00Z --memory-limit 1M
long=account-with-a-long-identifier-from-the-crm-export-000000003
expect_status "unsorted: explain, sorted" 0 "$msl" explain "$us/rules.ms" --events "$us/sorted.csv" --account "$long"
cp "$tmp/out" "$us/explain-sorted"
expect_status "unsorted: explain, shuffled" 0 "$msl" explain "$us/rules.ms" --events "$us/shuffled.csv" --account "$long"
same "unsorted: explain of a long id" "$us/explain-sorted" "$tmp/out"

# A bad row in both logs, with --rejects: counted the same, results the same.
{ cat "$us/sorted.csv"; echo 'a5,not-a-time,login,u1'; } >"$us/sorted-bad.csv"
{ head -1 "$us/shuffled.csv"; echo 'a5,not-a-time,login,u1'; tail -n +2 "$us/shuffled.csv"; } >"$us/shuffled-bad.csv"
for j in 1 3; do
  expect_status "unsorted: a bad row, sorted, -j $j" 0 "$msl" run "$us/rules.ms" --events "$us/sorted-bad.csv" -j $j \
    --rejects "$us/rej-sorted.csv" --out "$us/bad-sorted"
  expect_status "unsorted: a bad row, shuffled, -j $j" 0 "$msl" run "$us/rules.ms" --events "$us/shuffled-bad.csv" -j $j \
    --rejects "$us/rej-shuffled.csv" --out "$us/bad-shuffled"
  for f in milestones.csv summary.json; do same "unsorted: a bad row, -j $j, $f" "$us/bad-sorted/$f" "$us/bad-shuffled/$f"; done
  if grep -q '"rejected": 1,' "$us/bad-shuffled/summary.json" && [ "$(wc -l <"$us/rej-shuffled.csv")" = 2 ]; then ok; else
    bad "unsorted: a bad row, -j $j: not rejected once"; fi
done

# Accounts are looked up once the rows are sorted; when anything fails,
# the run starts over looking each row's account up as it is read, so the
# error reported is the one file order meets first: here a segment that
# fails for accounts abc and zzz, after the first row back in time.
cat >"$us/fails.ms" <<'MS'
account { d: int = 0 }
event login { user: string }
segment odd = account.id in ["abc", "zzz"] and 10 / account.d > 0
milestone first "First login" {
  segments odd
  exit count(login) >= 1
}
MS
head='account,time,event,user
aaaa,2026-01-02T00:00:00Z,login,u1
aaaa,2026-01-01T00:00:00Z,login,u1
bbbb,2026-01-03T00:00:00Z,login,u2'
printf '%s\nabc,2026-01-04T00:00:00Z,login,u1\nzzz,2026-01-05T00:00:00Z,page_view,\n' "$head" >"$us/abc-first.csv"
printf '%s\nzzz,2026-01-04T00:00:00Z,page_view,\nabc,2026-01-05T00:00:00Z,login,u1\n' "$head" >"$us/zzz-first.csv"
printf '%s\nabc,2026-01-04T00:00:00Z,login,u1\nbbbb,not-a-time,login,u2\n' "$head" >"$us/abc-then-bad.csv"
for j in 1 3; do
  for f in abc-first:abc zzz-first:zzz abc-then-bad:abc; do
    expect_status "unsorted: ${f%%:*}, -j $j" 3 "$msl" run "$us/fails.ms" --events "$us/${f%%:*}.csv" -j $j --out "$us/o"
    expect_stderr "unsorted: ${f%%:*}, -j $j" "integer division by zero in a segment for account \`${f#*:}\`"
  done
done

expect_status "unsorted: a limit below 1M" 2 "$msl" run "$us/rules.ms" --events "$us/shuffled.csv" --memory-limit 64K --out "$us/o"
expect_stderr "unsorted: a limit below 1M" "--memory-limit: \`64K\` is less than the least limit, 1M"
expect_status "unsorted: a limit that is not a size" 2 "$msl" run "$us/rules.ms" --events "$us/shuffled.csv" --memory-limit 2Q --out "$us/o"
expect_stderr "unsorted: a limit that is not a size" "--memory-limit: \`2Q\` is not a size (bytes, or a number with K, M or G)"
