# `# msl: allow CODE` comments (docs/language.md): every output format of
# `msl check` and -Werror see the same silenced warnings, a malformed allow
# (W009) counts as a warning, and `msl fmt` keeps the allows working.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

a=$tmp/check_allow
mkdir -p "$a"
cat >"$a/allowed.ms" <<'MS'
event login { user: string }
event export_only   # msl: allow W003 -- read by the dashboards
# msl: allow W002
let trial_days = 14
milestone first "First login" {
  description "The team logs in"
  exit count(login) >= 1
}
MS
sed -e 's/ *# msl: allow W003.*//' -e '/^# msl: allow/d' "$a/allowed.ms" >"$a/plain.ms"

expect_status "allow: -Werror with every warning allowed" 0 "$msl" check -Werror "$a/allowed.ms"
if [ -s "$tmp/err" ]; then bad "allow: text output for allowed warnings: $(head -c 300 "$tmp/err")"; else ok; fi
expect_status "allow: -Werror without the allows" 1 "$msl" check -Werror "$a/plain.ms"
expect_stderr "allow: W003 without the allow" "error[W003]"
expect_stderr "allow: W002 without the allow" "error[W002]"
expect_status "allow: json" 0 "$msl" check --format json "$a/allowed.ms"
if [ "$(cat "$tmp/out")" = "[]" ]; then ok; else bad "allow: json output: $(head -c 300 "$tmp/out")"; fi
expect_status "allow: sarif" 0 "$msl" check --format sarif "$a/allowed.ms"
if grep -q '"results": \[\]' "$tmp/out" && ! grep -q '"ruleId"' "$tmp/out"; then ok
else bad "allow: sarif lists results: $(grep -m 3 ruleId "$tmp/out")"; fi
expect_status "allow: sarif without the allows" 0 "$msl" check --format sarif "$a/plain.ms"
if grep -q '"ruleId": "W002"' "$tmp/out" && grep -q '"ruleId": "W003"' "$tmp/out"; then ok
else bad "allow: sarif without the allows lacks W002/W003"; fi

# a malformed allow is a warning: -Werror fails on it, and it silences nothing
sed 's/# msl: allow W002/# msl: allow W002 E027/' "$a/allowed.ms" >"$a/error_code.ms"
expect_status "allow: an error code in an allow" 0 "$msl" check "$a/error_code.ms"
expect_stderr "allow: an error code in an allow is W009" "error_code.ms:3:19: warning[W009]: \`E027\` is an error and cannot be allowed"
expect_status "allow: W009 under -Werror" 1 "$msl" check -Werror "$a/error_code.ms"
expect_stderr "allow: W009 under -Werror" "error[W009]"

# allows do not reach into imported modules, nor do an import's allows reach here
mkdir -p "$a/lib"
printf 'let helper = 1   # msl: allow W002 W777\n' >"$a/lib/helpers.ms"
printf 'import "lib/helpers.ms"\nevent login\nlet unused = 2\nmilestone m "M" { description "d" exit count(login) >= helper }\n' >"$a/importer.ms"
expect_status "allow: an import's comments" 0 "$msl" check --format json "$a/importer.ms"
if grep -q '"code": "W002", "message": "let `unused` is never used"' "$tmp/out" && ! grep -q W009 "$tmp/out"; then ok
else bad "allow: import: $(head -c 400 "$tmp/out")"; fi

# formatting keeps the comments and what they silence
cp "$a/allowed.ms" "$a/formatted.ms"
printf 'event  extra   # msl: allow W003\n' >>"$a/formatted.ms"
expect_status "allow: fmt" 0 "$msl" fmt "$a/formatted.ms"
if grep -qx 'event extra  # msl: allow W003' "$a/formatted.ms" && grep -qx '# msl: allow W002' "$a/formatted.ms"; then ok
else bad "allow: fmt changed an allow comment: $(cat "$a/formatted.ms")"; fi
expect_status "allow: check after fmt" 0 "$msl" check -Werror "$a/formatted.ms"
