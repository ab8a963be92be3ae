#!/bin/sh
# Runs the shared acceptance cases (../shared/acceptance, beside the clone)
# and the repository's own cases (tests/cases, same layout), then both sets
# with their event rows shuffled: results must not depend on input order
# (SPEC 7).
set -eu
msl=$1
here=$(cd "$(dirname "$0")/.." && pwd)
acc="$here/../shared/acceptance"
if [ ! -x "$acc/run" ]; then
  echo "acceptance: $acc not found (CI puts ../shared beside the clone)" >&2
  exit 1
fi
python3 "$acc/run" "$msl"
python3 "$acc/run" "$msl" "$here"/tests/cases/*/
python3 "$here/tests/shuffle_cases.py" "$msl" "$acc/cases"
python3 "$here/tests/shuffle_cases.py" "$msl" "$here/tests/cases"
