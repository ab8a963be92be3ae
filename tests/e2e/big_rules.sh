# Big generated rule files (sourced by tests/e2e/run.sh, with its helpers):
# long chains of declarations must not overflow the stack (the checker
# follows them with explicit stacks), deep nesting gets a clear error, and
# name lookup, milestone ordering and diagnostics stay near-linear.  Every
# command runs under `timeout 60`, so a regression to a crash or a hang fails
# (exit 124, or a signal's 128+N) instead of blocking.  The sizes are those
# at which the old checker crashed (ASan's larger frames crash it first) or
# took minutes.
big=$tmp/big
mkdir -p "$big/out"
printf 'account,time,event\nacme,2026-01-01T00:00:00Z,login\nglobex,2026-01-02T00:00:00Z,login\n' >"$big/events.csv"

# big_file NAME AWK-PROGRAM: writes $big/NAME.ms; n is the size in the program
big_file() { awk "BEGIN { $2 }" >"$big/$1.ms"; }

# ---- chains of declarations: checked in dependency order, no recursion -------------
big_file lets 'print "event login"; print "let a0 = 1";
  for (i = 1; i < 20000; i++) printf "let a%d = a%d + 1\n", i, i - 1;
  print "milestone m \"M\" { description \"d\" exit count(login) >= a19999 }"'
expect_status "big: 20,000 chained lets check" 0 timeout 60 "$msl" check "$big/lets.ms"
expect_status "big: 20,000 chained lets fmt" 0 timeout 60 "$msl" fmt "$big/lets.ms"
expect_status "big: 20,000 chained lets run" 0 timeout 60 "$msl" run "$big/lets.ms" --events "$big/events.csv" --out "$big/out"

big_file segments 'print "account { plan: string = \"pro\" }"; print "event login";
  print "segment s0 = account.plan == \"pro\"";
  for (i = 1; i < 40000; i++) printf "segment s%d = s%d or account.plan == \"x\"\n", i, i - 1;
  print "milestone m \"M\" { description \"d\" segments s39999 exit count(login) >= 1 }"'
expect_status "big: 40,000 chained segments check" 0 timeout 60 "$msl" check "$big/segments.ms"
# segments are inlined where they are used: past 64 levels, a clear limit error
expect_status "big: 40,000 chained segments build" 1 timeout 60 "$msl" build "$big/segments.ms" -o "$big/segments.msc"
expect_stderr "big: segment chain limit" "error[E091]: segments use segments more than 64 levels deep"

# the limit exactly: a condition can use a chain of 64 segments, not 65
for n in 64 65; do
  big_file "segments$n" 'print "account { plan: string = \"pro\" }"; print "event login";
    print "segment s0 = account.plan == \"pro\"";
    for (i = 1; i < '"$n"'; i++) printf "segment s%d = s%d or account.plan == \"x\"\n", i, i - 1;
    printf "milestone m \"M\" { description \"d\" exit count(login) >= 1 and s%d }\n", '"$n"' - 1'
done
expect_status "big: a condition over 64 chained segments builds" 0 timeout 60 "$msl" build "$big/segments64.ms" -o "$big/segments64.msc"
expect_status "big: a condition over 65 chained segments" 1 timeout 60 "$msl" build "$big/segments65.ms" -o "$big/segments65.msc"
expect_stderr "big: 65 chained segments limit" "segments65.ms:4:14: error[E091]: segments use segments more than 64 levels deep"

# each segment using the one before twice: the inlined copies double per level
big_file diamond 'print "account { plan: string = \"pro\" }"; print "event login";
  print "segment s0 = account.plan == \"pro\"";
  for (i = 1; i < 40; i++) printf "segment s%d = s%d or s%d\n", i, i - 1, i - 1;
  print "milestone m \"M\" { description \"d\" segments s39 exit count(login) >= 1 }"'
expect_status "big: doubling segments build" 1 timeout 60 "$msl" build "$big/diamond.ms" -o "$big/diamond.msc"
expect_stderr "big: doubling segments limit" "error[E091]: a block is too long"

# a long chain that ends in a cycle is still followed recursively: E067 past 4000 levels
big_file lets_into_cycle 'print "event login";
  for (i = 0; i < 5000; i++) printf "let c%d = c%d + 1\n", i, i + 1;
  print "let c5000 = c5000 + 1";
  print "milestone m \"M\" { description \"d\" exit count(login) >= c0 }"'
expect_status "big: chain into a cycle" 1 timeout 60 "$msl" check "$big/lets_into_cycle.ms"
expect_stderr "big: chain into a cycle is E067" "error[E067]"

big_file fns 'print "event login"; print "fn f0(x: int) = x + 1";
  for (i = 1; i < 20000; i++) printf "fn f%d(x: int) = f%d(x)\n", i, i - 1;
  print "milestone m \"M\" { description \"d\" exit count(login) >= f19999(1) }"'
expect_status "big: 20,000 chained fns" 1 timeout 60 "$msl" check "$big/fns.ms"
expect_stderr "big: chained fns inline too much" "error[E061]"

# ---- milestones: name lookup, evaluation order, dependency cycles -----------------------
big_file milestones 'print "event login";
  for (i = 0; i < 50000; i++) printf "milestone m%d \"M%d\" { description \"d\" exit count(login) >= 1 }\n", i, i'
expect_status "big: 50,000 milestones check" 0 timeout 60 "$msl" check "$big/milestones.ms"

