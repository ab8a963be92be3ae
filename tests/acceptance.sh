#!/bin/sh
# Runs the shared acceptance cases (../shared/acceptance, beside the clone),
# then the same cases with their event rows shuffled: results must not
# depend on input order (SPEC 7).
set -eu
msl=$1
here=$(cd "$(dirname "$0")/.." && pwd)
acc="$here/../shared/acceptance"
if [ ! -x "$acc/run" ]; then
  echo "acceptance: $acc not found (CI puts ../shared beside the clone)" >&2
  exit 1
fi
python3 "$acc/run" "$msl"
python3 "$here/tests/shuffle_cases.py" "$msl" "$acc/cases"
