#!/bin/sh
# Fuzzing: sh tools/fuzz.sh [SECONDS [NAME...]]   (make fuzz FUZZ_SECONDS=N)
#
# Builds every tests/fuzz/fuzz_NAME.c as a libFuzzer target with clang
# (-fsanitize=fuzzer,address,undefined) into build-fuzz/, linked against
# the library (every src/*/*.c but cli/main.c, and the generated parser), then
# runs each (or only the NAMEs given, e.g. `vm`) for SECONDS seconds
# (default 60).  Installs clang when missing; fuzz_vm loads the stdlib's
# native library, which is built first.  Seeds: tests/fuzz/seeds/NAME/
# when present; targets that call parse_module also get every rule file
# (examples/, tests/golden/, ../shared/acceptance/cases/).  A dictionary
# tests/fuzz/NAME.dict is used when present.  Crashing inputs are kept in
# build-fuzz/NAME/crashes/.  Prints executions and crashes per target;
# exits 1 if any target crashed.
set -u

SECS=${1:-60}
[ $# -gt 0 ] && shift
ONLY="$*"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 4
OUT=build-fuzz
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc -I$OUT -DMSL_PREFIX=\"/usr/local\""
LIBS="-lffi -lisal -lz -ldl -lm"

if ! command -v "$CC" >/dev/null 2>&1 && [ "$CC" = clang ]; then
  echo "fuzz: installing clang"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 2; }
# fuzz_vm calls std/text through the stdlib's own library (with its manifest), uninstrumented as in a run
make -s stdlib/native/libmsl_text.so stdlib/native/libmsl_text.manifest || exit 1
mkdir -p "$OUT/obj" || exit 4

# The library, instrumented for coverage and checked by the sanitizers.
bison -Wall -Werror -d -o "$OUT/msl.tab.c" grammar/msl.y || exit 1
flex --header-file="$OUT/lex.yy.h" -o "$OUT/lex.yy.c" grammar/msl.l || exit 1
objs=""
for c in src/*/*.c "$OUT/msl.tab.c" "$OUT/lex.yy.c"; do
  [ "$c" = src/cli/main.c ] && continue
  o="$OUT/obj/$(basename "$c" .c).o"
  $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$o" "$c" || exit 1
  objs="$objs $o"
done
rm -f "$OUT/libmsl-fuzz.a"
ar rcs "$OUT/libmsl-fuzz.a" $objs || exit 4

status=0
for src in tests/fuzz/fuzz_*.c; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  if [ -n "$ONLY" ]; then
    case " $ONLY " in *" $name "*) ;; *) continue ;; esac
  fi
  dir="$OUT/$name"
  mkdir -p "$dir/corpus" "$dir/crashes" || exit 4
  $CC $CFLAGS $SAN -fsanitize=fuzzer -o "$dir/fuzz_$name" "$src" "$OUT/libmsl-fuzz.a" $LIBS || exit 1

  if [ -d "tests/fuzz/seeds/$name" ]; then
    cp -R "tests/fuzz/seeds/$name/." "$dir/corpus/"
  fi
  if grep -q parse_module "$src"; then
    n=0
    for f in examples/*.ms stdlib/std/*.ms ../shared/acceptance/cases/*/rules.ms \
             $(find tests/golden -name '*.ms' 2>/dev/null); do
      [ -f "$f" ] || continue
      n=$((n + 1))
      cp "$f" "$dir/corpus/seed_$n.ms"
    done
  fi
  dict=""
  [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"

  "$dir/fuzz_$name" "$dir/corpus" $dict -max_total_time="$SECS" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/" >"$dir/log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  crashes=$(find "$dir/crashes" -type f | wc -l)
  echo "fuzz $name: ${runs:-0} executions, $crashes crashes (log: $dir/log)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    grep -m 5 -E 'ERROR|SUMMARY|crash-|leak-|timeout-' "$dir/log"
  fi
done
exit $status