# `start after` chains, declared in order and in reverse (the old ordering was cubic then)
big_file after 'print "event login"; print "milestone m0 \"M0\" { description \"d\" exit count(login) >= 1 }";
  for (i = 1; i < 10000; i++)
    printf "milestone m%d \"M%d\" { description \"d\" start after m%d exit count(login) >= 1 }\n", i, i, i - 1'
expect_status "big: 10,000 chained start after run" 0 timeout 60 "$msl" run "$big/after.ms" --events "$big/events.csv" --out "$big/out"
# every account completes every milestone of the chain, each one after the one before
if [ "$(grep -c ',completed,' "$big/out/milestones.csv")" = 20000 ]; then ok; else bad "big: start after chain: $(grep -c ',completed,' "$big/out/milestones.csv") completed rows, expected 20000"; fi
expect_status "big: 10,000 chained start after build" 0 timeout 60 "$msl" build "$big/after.ms" -o "$big/after.msc"
expect_status "big: 10,000 chained start after disasm" 0 timeout 60 "$msl" disasm "$big/after.msc"
expect_status "big: 10,000 chained start after run .msc" 0 timeout 60 "$msl" run "$big/after.msc" --events "$big/events.csv" --out "$big/out"

big_file reverse_after 'print "event login";
  for (i = 0; i < 9999; i++)
    printf "milestone m%d \"M%d\" { description \"d\" start after m%d exit count(login) >= 1 }\n", i, i, i + 1;
  print "milestone m9999 \"M9999\" { description \"d\" exit count(login) >= 1 }"'
expect_status "big: 10,000 reverse start after run" 0 timeout 60 "$msl" run "$big/reverse_after.ms" --events "$big/events.csv" --out "$big/out"
if [ "$(grep -c ',completed,' "$big/out/milestones.csv")" = 20000 ]; then ok; else bad "big: reverse start after chain: $(grep -c ',completed,' "$big/out/milestones.csv") completed rows, expected 20000"; fi

big_file after_cycle 'print "event login";
  for (i = 0; i < 20000; i++)
    printf "milestone m%d \"M%d\" { description \"d\" start after m%d exit count(login) >= 1 }\n", i, i, (i + 1) % 20000'
expect_status "big: 20,000 milestones in a start after cycle" 1 timeout 60 "$msl" check "$big/after_cycle.ms"
expect_stderr "big: start after cycle is E051" "error[E051]: milestones depend on each other in a cycle: m0 -> m1 -> m2"

# ---- many declarations and many diagnostics ----------------------------------------------
big_file events 'for (i = 0; i < 100000; i++) printf "event e%d { v: int }\n", i;
  print "milestone m \"M\" { description \"d\" exit count(e0) >= 1 }"'
expect_status "big: 100,000 events check" 0 timeout 60 "$msl" check "$big/events.ms"
if [ "$(grep -c 'warning\[W003\]' "$tmp/err")" = 99999 ]; then ok; else bad "big: 100,000 events: $(grep -c 'warning\[W003\]' "$tmp/err") W003 warnings, expected 99999"; fi

big_file unknown 'print "event login";
  for (i = 0; i < 50000; i++) printf "let a%d = nope%d\n", i, i;
  print "milestone m \"M\" { description \"d\" exit count(login) >= 1 }"'
expect_status "big: 50,000 unknown names" 1 timeout 60 "$msl" check "$big/unknown.ms"
if [ "$(grep -c 'error\[E027\]' "$tmp/err")" = 50000 ]; then ok; else bad "big: 50,000 unknown names: $(grep -c 'error\[E027\]' "$tmp/err") E027 errors, expected 50000"; fi
# the last diagnostic shows its own source line (found through the line index)
expect_stderr "big: last diagnostic's line" "50001 | let a49999 = nope49999"

# test blocks name milestones and events: each must be found (else E029, E028)
big_file tests 'print "event login";
  for (i = 0; i < 10000; i++) printf "milestone m%d \"M%d\" { description \"d\" exit count(login) >= 1 }\n", i, i;
  for (i = 0; i < 1000; i++)
    printf "test \"t%d\" {\n  events { @2026-01-01T00:00:00Z login }\n  expect m%d is completed\n}\n", i, 9999 - i'
expect_status "big: 1,000 tests over 10,000 milestones" 0 timeout 60 "$msl" check -Werror "$big/tests.ms"

# ---- deep nesting: a clear E011 from the parser -----------------------------------------------
big_file parens 'print "event login"; printf "milestone m \"M\" { exit ";
  for (i = 0; i < 100000; i++) printf "("; printf "count(login) >= 1";
  for (i = 0; i < 100000; i++) printf ")"; print " }"'
big_file nots 'print "event login"; printf "milestone m \"M\" { exit ";
  for (i = 0; i < 100000; i++) printf "not "; print "count(login) >= 1 }"'
big_file sum 'print "event login"; printf "let x = 1";
  for (i = 0; i < 100000; i++) printf " + 1"; print "";
  print "milestone m \"M\" { exit count(login) >= x }"'
for deep in parens nots sum; do
  expect_status "big: 100,000-deep $deep check" 1 timeout 60 "$msl" check "$big/$deep.ms"
  expect_stderr "big: 100,000-deep $deep is E011" "error[E011]"
  expect_status "big: 100,000-deep $deep fmt" 1 timeout 60 "$msl" fmt "$big/$deep.ms"
done
