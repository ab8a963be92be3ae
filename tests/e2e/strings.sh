# Exact strings (SPEC 3 and 7): a rule file never holds a NUL byte and
# `\u{0}` is an error; a NUL in a cell is an ordinary byte that compares
# exactly, through .ms and .msc alike; `msl fmt` keeps every string as it is.
# Sourced by tests/e2e/run.sh with its helpers ($msl, $tmp, ok, bad, ...).

s=$tmp/strings
mkdir -p "$s/csv" "$s/jsonl" "$s/msc"

# ---- rule files: a raw NUL byte or \u{0} is an error with its place -----------------
printf 'event login { user: string }\nsegment s = "a\000b" == "a"\n' >"$s/nul_string.ms"
expect_status "strings: NUL in a string" 1 "$msl" check "$s/nul_string.ms"
expect_stderr "strings: NUL in a string is E001 at its column" "nul_string.ms:2:15: error[E001]: unexpected NUL byte"
printf 'event login { user: string }\n# note \000\nmilestone m "M" { description "d" exit count(login) >= 1 }\n' >"$s/nul_comment.ms"
expect_status "strings: NUL in a comment" 1 "$msl" check "$s/nul_comment.ms"
expect_stderr "strings: NUL in a comment is E001" "nul_comment.ms:2:8: error[E001]"
cp "$s/nul_comment.ms" "$s/nul_comment.orig"
expect_status "strings: fmt refuses a NUL byte" 1 "$msl" fmt "$s/nul_comment.ms"
same "strings: fmt leaves a file with a NUL byte alone" "$s/nul_comment.orig" "$s/nul_comment.ms"
printf 'event login { user: string }\nsegment s = "a\\u{00}b" == "a"\n' >"$s/nul_escape.ms"
expect_status "strings: \\u{00}" 1 "$msl" check "$s/nul_escape.ms"
expect_stderr "strings: \\u{00} is E004" "nul_escape.ms:2:15: error[E004]: invalid Unicode escape"

