#!/bin/sh
# Runs the shared acceptance cases (../shared/acceptance, beside the clone)
# and the repository's own cases (tests/cases, same layout), then both sets
# with their event rows shuffled: results must not depend on input order
# (SPEC 7); then both sets again with -j 1 and -j 3 (the default is one
# worker per core): results must not depend on the number of workers.
#
#   sh tests/acceptance.sh MSL [PART]
#
# PART runs one part (make runs each as a target of its own): `default`
# (as MSL runs by default, and shuffled), `j1` or `j3` (with -j 1 / -j 3);
# without it, all three.
set -eu
msl=$1
parts=${2:-default j1 j3}
here=$(cd "$(dirname "$0")/.." && pwd)
acc="$here/../shared/acceptance"
if [ ! -x "$acc/run" ]; then
  echo "acceptance: $acc not found (CI puts ../shared beside the clone)" >&2
  exit 1
fi
wrap=$(mktemp -d /tmp/msl-jobs-XXXXXX)
trap 'rm -rf "$wrap"' EXIT
abs=$(cd "$(dirname "$msl")" && pwd)/$(basename "$msl")
for part in $parts; do
  case $part in
    default)
      python3 "$acc/run" "$msl"
      python3 "$acc/run" "$msl" "$here"/tests/cases/*/
      python3 "$here/tests/shuffle_cases.py" "$msl" "$acc/cases"
      python3 "$here/tests/shuffle_cases.py" "$msl" "$here/tests/cases"
      ;;
    j1 | j3)
      j=${part#j}
      printf '#!/bin/sh\ncmd=$1\nshift\nexec "%s" "$cmd" -j %s "$@"\n' "$abs" "$j" >"$wrap/msl"
      chmod +x "$wrap/msl"
      echo "acceptance with -j $j:"
      python3 "$acc/run" "$wrap/msl"
      python3 "$acc/run" "$wrap/msl" "$here"/tests/cases/*/
      python3 "$here/tests/shuffle_cases.py" "$wrap/msl" "$here/tests/cases"
      ;;
    *)
      echo "acceptance: unknown part '$part' (default, j1, j3)" >&2
      exit 2
      ;;
  esac
done
