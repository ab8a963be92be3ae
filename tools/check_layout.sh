#!/bin/sh
# The include direction between the folders of src/ (README, Layout):
#   core/  includes nothing outside core/
#   front/ never includes vm/ (nor io/, cli/)
#   io/    never includes vm/, front/ or cli/
#   bc/    (the compiler reads the AST) never includes vm/ or cli/
#   vm/    never includes front/ or cli/: a program reaches it compiled
# Every include of a project header names its folder ("vm/vm.h").
# Prints one line per violation and `layout: N passed, M failed`.
set -u
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0
# allowed FOLDER: the folders its files may include from
allowed() {
  case $1 in
    core) echo "core" ;;
    front) echo "core front bc" ;;
    bc) echo "core front bc io" ;;
    vm) echo "core bc io vm" ;;
    io) echo "core bc io" ;;
    cli) echo "core front bc vm io cli" ;;
  esac
}
for f in src/*/*.c src/*/*.h; do
  folder=$(basename "$(dirname "$f")")
  ok_dirs=$(allowed "$folder")
  if [ -z "$ok_dirs" ]; then
    echo "FAIL $f: src/$folder/ is not a folder of the layout"
    fail=$((fail + 1))
    continue
  fi
  bad=0
  for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
    case $inc in
      msl.tab.h | lex.yy.h) [ "$folder" = front ] && continue ;;   # generated into the build directory
    esac
    dir=${inc%%/*}
    if [ "$dir" = "$inc" ]; then
      echo "FAIL $f: #include \"$inc\" does not name its folder"
      bad=1
      continue
    fi
    case " $ok_dirs " in
      *" $dir "*) ;;
      *) echo "FAIL $f: src/$folder/ may not include $inc"; bad=1 ;;
    esac
  done
  if [ $bad = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "layout: $pass passed, $fail failed"
[ $fail = 0 ]
