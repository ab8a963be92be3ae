# ffi_trust.sh — SPEC 4's trust rule for `extern fn` (sourced by run.sh).
#
# Without --allow-ffi a call runs only when its library's real path lies in
# the stdlib's native/ directory and the table that library publishes (its
# manifest) lists the function with that signature.  These tests prove that
# no libc function (system, fopen, getenv, abort) and no function the table
# does not list is reachable without --allow-ffi, whatever way the library
# is named: an absolute path, a `../` path, a symbolic link to the library
# placed elsewhere, a symbolic link inside native/ that points out of it, a
# copy of the library outside native/, a library found by name, or a built
# .msc whose library path changed its meaning after the build.  The witness
# is harmless: `system` and `fopen` would create files in $ft_w, and
# `abort` would kill msl (exit 134).  A rule file whose library resolves
# into native/ is a rule error (exit 1, at check and at run: run compiles
# it); anything else is refused at run with exit 2 before any library is
# loaded.  With --allow-ffi, `system` is still not found through
# libmsl_text.so: only the named library itself is searched.

ft=$tmp/ffi_trust
ft_w=$ft/witness
mkdir -p "$ft/stdlib/std" "$ft/stdlib/native" "$ft/rules" "$ft/elsewhere" "$ft/outside" "$ft_w"
cp stdlib/std/*.ms "$ft/stdlib/std/"
cp stdlib/native/libmsl_text.so stdlib/native/libmsl_text.manifest "$ft/stdlib/native/"
cp stdlib/native/libmsl_text.so "$ft/outside/libmsl_text.so"           # a copy outside native/
ln -s "$ft/stdlib/native/libmsl_text.so" "$ft/elsewhere/text.so"        # a link to it, elsewhere
ln -s "$ft/outside/libmsl_text.so" "$ft/stdlib/native/evil.so"          # a link in native/, pointing out
printf 'account,time,event,user\nacme,2026-01-01,login,ann\n' >"$ft/events.csv"

# msl with the private stdlib above
ft_msl() { MSL_PATH="$ft/stdlib" "$msl" "$@"; }

# ft_exploit NAME LIB: $ft/rules/NAME.ms calls system, fopen, getenv and abort from LIB
ft_exploit() {
  cat >"$ft/rules/$1.ms" <<EOF
extern fn system(cmd: string) -> int from "$2"
extern fn fopen(path: string, how: string) -> int from "$2"
extern fn getenv(name: string) -> string from "$2"
extern fn abort() -> int from "$2"
event login { user: string }
milestone m "M" {
  description "reaches libc"
  exit count(login) >= 1 and system("touch $ft_w/$1.system") == 0
       and fopen("$ft_w/$1.fopen", "w") != 0 and getenv("HOME") != "" and abort() == 0
}
EOF
}

# ft_no_witness NAME: nothing the exploit NAME would have done happened
ft_no_witness() {
  if [ -e "$ft_w/$1.system" ] || [ -e "$ft_w/$1.fopen" ]; then bad "ffi trust $1: native code ran"; else ok; fi
}

ft_run() { ft_msl run "$@" --events "$ft/events.csv"; }

# ---- a library that resolves into native/: a rule error (E063), at check and at run ---------
for route in "abs:$ft/stdlib/native/libmsl_text.so" \
             "dotdot:../stdlib/native/libmsl_text.so" \
             "twisted:../outside/../stdlib/native/./libmsl_text.so" \
             "link_elsewhere:../elsewhere/text.so"; do
  name=${route%%:*} lib=${route#*:}
  ft_exploit "$name" "$lib"
  expect_status "ffi trust $name: check" 1 ft_msl check "$ft/rules/$name.ms"
  expect_stderr "ffi trust $name: check" "error[E063]: library \"$lib\" is the stdlib's own, and its table lists no function \`system\`"
  for f in fopen getenv abort; do expect_stderr "ffi trust $name: check $f" "lists no function \`$f\`"; done
  expect_status "ffi trust $name: run" 1 ft_run "$ft/rules/$name.ms"
  expect_stderr "ffi trust $name: run" "error[E063]"
  expect_status "ffi trust $name: run --allow-ffi" 1 ft_run "$ft/rules/$name.ms" --allow-ffi
  ft_no_witness "$name"
done

# The stdlib beside msl itself, by absolute path (no MSL_PATH).
ft_exploit own_stdlib "$root/stdlib/native/libmsl_text.so"
expect_status "ffi trust own stdlib: check" 1 env -u MSL_PATH "$msl" check "$ft/rules/own_stdlib.ms"
expect_stderr "ffi trust own stdlib: check" "error[E063]"
expect_status "ffi trust own stdlib: run" 1 env -u MSL_PATH "$msl" run "$ft/rules/own_stdlib.ms" --events "$ft/events.csv" --allow-ffi
ft_no_witness own_stdlib

# An exported symbol the table does not list, and a declaration with the wrong types
# (lower(s: int) made msl crash with SIGSEGV before the table was checked).
cat >"$ft/rules/unlisted.ms" <<'EOF'
extern fn msl_native_table() -> int from "../stdlib/native/libmsl_text.so"
extern fn lower(s: int) -> string from "../stdlib/native/libmsl_text.so"
event login { user: string }
milestone m "M" { description "d" exit msl_native_table() == 1 or lower(count(login)) == "1" }
EOF
expect_status "ffi trust unlisted: check" 1 ft_msl check "$ft/rules/unlisted.ms"
expect_stderr "ffi trust unlisted: check" "error[E063]: library \"../stdlib/native/libmsl_text.so\" is the stdlib's own, and its table lists no function \`msl_native_table\`"
expect_stderr "ffi trust unlisted: check" "error[E064]: \`lower(int) -> string\` differs from \`lower(string) -> string\`"
expect_status "ffi trust unlisted: run --allow-ffi" 1 ft_run "$ft/rules/unlisted.ms" --allow-ffi

# ---- a library outside native/: check passes (it loads nothing), run refuses ---------------
for route in "copy:../outside/libmsl_text.so" "link_into_native:../stdlib/native/evil.so"; do
  name=${route%%:*} lib=${route#*:}
  ft_exploit "$name" "$lib"
  expect_status "ffi trust $name: check" 0 ft_msl check "$ft/rules/$name.ms"
  expect_status "ffi trust $name: run" 2 ft_run "$ft/rules/$name.ms"
  expect_stderr "ffi trust $name: run" "extern fn system needs library $lib: run with --allow-ffi to load native code"
  # With --allow-ffi the library loads, but system is libc's, not the library's own.
  expect_status "ffi trust $name: run --allow-ffi" 4 ft_run "$ft/rules/$name.ms" --allow-ffi
  expect_stderr "ffi trust $name: run --allow-ffi" "extern fn system: no function system in library $lib"
  ft_no_witness "$name"
done

# libc itself, found by the dynamic loader: needs --allow-ffi.
ft_exploit by_name libc.so.6
expect_status "ffi trust libc by name: run" 2 ft_run "$ft/rules/by_name.ms"
expect_stderr "ffi trust libc by name: run" "--allow-ffi"
ft_no_witness by_name

# Refused before any input is read: the events file does not exist.
expect_status "ffi trust refused before input" 2 ft_msl run "$ft/rules/copy.ms" --events "$ft/no_such_events.csv"

# ---- .msc: the same rule when the program is loaded, before any library is -------------------
# Built while ./lnk is a directory holding a copy (outside native/), then ./lnk
# becomes a link to native/: the built path now names the stdlib's library.
mkdir -p "$ft/rules/lnk"
cp stdlib/native/libmsl_text.so "$ft/rules/lnk/libmsl_text.so"
ft_exploit msc_libc ./lnk/libmsl_text.so
cat >"$ft/rules/msc_types.ms" <<'EOF'
extern fn lower(s: int) -> string from "./lnk/libmsl_text.so"
event login { user: string }
milestone m "M" { description "d" exit lower(count(login)) == "1" }
EOF
expect_status "ffi trust msc: build libc" 0 ft_msl build "$ft/rules/msc_libc.ms" -o "$ft/msc_libc.msc"
expect_status "ffi trust msc: build types" 0 ft_msl build "$ft/rules/msc_types.ms" -o "$ft/msc_types.msc"
expect_status "ffi trust msc: copy refused" 2 ft_run "$ft/msc_libc.msc"
expect_stderr "ffi trust msc: copy refused" "--allow-ffi"
rm -r "$ft/rules/lnk"
ln -s "$ft/stdlib/native" "$ft/rules/lnk"
expect_status "ffi trust msc: unlisted" 2 ft_run "$ft/msc_libc.msc"
expect_stderr "ffi trust msc: unlisted" "extern fn system: library ./lnk/libmsl_text.so is the stdlib's own, and its table lists no function system"
expect_status "ffi trust msc: unlisted --allow-ffi" 2 ft_run "$ft/msc_libc.msc" --allow-ffi
expect_status "ffi trust msc: wrong types" 2 ft_run "$ft/msc_types.msc"
expect_stderr "ffi trust msc: wrong types" "extern fn lower: library ./lnk/libmsl_text.so is the stdlib's own, and its table declares it as lower(string) -> string"
expect_status "ffi trust msc: wrong types --allow-ffi" 2 ft_run "$ft/msc_types.msc" --allow-ffi
ft_no_witness msc_libc

# ---- what the table lists runs without --allow-ffi, .ms and .msc; without a manifest nothing does
cat >"$ft/rules/legit.ms" <<'EOF'
import "std/text"
event login { user: string }
milestone m "M" { description "d" exit count(login where upper(user) == "ANN") >= 1 }
EOF
expect_status "ffi trust legit: run" 0 ft_run "$ft/rules/legit.ms"
if grep -q '^acme,m,completed,' "$tmp/out"; then ok; else bad "ffi trust legit: $(cat "$tmp/out")"; fi
expect_status "ffi trust legit: build" 0 ft_msl build "$ft/rules/legit.ms" -o "$ft/legit.msc"
expect_status "ffi trust legit: run .msc" 0 ft_run "$ft/legit.msc"
mv "$ft/stdlib/native/libmsl_text.manifest" "$ft/manifest.saved"
expect_status "ffi trust no manifest: check" 1 ft_msl check "$ft/rules/legit.ms"
expect_stderr "ffi trust no manifest: check" "error[E065]"
expect_status "ffi trust no manifest: run .msc" 2 ft_run "$ft/legit.msc"
expect_stderr "ffi trust no manifest: run .msc" "publishes no table (libmsl_text.manifest: No such file or directory)"
mv "$ft/manifest.saved" "$ft/stdlib/native/libmsl_text.manifest"

# ---- a string with a NUL byte passed to an extern is a runtime error (exit 3) ---------------
printf '{"account":"acme","time":"2026-01-01","event":"login","user":"ann"}\n' >"$ft/nul_events.jsonl"
printf '{"id":"acme","name":"a\\u0000b"}\n' >"$ft/nul_accounts.jsonl"
cat >"$ft/rules/nul.ms" <<'EOF'
import "std/text"
account { name: string = "" }
event login { user: string }
milestone named "Named" { description "d" exit count(login) >= 1 and lower(account.name) == "a" }
EOF
expect_status "ffi trust NUL argument" 3 ft_msl run "$ft/rules/nul.ms" --events "$ft/nul_events.jsonl" --accounts "$ft/nul_accounts.jsonl"
expect_stderr "ffi trust NUL argument" "extern fn lower: argument 1 holds a NUL byte"
expect_stderr "ffi trust NUL argument: account" "acme"
expect_stderr "ffi trust NUL argument: milestone" "named"

# ---- more parameters than the VM supports: a rule error, not an internal one ----------------
ft_params=$(i=1; while [ $i -le 33 ]; do printf 'p%d: int, ' $i; i=$((i + 1)); done)
printf 'extern fn f(%s) -> int from "./lib.so"\nevent login { user: string }\n' "${ft_params%, }" >"$ft/rules/params.ms"
expect_status "ffi trust 33 parameters: run" 1 ft_run "$ft/rules/params.ms"
expect_stderr "ffi trust 33 parameters: run" "error[E062]"
if grep -q "internal error" "$tmp/err"; then bad "ffi trust 33 parameters: $(cat "$tmp/err")"; else ok; fi

# Nothing any exploit above would have done happened.
if [ -z "$(ls -A "$ft_w")" ]; then ok; else bad "ffi trust: native code ran: $(ls "$ft_w" | tr '\n' ' ')"; fi
