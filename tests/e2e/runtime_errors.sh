# Runtime errors in `where` filters fail the run only where a criterion that
# is evaluated reads them (SPEC 6 edge rules); a string with a NUL byte
# passed to an extern is one (SPEC 4).  Sourced by tests/e2e/run.sh.
d=$tmp/runtime_errors
mkdir -p "$d/ok" "$d/bad"
cat >"$d/rules.ms" <<'MS'
import "std/text"
account { plan: string = "free" }
event visit { page: string }
event go
segment paid = account.plan == "paid"
milestone paid_docs "Paid docs" { segments paid  exit count(visit where contains(page, "docs")) >= 1 }
milestone docs "Docs" { exit count(go) >= 1 and count(visit where contains(page, "docs")) >= 1 }
MS
printf 'account,time,event,page\na,2026-01-01T00:00:00Z,visit,do\000cs\n' >"$d/nul.csv"
printf 'account,time,event,page\na,2026-01-01T00:00:00Z,visit,do\000cs\na,2026-01-02T00:00:00Z,go,\n' >"$d/nul_go.csv"
printf 'id,plan\na,paid\n' >"$d/paid.csv"
# not applicable (free plan) and short-circuited (no `go`): never evaluated
expect_status "NUL extern argument never read" 0 "$msl" run "$d/rules.ms" --events "$d/nul.csv" --out "$d/ok"
if grep -q '^a,docs,in_progress' "$d/ok/milestones.csv"; then ok; else bad "NUL never read: $(cat "$d/ok/milestones.csv")"; fi
# read after the `go`: the run fails, naming the account and the milestone
expect_status "NUL extern argument read" 3 "$msl" run "$d/rules.ms" --events "$d/nul_go.csv" --out "$d/bad"
expect_stderr "NUL extern argument read" "NUL byte"
expect_stderr "NUL extern argument read" "milestone \`docs\` for account \`a\` at 2026-01-02"
if [ -e "$d/bad/milestones.csv" ]; then bad "a failed run left milestones.csv"; else ok; fi
# the milestone applies to a paid account: read at once
expect_status "NUL extern argument, applicable" 3 "$msl" run "$d/rules.ms" --events "$d/nul.csv" --accounts "$d/paid.csv"
expect_stderr "NUL extern argument, applicable" "milestone \`paid_docs\`"
# JSON Lines carries the NUL as \u0000
printf '{"account":"a","time":"2026-01-01","event":"visit","page":"docs\\u0000x"}\n' >"$d/nul.jsonl"
expect_status "NUL from JSON Lines" 3 "$msl" run "$d/rules.ms" --events "$d/nul.jsonl" --accounts "$d/paid.csv"
expect_stderr "NUL from JSON Lines" "NUL byte"
