#!/bin/sh
# setup.sh STATE_DIR — a single-node Slurm for `make slurm-demo`: installs
# Debian's slurm-wlm and munge when they are missing, writes slurm.conf
# into STATE_DIR, and starts munged, slurmctld and slurmd with their
# sockets, state, logs and pid files all in STATE_DIR (private ports, no
# file under /etc touched), so they never meet a Slurm the machine runs.
# Idempotent: daemons left by an earlier run in STATE_DIR are stopped
# first (teardown.sh).  Needs root.  Clients find the cluster with
# SLURM_CONF=STATE_DIR/slurm.conf.
set -eu
state=$1
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
   ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  echo "slurm: installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 600 /etc/munge/munge.key
fi

sh "$here/teardown.sh" "$state"
rm -rf "$state/ctld" "$state/spool"   # no job of an earlier demo comes back
mkdir -p "$state/ctld" "$state/spool" "$state/munge"
# munged checks that its socket's directory is its own and reachable by all
chown munge:munge "$state/munge"
chmod 755 "$state" "$state/munge"

host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
cat >"$state/slurm.conf" <<CONF
# Written by tools/slurm/setup.sh: one node, every path in $state.
ClusterName=msldemo
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
DependencyParameters=kill_invalid_depend
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=demo Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

runuser -u munge -- munged --socket="$state/munge/munge.socket" --pid-file="$state/munge/munged.pid" \
  --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed"
slurmctld -f "$state/slurm.conf"
slurmd -f "$state/slurm.conf"

# ready when the node is idle
export SLURM_CONF="$state/slurm.conf"
i=0
until [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; do
  i=$((i + 1))
  if [ $i -gt 60 ]; then
    echo "slurm: the node did not come up; see $state/slurmctld.log and $state/slurmd.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "slurm: single-node cluster up ($host, $cpus CPUs, partition demo)"
