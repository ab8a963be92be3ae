# Time-sorted rows are applied in groups, account by account (worker.c).
# A log whose instants hold thousands of rows each, over more rows than a
# group takes, so that groups are cut inside instants: its results must be
# those of the same rows shuffled (the sorter's path, which never groups),
# for -j 1 and -j 2.  Sourced by tests/e2e/run.sh with its helpers
# ($msl, $tmp, ok, bad, expect_status, same).

gr=$tmp/groups
mkdir -p "$gr"
cat >"$gr/rules.ms" <<'MS'
event login { user: string }
event report_created
milestone reports "Five reports" { exit count(report_created) >= 5 }
milestone weekly "Weekly active" {
  mode continuous
  exit count(login within 2d) >= 40 and distinct(login.user within 2d) >= 3
}
milestone same_day "Ten in one instant" { exit count(login) >= 10 and count(report_created) >= 1 }
milestone ahead "More logins than reports" {
  mode continuous
  exit count(login) > 4 * count(report_created) + 20
}
MS
# 700,000 rows over 1,000 accounts in 14 instants (a date-only export): the
# instants hold 50,000 rows each, the groups 32,768 then 65,536 (worker.c
# group_limit: a sixteenth of the rows read, from 2^15).  An
# instant split in two would be evaluated in between, and `ahead` (whose
# counts cross its threshold back and forth inside an instant) would be
# achieved there.
awk 'BEGIN { srand(5); print "account,time,event,user";
  for (d = 1; d <= 14; d++)
    for (i = 0; i < 50000; i++) {
      a = int(rand() * 1000); e = rand() < 0.8 ? "login" : "report_created";
      printf "a%03d,2026-01-%02d,%s,%s\n", a, d, e, e == "login" ? "u" int(rand() * 4) : "" } }' >"$gr/sorted.csv"
{ head -1 "$gr/sorted.csv"; tail -n +2 "$gr/sorted.csv" | awk 'BEGIN { srand(9) } { print rand() "\t" $0 }' |
  sort -k1,1 | cut -f2-; } >"$gr/shuffled.csv"
expect_status "groups: shuffled reference" 0 "$msl" run "$gr/rules.ms" --events "$gr/shuffled.csv" -j 1 --out "$gr/ref"
for j in 1 2; do
  expect_status "groups: sorted -j $j" 0 "$msl" run "$gr/rules.ms" --events "$gr/sorted.csv" -j $j --out "$gr/o$j"
  for f in milestones.csv summary.json; do same "groups: sorted -j $j $f" "$gr/ref/$f" "$gr/o$j/$f"; done
done
if grep -q ',weekly,achieving,' "$gr/ref/milestones.csv" && grep -q ',same_day,completed,' "$gr/ref/milestones.csv"; then ok
else bad "groups: the reference achieves too little to compare: $(head -3 "$gr/ref/milestones.csv")"; fi
