# vm_memory.sh — memory the VM keeps (sourced by run.sh: ok, bad, expect_status, $msl, $tmp).

# ---- strings returned by externs stay valid for the whole evaluation ---------------------
# lower(body) and upper(body) of a 9,000-byte body each outgrow the VM's
# scratch memory; the first result must survive the second call (it was
# freed there: heap-use-after-free under ./msl-asan, a wrong result without).
vm=$tmp/vm_memory
mkdir -p "$vm"
cat >"$vm/long.ms" <<'MS'
import "std/text"
event note { body: string }
milestone same_case "A note reads the same in both cases" {
  exit count(note where lower(body) == upper(body)) >= 1
}
MS
{
  echo 'account,time,event,body'
  printf 'a,2026-01-01,note,'
  head -c 9000 /dev/zero | tr '\0' '7'
  echo
} >"$vm/long.csv"
expect_status "long extern strings" 0 "$msl" run "$vm/long.ms" --events "$vm/long.csv"
if grep -q '^a,same_case,completed,,,2026-01-01T00:00:00Z,' "$tmp/out"; then ok; else
  bad "long extern strings: $(head -c 300 "$tmp/out")"; fi