# ---- cells: a NUL byte is an ordinary byte ---------------------------------------------
cat >"$s/rules.ms" <<'MS'
account { plan: string = "" }
event login { user: string }
segment basic = account.plan == "a"
milestone basic_login "Basic login" {
  description "A basic account logs in"
  segments basic
  exit count(login) >= 1
}
milestone ann_login "Ann logs in" {
  description "Ann logs in"
  exit count(login where user == "ann") >= 1
}
milestone two_users "Two users" {
  description "Two distinct users"
  exit distinct(login.user) >= 2
}
MS
# `nul` has plan "a<NUL>b" (not basic) and logs in as "ann<NUL>" (not ann)
# on the 1st, as ann on the 2nd; "x<NUL>y" is an account of its own.
printf 'id,plan\nplain,a\nnul,a\000b\nx\000y,a\n' >"$s/accounts.csv"
printf 'account,time,event,user\nplain,2026-01-01,login,ann\nnul,2026-01-01,login,ann\000\nnul,2026-01-02,login,ann\nx\000y,2026-01-01,login,an\000n\n' >"$s/events.csv"
printf '{"id":"plain","plan":"a"}\n{"id":"nul","plan":"a\\u0000b"}\n{"id":"x\\u0000y","plan":"a"}\n' >"$s/accounts.jsonl"
printf '{"account":"plain","time":"2026-01-01","event":"login","user":"ann"}\n{"account":"nul","time":"2026-01-01","event":"login","user":"ann\\u0000"}\n{"account":"nul","time":"2026-01-02","event":"login","user":"ann"}\n{"account":"x\\u0000y","time":"2026-01-01","event":"login","user":"an\\u0000n"}\n' >"$s/events.jsonl"
{
  printf 'account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\n'
  printf 'nul,ann_login,completed,,,2026-01-02T00:00:00Z,,,,\n'
  printf 'nul,two_users,completed,,,2026-01-02T00:00:00Z,,,,\n'
  printf 'plain,basic_login,completed,,,2026-01-01T00:00:00Z,,,,\n'
  printf 'plain,ann_login,completed,,,2026-01-01T00:00:00Z,,,,\n'
  printf 'plain,two_users,in_progress,,,,,,,\n'
  printf 'x\000y,basic_login,completed,,,2026-01-01T00:00:00Z,,,,\n'
  printf 'x\000y,ann_login,in_progress,,,,,,,\n'
  printf 'x\000y,two_users,in_progress,,,,,,,\n'
} >"$s/want.csv"
expect_status "strings: NUL in CSV cells" 0 "$msl" run "$s/rules.ms" --events "$s/events.csv" --accounts "$s/accounts.csv" --as-of 2026-02-01 --out "$s/csv"
same "strings: NUL in CSV cells compares exactly" "$s/want.csv" "$s/csv/milestones.csv"
expect_status "strings: NUL in JSON Lines cells" 0 "$msl" run "$s/rules.ms" --events "$s/events.jsonl" --accounts "$s/accounts.jsonl" --as-of 2026-02-01 --out "$s/jsonl"
same "strings: NUL in JSON Lines cells compares exactly" "$s/want.csv" "$s/jsonl/milestones.csv"
expect_status "strings: build" 0 "$msl" build "$s/rules.ms" -o "$s/rules.msc"
expect_status "strings: NUL in cells through .msc" 0 "$msl" run "$s/rules.msc" --events "$s/events.jsonl" --accounts "$s/accounts.csv" --as-of 2026-02-01 --out "$s/msc"
same "strings: .msc compares exactly too" "$s/want.csv" "$s/msc/milestones.csv"
expect_status "strings: JSON output of a NUL id" 0 "$msl" run "$s/rules.ms" --events "$s/events.csv" --accounts "$s/accounts.csv" --as-of 2026-02-01 --format jsonl
if grep -qF '{"account":"x\u0000y","milestone":"basic_login","status":"completed"' "$tmp/out"; then ok; else bad "strings: a NUL in an id is written \\u0000 in JSON: $(head -c 300 "$tmp/out")"; fi

# ---- fmt keeps every string: the formatted file compiles to the same program ------------
# Raw tab, control and non-ASCII bytes, every escape, in every place a string goes.
printf '%s\n' \
  'account   { plan: string = "caf\u{e9} \"q\" \\ \t\n" , note: string = "raw	tab ünï ☃ \u{1F600}" }' \
  'event login { user: string = "\u{7f}\u{1}\u{10FFFF}" }' \
  'segment odd = account.plan in ["a\\b", "\"", "\u{A0}", "é"] or account.note == "	"' \
  'milestone m "M \"quoted\" \\ caf\u{E9}" { description "line\nbreak\ttab" csm "\u{263A}" customer "\\\\" group "g\"" segments odd' \
  '  exit count(login where user == "\u{0001}x") >= 1  on achieved emit "sig\u{2603}" }' \
  'test "t \"one\" \u{e9}" { as_of @2026-02-01 account { plan = "\"" } events { @2026-01-01 login { user = "\u{1}x" } } expect m is completed }' \
  >"$s/escapes.ms"
printf 'segment ctl = account.plan == "\001\037\177"\n' >>"$s/escapes.ms"
expect_status "strings: escapes check" 0 "$msl" check "$s/escapes.ms"
expect_status "strings: fmt escapes" 0 sh -c '"$1" fmt - <"$2" >"$3"' sh "$msl" "$s/escapes.ms" "$s/escapes_fmt.ms"
if cmp -s "$s/escapes.ms" "$s/escapes_fmt.ms"; then bad "strings: fmt left the escapes file as it was (the test needs it reformatted)"; else ok; fi
expect_status "strings: formatted escapes check" 0 "$msl" check "$s/escapes_fmt.ms"
expect_status "strings: disasm original" 0 "$msl" disasm "$s/escapes.ms"
cp "$tmp/out" "$s/escapes.dis"
expect_status "strings: disasm formatted" 0 "$msl" disasm "$s/escapes_fmt.ms"
same "strings: fmt changes no string" "$s/escapes.dis" "$tmp/out"

