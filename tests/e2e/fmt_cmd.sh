# `msl fmt --diff`, `--list` and `--fail` (docs/cli.md): exit statuses,
# nothing rewritten, and the diff applies with `patch -p1` (and `git apply`)
# to give exactly the formatted file.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

f=$tmp/fmt_cmd
mkdir -p "$f/work"
cat >"$f/work/messy.ms" <<'MS'
# a rule file as someone typed it
event login {user:string}
milestone   first "First login" {
    description "d"
  exit count(login)>=1 }
MS
printf 'event login { user: string }\n' >"$f/work/clean.ms"
printf 'event login   { user: string }' >"$f/work/noeol.ms"    # no newline at the end
printf 'event login {\n' >"$f/work/broken.ms"
cp -R "$f/work" "$f/orig"

# unchanged: every file in work/ equals its copy in orig/
unchanged() {
  for g in "$f"/orig/*.ms; do same "$1: $(basename "$g") untouched" "$g" "$f/work/$(basename "$g")"; done
}

# expect_stdout NAME FILE: the last command's standard output is exactly FILE
expect_stdout() {
  if cmp -s "$2" "$tmp/out"; then ok; else bad "$1: stdout differs: $(head -c 300 "$tmp/out")"; fi
}

cd "$f/work"

# ---- --diff -----------------------------------------------------------------------------
expect_status "fmt --diff: a file that changes" 1 "$msl" fmt --diff messy.ms
cp "$tmp/out" "$f/messy.diff"
if head -n 3 "$f/messy.diff" | tr '\n' '|' | grep -qx -- '--- a/messy.ms|+++ b/messy.ms|@@ -1,5 +1,7 @@|'; then ok
else bad "fmt --diff: headers: $(head -n 3 "$f/messy.diff")"; fi
unchanged "fmt --diff"
"$msl" fmt - <messy.ms >"$f/messy.formatted"
mkdir -p "$f/p" && cp messy.ms "$f/p/messy.ms"
if (cd "$f/p" && patch --batch --quiet --fuzz=0 -p1 <"$f/messy.diff" >/dev/null 2>&1); then ok; else bad "fmt --diff: patch -p1 refused the diff"; fi
same "fmt --diff: patched file is the formatted one" "$f/messy.formatted" "$f/p/messy.ms"
mkdir -p "$f/g" && cp messy.ms "$f/g/messy.ms"
if (cd "$f/g" && git apply "$f/messy.diff" 2>/dev/null); then ok; else bad "fmt --diff: git apply refused the diff"; fi
same "fmt --diff: git-applied file is the formatted one" "$f/messy.formatted" "$f/g/messy.ms"

expect_status "fmt --diff: a formatted file" 0 "$msl" fmt --diff clean.ms
if [ -s "$tmp/out" ]; then bad "fmt --diff: output for a formatted file"; else ok; fi

# several files, one without a newline at its end: one diff patch applies to all
expect_status "fmt --diff: several files" 1 "$msl" fmt --diff ./messy.ms clean.ms noeol.ms
cp "$tmp/out" "$f/all.diff"
if grep -qx -- '--- a/messy.ms' "$f/all.diff" && grep -qx -- '--- a/noeol.ms' "$f/all.diff" &&
  ! grep -q clean.ms "$f/all.diff"; then ok; else bad "fmt --diff: several files: $(grep -- '^---' "$f/all.diff")"; fi
if grep -qx '\\ No newline at end of file' "$f/all.diff"; then ok; else bad "fmt --diff: no-newline marker missing"; fi
"$msl" fmt - <noeol.ms >"$f/noeol.formatted"
mkdir -p "$f/q" && cp messy.ms noeol.ms clean.ms "$f/q/"
if (cd "$f/q" && patch --batch --quiet --fuzz=0 -p1 <"$f/all.diff" >/dev/null 2>&1); then ok; else bad "fmt --diff: patch refused the diff of several files"; fi
same "fmt --diff: patched messy.ms" "$f/messy.formatted" "$f/q/messy.ms"
same "fmt --diff: patched noeol.ms" "$f/noeol.formatted" "$f/q/noeol.ms"
same "fmt --diff: clean.ms stays" "$f/orig/clean.ms" "$f/q/clean.ms"
unchanged "fmt --diff, several files"

expect_status "fmt --diff: syntax error" 1 "$msl" fmt --diff broken.ms clean.ms
expect_stderr "fmt --diff: syntax error reported" "broken.ms:1:14: error[E009]"
if [ -s "$tmp/out" ]; then bad "fmt --diff: output for a file with syntax errors"; else ok; fi
expect_status "fmt --diff: unreadable file" 4 "$msl" fmt --diff missing.ms messy.ms
expect_stderr "fmt --diff: unreadable file named" "msl: missing.ms:"
expect_status "fmt --diff: standard input" 1 sh -c "\"$msl\" fmt --diff - < messy.ms"
if head -n 2 "$tmp/out" | tr '\n' '|' | grep -qx -- '--- a/<stdin>|+++ b/<stdin>|'; then ok
else bad "fmt --diff -: headers: $(head -n 2 "$tmp/out")"; fi
unchanged "fmt --diff, errors"

# ---- --list and --fail ------------------------------------------------------------------
printf 'messy.ms\nnoeol.ms\n' >"$f/listed"
expect_status "fmt --list" 0 "$msl" fmt --list messy.ms clean.ms noeol.ms
expect_stdout "fmt --list names the files that change" "$f/listed"
expect_status "fmt --list --fail" 1 "$msl" fmt --list --fail messy.ms clean.ms noeol.ms
expect_stdout "fmt --list --fail names the files that change" "$f/listed"
expect_status "fmt --fail --list, formatted files only" 0 "$msl" fmt --fail --list clean.ms
if [ -s "$tmp/out" ]; then bad "fmt --list: a formatted file listed"; else ok; fi
expect_status "fmt --list: syntax error" 1 "$msl" fmt --list broken.ms
expect_status "fmt --diff --fail" 1 "$msl" fmt --diff --fail messy.ms
unchanged "fmt --list"

# ---- the options together -----------------------------------------------------------------
expect_status "fmt --diff --list" 2 "$msl" fmt --diff --list messy.ms
expect_stderr "fmt --diff --list" "fmt takes one of --check, --diff and --list, not both --diff and --list"
expect_status "fmt --diff twice" 1 "$msl" fmt --diff --diff messy.ms
expect_status "fmt --lst" 2 "$msl" fmt --lst messy.ms
expect_stderr "fmt --lst" "unknown option \`--lst\` for fmt; did you mean \`--list\`?"
expect_status "fmt --diff without a file" 2 "$msl" fmt --diff
unchanged "fmt usage errors"

# ---- --check as it was; --fail on the rewriting form ------------------------------------------
expect_status "fmt --check" 1 "$msl" fmt --check messy.ms clean.ms
printf 'messy.ms\n' >"$f/checked"
expect_stdout "fmt --check names the file" "$f/checked"
unchanged "fmt --check"
expect_status "fmt --fail rewrites and fails" 1 "$msl" fmt --fail messy.ms clean.ms
same "fmt --fail: messy.ms rewritten" "$f/messy.formatted" messy.ms
expect_status "fmt --fail: all formatted now" 0 "$msl" fmt --fail messy.ms clean.ms
expect_status "fmt --diff: nothing left to change" 0 "$msl" fmt --diff messy.ms clean.ms
