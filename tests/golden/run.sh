#!/bin/sh
# Golden tests: sh tests/golden/run.sh PATH_TO_MSL
#
# 1. fmt/NAME.ms: `msl fmt - < NAME.ms` must print NAME.expected exactly;
#    formatting NAME.expected again must give it unchanged; `msl fmt --check`
#    must exit 0 on NAME.expected and 1 on NAME.ms (0 if they are equal).
# 2. check/NAME.ms carries its expectations inline, one comment line per
#    diagnostic (anywhere in the file, conventionally at its end):
#        # expect: CODE [FILE:]LINE:COL-END_COL MESSAGE
#        # expect: CODE [FILE:]LINE:COL-END_LINE:END_COL MESSAGE
#    (FILE only when the diagnostic is in another file, such as an imported
#    module), and `# expect-exit: N` when the exit status is not the default
#    (1 if an E code is expected, else 0).  `msl check --format json NAME.ms`,
#    run inside check/, must report exactly that multiset of diagnostics (none
#    missing, none extra), each W code as a warning and each E code as an
#    error, and exit with that status.
# 3. render/NAME.ms and disasm/NAME.ms: stdout+stderr of `msl check NAME.ms`
#    (resp. `msl disasm`), run inside the directory, then a last line
#    `exit: N`, must equal NAME.expected byte for byte: these few cases keep
#    the text rendering (carets, ␀, other files) tested.  An expected file
#    without a last `exit: N` line holds standard output only, and the exit
#    status must then be 0.
# 4. Every examples/*.ms, stdlib/std/*.ms and ../shared/acceptance/cases/*/rules.ms:
#    formatting is idempotent, and `msl check` of the formatted text (written
#    beside the original, for relative imports) exits as for the original.
#
# One FAIL line (with a diff where useful) per failure; the last line is
# `golden: N passed, M failed`; the exit status is 1 on any failure.
set -u