# ---- an id with a NUL byte in a runtime error is shown escaped, not cut ------------------
printf 'event login { n: int }\nmilestone r "R" { description "d" exit count(login) / sum(login.n) >= 1 }\n' >"$s/div.ms"
printf 'account,time,event,n\nac\000me\001,2026-01-01,login,0\n' >"$s/div.csv"
expect_status "strings: runtime error for an id with a NUL" 3 "$msl" run "$s/div.ms" --events "$s/div.csv"
expect_stderr "strings: the id is shown whole, NUL escaped" 'for account `ac\x00me\x01` at 2026-01-01T00:00:00Z'

# ---- results come in byte order of the ids, whatever they share -------------------------
# Ids alike in their first 8 or 16 bytes (the sort's keys), a prefix of
# another, one that differs from another only by a NUL after it, and bytes
# above 0x7f; -j 1 and -j 2 alike; report.html lists them in the same order.
python3 - "$s/order" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
ids = [b"customer-0000000000001-b", b"customer-0000000000001-a", b"customer-0000000000001",
       b"customer-00000000", b"customer-0000000", b"customer-00000000\x00", b"customer-000000000",
       b"z", b"\xc3\xa9t\xc3\xa9", b"a", b"ab", b"ab\x00", b"a\x00b", b"B", b"0123456789abcdef",
       b"0123456789abcdeg", b"0123456789abcdef0", b"", b"\x01"]
ids = [i for i in ids if i]
with open(os.path.join(d, "events.csv"), "wb") as f:
    f.write(b"account,time,event,user\n")
    for k, i in enumerate(reversed(ids)):
        f.write(i + b",2026-01-%02dT00:00:00Z,login,u\n" % (k % 28 + 1))
with open(os.path.join(d, "want"), "wb") as f:
    for i in sorted(ids):
        f.write(i + b"\n")
PY
for j in 1 2; do
  expect_status "strings: id order -j $j" 0 "$msl" run "$s/rules.ms" --events "$s/order/events.csv" --as-of 2026-02-01 \
    --out "$s/order/j$j" -j $j
  python3 -c 'import sys
rows = open(sys.argv[1], "rb").read().split(b"\n")[1:-1]
seen = []
for r in rows:
    i = r.split(b",")[0]
    if not seen or seen[-1] != i: seen.append(i)
sys.stdout.buffer.write(b"".join(i + b"\n" for i in seen))' "$s/order/j$j/milestones.csv" >"$s/order/got$j"
  same "strings: milestones.csv in byte order of the ids, -j $j" "$s/order/want" "$s/order/got$j"
done
# the page's ids: read back from milestones.csv, in byte order too, also when the file is not
# page_ids PAGE: the ids report.html PAGE lists, a line each
page_ids() {
  python3 -c 'import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
data = json.loads(re.search(r"<script type=\"application/json\"[^>]*>(.*?)</script>", page, re.S).group(1))
sys.stdout.buffer.write(b"".join(i.encode("utf-8", "surrogatepass") + b"\n" for i in data["ids"]))' "$1"
}
page_ids "$s/order/j1/report.html" >"$s/order/page_ids"
same "strings: report.html lists the ids in byte order" "$s/order/want" "$s/order/page_ids"
{ head -n 1 "$s/order/j1/milestones.csv"; tail -n +2 "$s/order/j1/milestones.csv" | sort -r; } >"$s/order/rev.csv"
mv "$s/order/rev.csv" "$s/order/j1/milestones.csv"
expect_status "strings: msl report of rows not in id order" 0 "$msl" report "$s/order/j1"
page_ids "$s/order/j1/report.html" >"$s/order/page_ids2"
same "strings: report.html sorts ids that come out of order" "$s/order/want" "$s/order/page_ids2"
