#!/usr/bin/env bash
# Starts a single-node Slurm on this machine for the executor tests (no systemd needed):
# munge, slurmctld and slurmd from Debian's packages, node on 127.0.0.1, no accounting, and
# MaxArraySize lowered to 5 so that stages with more tasks are split into several array jobs
# for real. Idempotent: does nothing when the node already answers with this configuration.
# Needs root (CI runs as root).
set -euo pipefail

MAX_ARRAY_SIZE=5

# Read the whole output before matching: `grep -q` would stop reading at the first match, and
# the writer's SIGPIPE would fail the pipeline under pipefail.
node_up() {
    local states
    states=$(timeout 5 sinfo -h -o %T 2>/dev/null) || return 1
    grep -qE '^(idle|mixed|allocated)' <<<"$states"
}

configured() {
    local config
    config=$(timeout 5 scontrol show config 2>/dev/null) || return 1
    grep -qE "^MaxArraySize +=? *${MAX_ARRAY_SIZE}\$" <<<"$config"
}

if command -v sinfo >/dev/null 2>&1 && node_up && configured; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "slurm-up: needs root to install and start slurm" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
    echo "slurm-up: installing slurmctld slurmd munge slurm-client" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurmctld slurmd munge slurm-client >/dev/null
fi

# munge: a key, its runtime folder, the daemon as the munge user.
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged --force
fi

# slurm.conf for one node: the line `slurmd -C` prints, on 127.0.0.1.
node_line=$(slurmd -C | head -n 1)
node_name=$(printf '%s\n' "$node_line" | sed -E 's/^NodeName=([^ ]+).*/\1/')
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=swecorpus
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
KillWait=5
MinJobAge=3600
MaxArraySize=${MAX_ARRAY_SIZE}
${node_line} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=${node_name} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

if pgrep -x slurmctld >/dev/null; then
    # Running with an older slurm.conf: read the new one.
    scontrol reconfigure
else
    slurmctld
fi
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 50); do
    if node_up && configured; then
        exit 0
    fi
    sleep 0.2
done
echo "slurm-up: the node did not come up; see /var/log/slurm/" >&2
sinfo >&2 || true
exit 1
