#!/bin/sh
# Runs the shared acceptance cases (../shared/acceptance, beside the clone)
# and the repository's own cases (tests/cases, same layout), then both sets
# with their event rows shuffled: results must not depend on input order
# (SPEC 7); then both sets again with -j 1 and -j 3 (the default is one
# worker per core): results must not depend on the number of workers.
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
wrap=$(mktemp -d /tmp/msl-jobs-XXXXXX)
trap 'rm -rf "$wrap"' EXIT
abs=$(cd "$(dirname "$msl")" && pwd)/$(basename "$msl")
for j in 1 3; do
  printf '#!/bin/sh\ncmd=$1\nshift\nexec "%s" "$cmd" -j %s "$@"\n' "$abs" "$j" >"$wrap/msl"
  chmod +x "$wrap/msl"
  echo "acceptance with -j $j:"
  python3 "$acc/run" "$wrap/msl"
  python3 "$acc/run" "$wrap/msl" "$here"/tests/cases/*/
  python3 "$here/tests/shuffle_cases.py" "$wrap/msl" "$here/tests/cases"
done
