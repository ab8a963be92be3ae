#!/bin/sh
# demo.sh MSL — `make slurm-demo`: a real Slurm scheduler on this machine
# (setup.sh: Debian's slurm-wlm and munge, one node) runs an MSL job as a
# job array of 4 shards (msl_shard.sbatch, sbatch --array=1-4) and the merge
# after it (msl_merge.sbatch, --dependency=afterok); the merged directory
# must equal a single run over everything, compared by diff -r.  The
# daemons are stopped at the end, whatever happens (teardown.sh).  Needs
# root; idempotent.
set -eu
msl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tools/slurm
shards=4
if [ "$(id -u)" != 0 ]; then
  echo "slurm-demo: needs root: it installs Slurm and starts its daemons (sudo make slurm-demo)" >&2
  exit 1
fi
state=${MSL_SLURM_STATE:-/tmp/msl-slurm}
work=$(mktemp -d /tmp/msl-slurm-demo-XXXXXX)
chmod 755 "$work"
trap 'sh "$here/teardown.sh" "$state"; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
sh "$here/setup.sh" "$state"
export SLURM_CONF="$state/slurm.conf"

echo "slurm-demo: generating the log"
python3 "$root/tools/gen_events.py" --rules saas --accounts 3000 --seed 7 --out-dir "$work/data" --quiet
rules=$root/examples/saas_onboarding.ms
as_of=2026-06-01T00:00:00Z
"$msl" run "$rules" --events "$work/data/events.csv" --accounts "$work/data/accounts.csv" --as-of "$as_of" \
  --history --quiet --out "$work/single"

env="ALL,MSL=$msl,RULES=$rules,EVENTS=$work/data/events.csv,ACCOUNTS=$work/data/accounts.csv,AS_OF=$as_of"
env="$env,OUT=$work/out,EXTRA=--history,SHARDS=$shards"
array=$(sbatch --parsable --array=1-$shards --chdir="$work" --export="$env" "$here/msl_shard.sbatch")
echo "slurm-demo: submitted job array $array (shards 1-$shards) and its merge"
merge=$(sbatch --parsable --dependency="afterok:$array" --chdir="$work" --export="$env" "$here/msl_merge.sbatch")
# the merge's state, once it is over (a failed shard cancels it: kill_invalid_depend)
i=0
while :; do
  job=$(scontrol -o show job "$merge")
  case $job in
    *JobState=PENDING* | *JobState=RUNNING* | *JobState=CONFIGURING* | *JobState=COMPLETING*) ;;
    *) break ;;
  esac
  i=$((i + 1))
  [ $i -lt 1200 ] || { echo "slurm-demo: the job did not finish in 10 minutes" >&2; break; }
  sleep 0.5
done
if ! echo "$job" | grep -q "JobState=COMPLETED"; then
  echo "slurm-demo: the job failed: $(echo "$job" | grep -o 'JobState=[A-Z_]*')" >&2
  for log in "$work"/msl-*.log "$state/slurmctld.log"; do
    [ -f "$log" ] && { echo "== $log"; tail -n 20 "$log"; } >&2
  done
  exit 1
fi
for k in $(seq 1 $shards); do
  grep -q "\"index\": $k," "$work/out/shard-$k/summary.json" ||
    { echo "slurm-demo: shard $k did not write its result" >&2; exit 1; }
done
if diff -r "$work/single" "$work/out/merged" >"$work/diff"; then
  files=$(ls "$work/out/merged" | wc -l)
  rows=$(($(wc -l <"$work/out/merged/milestones.csv") - 1))
  echo "slurm-demo: OK: the merged result of the $shards-task job array equals the single run" \
       "(diff -r: $files files, $rows milestone rows, no difference)"
else
  echo "slurm-demo: FAILED: the merged result differs from the single run:" >&2
  head -n 20 "$work/diff" >&2
  exit 1
fi
