#!/bin/sh
# teardown.sh STATE_DIR — stops the slurmd, slurmctld and munged that
# setup.sh started in STATE_DIR, by the process ids in their pid files
# (nothing else is touched), and waits until they are gone.  Safe to run
# when none is running.
set -u
state=$1

# stop NAME PIDFILE: TERM, then KILL if it is still there after 10 s
stop() {
  [ -f "$2" ] || return 0
  pid=$(cat "$2")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$1" "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$2"
}

stop slurmd "$state/slurmd.pid"
stop slurmctld "$state/slurmctld.pid"
stop munged "$state/munge/munged.pid"
exit 0
