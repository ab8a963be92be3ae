# "Did you mean" for an import that names no module (docs/errors.md, E020):
# the closest module among the `.ms` files of the directories the import was
# looked for in, spelled as the import spells it.  The message names those
# directories, which depend on the checkout: hence a suite here rather than
# a golden test.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

ih=$tmp/import_hints
mkdir -p "$ih/lib"
echo 'let shared = 1' >"$ih/lib/common.ms"

printf 'import "std/txt"\n' >"$ih/std.ms"
expect_status "import hints: std/txt" 1 "$msl" check "$ih/std.ms"
expect_stderr "import hints: std/txt suggests the stdlib module" \
  "error[E020]: cannot find module \`std/txt\`: neither $ih/std/txt.ms nor "
expect_stderr "import hints: std/txt suggests the stdlib module" "exists; did you mean \`std/text\`?"

printf 'import "lib/comon.ms"\n' >"$ih/local.ms"
expect_status "import hints: a local module" 1 "$msl" check "$ih/local.ms"
expect_stderr "import hints: a local module, spelled with .ms" "did you mean \`lib/common.ms\`?"

printf 'import "lib/zzz"\n' >"$ih/far.ms"
expect_status "import hints: nothing close" 1 "$msl" check "$ih/far.ms"
if grep -q 'did you mean' "$tmp/err"; then bad "import hints: nothing close still suggests: $(head -c 400 "$tmp/err")"; else ok; fi
