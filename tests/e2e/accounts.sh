# Duplicate ids in an accounts file (SPEC 7: a bad row): the run's account
# table finds them (worker.c duplicate_account), naming the line where the
# id was first accepted, with -j, --rejects and `msl explain` alike.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad,
# expect_status, expect_stderr, same).

ad=$tmp/accounts
mkdir -p "$ad"
cat >"$ad/rules.ms" <<'MS'
account { seats: int = 0 }
event login
milestone big "Big" { exit account.seats >= 25 }
MS
printf 'account,time,event\nacct1234,2026-01-01T00:00:00Z,login\nacct7,2026-01-02T00:00:00Z,login\n' >"$ad/events.csv"

# 5000 accounts, then acct1234 again: the table has grown many times
awk 'BEGIN { print "id,seats"; for (i = 0; i < 5000; i++) printf "acct%d,%d\n", i, i % 50; print "acct1234,99" }' \
  >"$ad/many.csv"
for j in 1 2 3; do
  expect_status "accounts: a late duplicate, -j $j" 3 "$msl" run "$ad/rules.ms" --events "$ad/events.csv" \
    --accounts "$ad/many.csv" -j $j --out "$ad/o"
  expect_stderr "accounts: a late duplicate, -j $j" \
    "many.csv:5002: duplicate account id \"acct1234\" (first on line 1236)"
done

# a rejected row does not claim its id: the first valid row does
printf 'id,seats\nacct7,x\nacct7,30\nacct7,5\n' >"$ad/rejected.csv"
expect_status "accounts: a bad row, then its id" 3 "$msl" run "$ad/rules.ms" --events "$ad/events.csv" \
  --accounts "$ad/rejected.csv" --out "$ad/o"
expect_stderr "accounts: a bad row, then its id" "rejected.csv:2: bad int \"x\" in column seats"
rm -rf "$ad/o"
expect_status "accounts: --rejects" 0 "$msl" run "$ad/rules.ms" --events "$ad/events.csv" \
  --accounts "$ad/rejected.csv" --rejects "$ad/rejects.csv" --out "$ad/o"
if grep -q 'duplicate account id ""acct7"" (first on line 3)' "$ad/rejects.csv" &&
  grep -q '^acct7,big,' "$ad/o/milestones.csv" && grep -q '"rejected": 2' "$ad/o/summary.json"; then ok
else bad "accounts: --rejects: $(cat "$ad/rejects.csv") / $(grep acct7 "$ad/o/milestones.csv")"; fi
# the first accepted row's seats (30) stand: acct7 is big
if grep -q '^acct7,big,completed,' "$ad/o/milestones.csv"; then ok
else bad "accounts: the duplicate's values were taken: $(grep acct7 "$ad/o/milestones.csv")"; fi

# `msl explain` evaluates one account, and still refuses another's duplicate
expect_status "accounts: explain, another account's duplicate" 3 "$msl" explain "$ad/rules.ms" \
  --events "$ad/events.csv" --accounts "$ad/many.csv" --account acct7
expect_stderr "accounts: explain, another account's duplicate" \
  "many.csv:5002: duplicate account id \"acct1234\" (first on line 1236)"
