# docs/tutorial.md shows exactly what its commands print: tools/doctest.py
# follows it in a fresh directory. The doctest's own conventions (files,
# appends, edits, cd, exit statuses, continued commands, `requires`) work,
# and a document that no longer matches fails at the line that differs.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

tu=$tmp/tutorial
mkdir -p "$tu"

# doctest NAME STATUS DOC: tools/doctest.py exits with STATUS on DOC
doctest() {
  expect_status "$1" "$2" python3 tools/doctest.py --msl "$msl" "$3"
}

# doctest_says NAME TEXT: the last doctest's stdout and stderr hold TEXT
doctest_says() {
  if grep -qF -- "$2" "$tmp/out" "$tmp/err"; then ok; else bad "$1: lacks '$2': $(head -c 600 "$tmp/err")"; fi
}

# tamper NAME FROM [TO]: $tu/NAME.md is the tutorial with its first line FROM
# replaced by TO, or left out without TO; prints that line's number (and
# fails the test when there is no such line: a tamper must change something)
tamper() {
  n=$(grep -nxF -- "$2" docs/tutorial.md | head -1 | cut -d: -f1)
  if [ -z "$n" ]; then bad "tutorial: tamper $1: no line '$2' in docs/tutorial.md"; n=0; fi
  awk -v n="$n" -v drop="$(($# < 3))" -v to="${3:-}" \
    'NR == n { if (!drop) print to; next } { print }' docs/tutorial.md >"$tu/$1.md"
  echo "$n"
}

# ---- the tutorial itself -------------------------------------------------------------------
doctest "tutorial: every output as shown" 0 docs/tutorial.md
doctest_says "tutorial: every output as shown" "docs/tutorial.md: "

# ---- a tampered copy fails, at the line that differs ---------------------------------------
n=$(tamper status_cell 'globex,setup,overdue,2026-02-20T00:00:00Z,2026-02-20T00:00:00Z,,,2026-03-06T00:00:00Z,false,0.5' \
  'globex,setup,in_progress,2026-02-20T00:00:00Z,2026-02-20T00:00:00Z,,,2026-03-06T00:00:00Z,false,0.5')
doctest "tutorial: a wrong output line" 1 "$tu/status_cell.md"
doctest_says "tutorial: a wrong output line" "$tu/status_cell.md:$n: \`cat out/milestones.csv\`: output line 4 differs"
n=$(tamper exit_status '[exit 1]')
doctest "tutorial: an exit status left out" 1 "$tu/exit_status.md"
cmd=$(head -n "$n" docs/tutorial.md | grep -nxF '$ msl check onboarding.ms' | tail -1 | cut -d: -f1)
doctest_says "tutorial: an exit status left out" "$tu/exit_status.md:$cmd: \`msl check onboarding.ms\`: exit status 1, the document shows 0"
n=$(tamper missing_line '2 passed, 0 failed')
doctest "tutorial: a line the document does not show" 1 "$tu/missing_line.md"
doctest_says "tutorial: a line the document does not show" "expected the end of the output"
n=$(tamper stale_edit '-  expect setup is completed at @2026-03-04T09:00:00Z' '-  expect setup is completed at @2026-03-06T09:00:00Z')
doctest "tutorial: an edit that no longer applies" 1 "$tu/stale_edit.md"
doctest_says "tutorial: an edit that no longer applies" "$tu/stale_edit.md:$n: the lines this edit changes occur 0 times in onboarding.ms, not once"

# ---- the conventions, on a small document ---------------------------------------------------
cat >"$tu/conventions.md" <<'MD'
Commands carry their directory over; $HOME is written ~.

```console
$ mkdir ~/work && cd ~/work
$ pwd
~/work
```

<!-- file: notes.txt -->
```text
one
two
```

<!-- append: notes.txt -->
```text
three
```

<!-- edit: notes.txt -->
```diff
 one
-two
+TWO
```

```console
$ cat notes.txt
one
TWO
three
$ echo a \
  b
a b
$ sh -c 'echo to stderr >&2; exit 3'
to stderr
[exit 3]
```

Other blocks are not run:

```sh
$ false
```

<!-- requires: msl no_such_command -->
```console
$ false
```

<!-- requires: msl check -->
```console
$ printf 'event login\n' >rules.ms
$ msl check rules.ms
rules.ms:1:7: warning[W003]: event `login` is declared but no rule uses it
    1 | event login
      |       ^~~~~
```
MD
doctest "doctest conventions" 0 "$tu/conventions.md"
doctest_says "doctest conventions" "$tu/conventions.md: 7 commands and 3 files as shown"
doctest_says "doctest conventions" "$tu/conventions.md:46: skipped: needs msl no_such_command, which this msl does not have"

printf '<!-- file: x.txt -->\nsome text\n\n```text\nx\n```\n' >"$tu/stray_marker.md"
doctest "doctest: a marker away from its block" 1 "$tu/stray_marker.md"
doctest_says "doctest: a marker away from its block" "$tu/stray_marker.md:1: a marker must come right before a fenced block"
printf '```console\n$ echo hi\nho\n```\n' >"$tu/wrong.md"
doctest "doctest: a wrong line" 1 "$tu/wrong.md"
doctest_says "doctest: a wrong line" "$tu/wrong.md:3: \`echo hi\`: output line 1 differs:"
doctest "doctest: a missing document" 2 "$tu/no_such.md"