if [ $# -ne 1 ]; then
  echo "usage: sh tests/golden/run.sh PATH_TO_MSL" >&2
  exit 2
fi
case $1 in
  */*) MSL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") ;;
  *) MSL=$1 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

passed=0
failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/msl-golden.XXXXXX") || exit 2
BESIDE=""   # a formatted copy written beside an original, removed on exit
cleanup() {
  rm -rf "$TMP"
  if [ -n "$BESIDE" ]; then rm -f "$BESIDE"; fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

# fail NAME MESSAGE [EXPECTED_FILE ACTUAL_FILE]
fail() {
  echo "FAIL $1: $2"
  if [ $# -ge 4 ]; then
    diff -u "$3" "$4" | sed -n '3,60s/^/    /p'
  fi
  case_ok=0
}

# finish NAME: counts the case once, however many of its checks failed.
finish() {
  if [ "$case_ok" = 1 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
}

# ---- 1. fmt ------------------------------------------------------------------
count=0
for input in "$HERE"/fmt/*.ms; do
  [ -f "$input" ] || continue
  count=$((count + 1))
  name=fmt/$(basename "$input" .ms)
  expected=${input%.ms}.expected
  case_ok=1
  if [ ! -f "$expected" ]; then
    fail "$name" "missing $(basename "$expected")"
    finish
    continue
  fi
  "$MSL" fmt - <"$input" >"$TMP/out" 2>"$TMP/err"
  status=$?
  if [ $status -ne 0 ]; then
    fail "$name" "msl fmt - exited $status: $(head -n 3 "$TMP/err")"
  elif ! cmp -s "$expected" "$TMP/out"; then
    fail "$name" "output differs from $(basename "$expected")" "$expected" "$TMP/out"
  fi
  "$MSL" fmt - <"$expected" >"$TMP/again" 2>"$TMP/err"
  status=$?
  if [ $status -ne 0 ]; then
    fail "$name" "formatting the expected output exited $status: $(head -n 3 "$TMP/err")"
  elif ! cmp -s "$expected" "$TMP/again"; then
    fail "$name" "not idempotent: formatting the expected output changes it" \
      "$expected" "$TMP/again"
  fi
  "$MSL" fmt --check "$expected" >"$TMP/out" 2>&1
  status=$?
  [ $status -eq 0 ] || fail "$name" "msl fmt --check on the expected output exited $status, want 0"
  want=1
  if cmp -s "$input" "$expected"; then want=0; fi
  "$MSL" fmt --check "$input" >"$TMP/out" 2>&1
  status=$?
  [ $status -eq $want ] || fail "$name" "msl fmt --check on the input exited $status, want $want"
  finish
done
[ $count -gt 0 ] || echo "golden: no fmt cases in tests/golden/fmt"

# ---- 2. and 3. check and disasm --------------------------------------------------
# run_dir_cases DIR SUBCOMMAND
run_dir_cases() {
  dir=$HERE/$1
  count=0
  for input in "$dir"/*.ms; do
    [ -f "$input" ] || continue
    count=$((count + 1))
    base=$(basename "$input" .ms)
    name=$1/$base
    case_ok=1
    if [ ! -f "$dir/$base.expected" ]; then
      fail "$name" "missing $base.expected"
      finish
      continue
    fi
    if [ "$2" = check ] || tail -n 1 "$dir/$base.expected" | grep -q '^exit: [0-9][0-9]*$'; then
      (cd "$dir" && "$MSL" "$2" "$base.ms" >"$TMP/out" 2>&1; echo "exit: $?" >>"$TMP/out")
      if ! cmp -s "$dir/$base.expected" "$TMP/out"; then
        fail "$name" "msl $2 output differs from $base.expected" "$dir/$base.expected" "$TMP/out"
      fi
    else
      (cd "$dir" && "$MSL" "$2" "$base.ms" >"$TMP/out" 2>"$TMP/err")
      status=$?
      if [ $status -ne 0 ]; then
        fail "$name" "msl $2 exited $status: $(head -n 3 "$TMP/err")"
      elif ! cmp -s "$dir/$base.expected" "$TMP/out"; then
        fail "$name" "msl $2 output differs from $base.expected" "$dir/$base.expected" "$TMP/out"
      fi
    fi
    finish
  done
  [ $count -gt 0 ] || echo "golden: no $2 cases in tests/golden/$1"
}
run_dir_cases render check
run_dir_cases disasm disasm

# ---- 2. check with inline expectations ------------------------------------------
# A JSON diagnostic line, and an expectation line, both become one canonical
# line `CODE FILE:LINE:COL-END SEVERITY MESSAGE`; the sorted lists must agree.
# The JSON escapes only \\ and \" in these messages; the sed undoes both.
SOH=$(printf '\001')
count=0
for input in "$HERE"/check/*.ms; do
  [ -f "$input" ] || continue
  count=$((count + 1))
  file=$(basename "$input")
  name=check/${file%.ms}
  case_ok=1
  # -a: some cases hold raw NUL bytes on purpose
  grep -a '^# expect: ' "$input" |
    sed -n -e "s/^# expect: \([EW][0-9][0-9]*\) \([0-9][0-9]*:[0-9][0-9]*-[0-9:]*\) /\1 $file:\2 /p" \
      -e 's/^# expect: \([EW][0-9][0-9]*\) \([^ ]*:[0-9][0-9]*:[0-9][0-9]*-[0-9:]*\) /\1 \2 /p' |
    sed -e 's/^\(E[0-9]* [^ ]*\) /\1 error /' -e 's/^\(W[0-9]* [^ ]*\) /\1 warning /' |
    sort >"$TMP/want"
  lines=$(grep -a -c '^# expect: ' "$input")
  [ "$(wc -l <"$TMP/want")" -eq "$lines" ] ||
    fail "$name" "an \`# expect:\` line is not CODE [FILE:]LINE:COL-END MESSAGE"
  want_exit=0
  if grep -q '^E' "$TMP/want"; then want_exit=1; fi
  exit_line=$(grep -a '^# expect-exit: ' "$input" | tail -n 1)
  if [ -n "$exit_line" ]; then want_exit=${exit_line#\# expect-exit: }; fi
  (cd "$HERE/check" && "$MSL" check --format json "$file" >"$TMP/json" 2>"$TMP/err")
  status=$?
  [ "$status" = "$want_exit" ] || fail "$name" "msl check exited $status, want $want_exit: $(head -n 3 "$TMP/err")"
  [ -s "$TMP/err" ] && fail "$name" "msl check --format json wrote to stderr: $(head -n 3 "$TMP/err")"
  # every line of the JSON is `[`, `]` or one diagnostic in the fixed key order
  pattern='^  {"file": "\([^"]*\)", "line": \([0-9]*\), "column": \([0-9]*\), "end_line": \([0-9]*\), "end_column": \([0-9]*\), "severity": "\([a-z]*\)", "code": "\([A-Z0-9]*\)", "message": "\(.*\)"},\{0,1\}$'
  if grep -v -e '^\[$' -e '^\]$' -e '^\[\]$' -e "$pattern" "$TMP/json" >"$TMP/odd"; then
    fail "$name" "unexpected line in the JSON output: $(head -n 1 "$TMP/odd")"
  fi
  sed -n "s/$pattern/\7 \1:\2:\3-\4:\5 \6 \8/p" "$TMP/json" |
    sed -e 's/^\([^ ]* [^:]*:\([0-9]*\):[0-9]*-\)\2:/\1/' \
      -e "s/\\\\\\\\/$SOH/g" -e 's/\\"/"/g' -e "s/$SOH/\\\\/g" |
    sort >"$TMP/got"
  if ! cmp -s "$TMP/want" "$TMP/got"; then
    fail "$name" "diagnostics differ from the \`# expect:\` lines (- expected, + reported)" "$TMP/want" "$TMP/got"
  fi
  finish
done
[ $count -gt 0 ] || echo "golden: no check cases in tests/golden/check"

# ---- 4. fmt over real rule files ----------------------------------------------------
# check_status FILE: the exit status of `msl check FILE`, run beside it.
check_status() {
  (cd "$(dirname "$1")" && "$MSL" check "$(basename "$1")" >/dev/null 2>&1)
  echo $?
}

count=0
for input in "$ROOT"/examples/*.ms "$ROOT"/stdlib/std/*.ms "$ROOT"/../shared/acceptance/cases/*/rules.ms; do
  [ -f "$input" ] || continue
  count=$((count + 1))
  case $input in
    "$ROOT"/../*) name=${input#"$ROOT"/../} ;;
    *) name=${input#"$ROOT"/} ;;
  esac
  name="fmt-idempotence $name"
  case_ok=1
  original_status=$(check_status "$input")
  if ! "$MSL" fmt - <"$input" >"$TMP/once" 2>"$TMP/err"; then
    # fmt refuses only files with syntax errors, which check refuses too
    [ "$original_status" -ne 0 ] ||
      fail "$name" "msl fmt refused a file msl check accepts: $(head -n 3 "$TMP/err")"
    finish
    continue
  fi
  "$MSL" fmt - <"$TMP/once" >"$TMP/twice" 2>"$TMP/err"
  status=$?
  if [ $status -ne 0 ]; then
    fail "$name" "formatting the formatted text exited $status: $(head -n 3 "$TMP/err")"
  elif ! cmp -s "$TMP/once" "$TMP/twice"; then
    fail "$name" "not idempotent" "$TMP/once" "$TMP/twice"
  fi
  BESIDE=$(dirname "$input")/.fmt-golden-$$-$(basename "$input")
  if cp "$TMP/once" "$BESIDE"; then
    formatted_status=$(check_status "$BESIDE")
    [ "$formatted_status" = "$original_status" ] ||
      fail "$name" "msl check exits $original_status on the original, $formatted_status on the formatted text"
  else
    fail "$name" "cannot write $BESIDE"
  fi
  rm -f "$BESIDE"
  BESIDE=""
  finish
done
[ $count -gt 0 ] || echo "golden: no examples or acceptance rule files found for fmt idempotence"

echo "golden: $passed passed, $failed failed"
[ $failed -eq 0 ]
