# stdlib.sh — the standard library's modules from msl (sourced by run.sh):
# std/time calls its native library (the stdlib's own) without --allow-ffi,
# from `msl test`, `msl run` and a built .msc; std/onboarding's declarations
# work in a file that declares its own account, and clash with a second
# declaration of the same name.  (std/text: ffi_trust.sh and test_cmd.sh.)

sl=$tmp/stdlib
mkdir -p "$sl/ms" "$sl/msc"

# ---- std/time ---------------------------------------------------------------------------------
expect_status "stdlib: msl test std/time" 0 "$msl" test tests/ffi/std_time.ms
if grep -qx '3 passed, 0 failed' "$tmp/out"; then ok; else bad "stdlib: std/time tests: $(cat "$tmp/out")"; fi

printf 'id,signed,go_live\nthu,2026-01-01T15:00:00Z,2026-01-15T09:00:00Z\nsun,2024-02-25T23:00:00Z,2024-03-08\n' >"$sl/accounts.csv"
printf 'account,time,event,user,held\nthu,2026-01-01T08:00:00Z,login,ann,\nthu,2026-01-03,meeting,,2026-01-05T10:00:00Z\nsun,2024-02-26,login,bo,\nsun,2024-02-27,meeting,,2024-03-01T09:00:00Z\n' >"$sl/events.csv"
expect_status "stdlib: run std/time without --allow-ffi" 0 "$msl" run tests/ffi/std_time.ms \
  --events "$sl/events.csv" --accounts "$sl/accounts.csv" --as-of 2026-02-10 --out "$sl/ms"
# start_of_week and start_of_month + 31d; a Sunday signing; Sunday to Friday is 4 business days (not prompt)
for row in 'thu,onboarding,completed,2025-12-29T00:00:00Z,2025-12-29T00:00:00Z,2026-01-01T08:00:00Z,,2026-02-01T00:00:00Z,true,' \
           'sun,onboarding,completed,2024-02-19T00:00:00Z,2024-02-19T00:00:00Z,2024-02-26T00:00:00Z,,2024-03-03T00:00:00Z,true,' \
           'sun,weekend_signing,completed,,,2024-02-26T00:00:00Z,,,,' \
           'thu,prompt_meeting,completed,,,2026-01-03T00:00:00Z,,,,' \
           'sun,prompt_meeting,in_progress,,,,,,,' \
           'thu,realistic_plan,completed,2026-01-01T15:00:00Z,2026-01-01T15:00:00Z,2026-01-01T15:00:00Z,,,,' \
           'sun,realistic_plan,in_progress,2024-02-25T23:00:00Z,2024-02-25T23:00:00Z,,,,,'; do
  if grep -qxF "$row" "$sl/ms/milestones.csv" 2>/dev/null; then ok; else bad "stdlib: std/time run lacks $row"; fi
done
expect_status "stdlib: build std/time" 0 "$msl" build tests/ffi/std_time.ms -o "$sl/time.msc"
expect_status "stdlib: run std/time .msc without --allow-ffi" 0 "$msl" run "$sl/time.msc" \
  --events "$sl/events.csv" --accounts "$sl/accounts.csv" --as-of 2026-02-10 --out "$sl/msc"
same "stdlib: std/time .ms vs .msc" "$sl/ms/milestones.csv" "$sl/msc/milestones.csv"

# a std/time function declared with other types than libmsl_time's table lists
printf 'extern fn day_of_week(t: time) -> time from "%s/stdlib/native/libmsl_time.so"\n' "$root" >"$sl/wrong.ms"
expect_status "stdlib: std/time table mismatch" 1 "$msl" check "$sl/wrong.ms"
expect_stderr "stdlib: std/time table mismatch" "error[E064]: \`day_of_week(time) -> time\` differs from \`day_of_week(time) -> int\`"

# ---- std/onboarding ---------------------------------------------------------------------------
expect_status "stdlib: msl test std/onboarding" 0 "$msl" test tests/stdlib/onboarding.ms
if grep -qx '10 passed, 0 failed' "$tmp/out"; then ok; else bad "stdlib: std/onboarding tests: $(cat "$tmp/out")"; fi
expect_status "stdlib: std/onboarding checks clean" 0 "$msl" check -Werror tests/stdlib/onboarding.ms

# the module's names are the importer's: declaring one again is E022
printf 'import "std/onboarding"\nevent login { user: string, device: string }\n' >"$sl/clash.ms"
expect_status "stdlib: std/onboarding clash" 1 "$msl" check "$sl/clash.ms"
expect_stderr "stdlib: std/onboarding clash" "error[E022]"
