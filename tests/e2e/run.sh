#!/bin/sh
# End-to-end runs of the msl binary: every suite tests/e2e/*.sh, each
# sourced with the helpers below (basics.sh: the examples, every input
# form, the documented errors with their exit statuses).  Ends with
# `e2e: N passed, M failed`.
set -u
msl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/msl-e2e-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# expect_status NAME STATUS COMMAND...: the command exits with STATUS
expect_status() {
  what=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, expected $want: $(head -c 400 "$tmp/err")"; fi
}

# expect_stderr NAME TEXT: the last command's stderr contains TEXT
expect_stderr() {
  if grep -qF -- "$2" "$tmp/err"; then ok; else bad "$1: stderr lacks '$2': $(head -c 400 "$tmp/err")"; fi
}

same() {
  if cmp -s "$2" "$3"; then ok; else bad "$1: $2 and $3 differ"; diff "$2" "$3" | head -10; fi
}

cd "$root"

# Every topic suite, tests/e2e/*.sh beside this file, sourced with the
# helpers above; E2E_SUITES="jobs ...": only these (make runs each suite
# as a target of its own, two at a time).
suites=${E2E_SUITES:-$(for s in tests/e2e/*.sh; do case $s in */run.sh) ;; *) basename "$s" .sh ;; esac; done)}
for suite in $suites; do
  . "./tests/e2e/$suite.sh"
  cd "$root"
done

echo "e2e${E2E_SUITES:+ ($E2E_SUITES)}: $pass passed, $fail failed"
[ "$fail" = 0 ]
