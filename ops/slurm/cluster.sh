#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, from Debian's packages, for tests.
#
#   ops/slurm/cluster.sh up     STATE_DIR   install if missing, start munged/slurmctld/slurmd, wait for idle
#   ops/slurm/cluster.sh down   STATE_DIR   cancel jobs, stop ONLY the daemons `up` started
#   ops/slurm/cluster.sh env    STATE_DIR   print `export SLURM_CONF=...` (eval it to use sbatch/squeue)
#   ops/slurm/cluster.sh status STATE_DIR   what is running, node state
#
# Needs root and Debian bookworm (no systemd needed). Everything lives under STATE_DIR:
# slurm.conf (never /etc/slurm: clients find it through SLURM_CONF), state, logs, pids.
# The configuration is the one in docs/slurm-on-one-machine.md.
#
# Environment knobs:
#   CLUSTER_CPUS            CPUs the node advertises (default 4; may exceed the real cores)
#   CLUSTER_CTLD_PORT       first port tried for slurmctld (default 6817; next free one is used)
#   CLUSTER_SLURMD_PORT     first port tried for slurmd    (default 6818)
#   CLUSTER_KILLWAIT        seconds between TERM and KILL when a job is cancelled/requeued (default 10)
#   CLUSTER_UP_TIMEOUT      seconds to wait for the node to become idle (default 60)
#   CLUSTER_NO_INSTALL=1    never run apt-get; fail if the packages are missing
set -uo pipefail

PROG="cluster.sh"

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%03ds' $(( ms / 1000 )) $(( ms % 1000 )); }

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

# --- pids --------------------------------------------------------------------------------
# Our own record of what we started (daemons delete their pid files when they exit).

# alive PID COMM: true when PID runs and its command name is COMM (guards against pid reuse)
alive() {
    local pid=$1 comm=$2
    [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]]
}

recorded_pid() { cat "$STATE/pids/$1.pid" 2>/dev/null || true; }

# wait_for DEADLINE_S DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it succeeds
wait_for() {
    local timeout=$1 what=$2; shift 2
    local deadline=$(( $(now_ms) + timeout * 1000 ))
    until "$@" >/dev/null 2>&1; do
        if (( $(now_ms) > deadline )); then
            echo "$PROG: timed out after ${timeout}s waiting for $what" >&2
            return 1
        fi
        sleep 0.2
    done
}

# stop PID COMM TIMEOUT_S: TERM, wait, then KILL; only if PID still is COMM
stop_pid() {
    local pid=$1 comm=$2 timeout=$3
    alive "$pid" "$comm" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for "$timeout" "$comm ($pid) to exit" bash -c "! [[ \"\$(cat /proc/$pid/comm 2>/dev/null)\" == '$comm' ]]"; then
        log "killing $comm ($pid) with KILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    if alive "$pid" "$comm"; then
        echo "$PROG: could not stop $comm ($pid)" >&2
        return 1
    fi
    log "stopped $comm ($pid)"
}

# --- install -----------------------------------------------------------------------------

ensure_packages() {
    local need=()
    command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 \
        && command -v sbatch >/dev/null 2>&1 || need+=(slurm-wlm)
    command -v munged >/dev/null 2>&1 || [[ -x /usr/sbin/munged ]] || need+=(munge)
    (( ${#need[@]} == 0 )) && return 0
    [[ "${CLUSTER_NO_INSTALL:-0}" == 1 ]] && die "missing packages: ${need[*]} (CLUSTER_NO_INSTALL=1)"
    (( EUID == 0 )) || die "missing packages: ${need[*]}; run as root or install them first"
    command -v apt-get >/dev/null 2>&1 || die "missing packages: ${need[*]} and no apt-get here"
    local t0; t0=$(now_ms)
    log "installing ${need[*]} (apt-get, --no-install-recommends)"
    export DEBIAN_FRONTEND=noninteractive
    # Update the lists only when the install fails without it (fresh machines have none).
    if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge >"$STATE/log/apt.log" 2>&1; then
        apt-get update -qq >>"$STATE/log/apt.log" 2>&1 || true
        apt-get install -y -qq --no-install-recommends slurm-wlm munge >>"$STATE/log/apt.log" 2>&1 \
            || { tail -n 20 "$STATE/log/apt.log" >&2; die "apt-get install slurm-wlm munge failed (log: $STATE/log/apt.log)"; }
    fi
    log "installed in $(elapsed "$t0")"
}

# --- munge -------------------------------------------------------------------------------

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_works; then
        log "munged already running (not ours; down will leave it)"
        return 0
    fi
    # No systemd/tmpfiles here: the runtime directories do not exist. Create them as the unit would.
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0711 /var/lib/munge
    install -d -o munge -g munge -m 0700 /var/log/munge
    install -d -o munge -g munge -m 0700 /etc/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        mungekey --create --keyfile=/etc/munge/munge.key >/dev/null || die "mungekey --create failed"
        chown munge:munge /etc/munge/munge.key; chmod 0600 /etc/munge/munge.key
    fi
    # A stale socket/pid from a munged that died would make munged refuse to start.
    if [[ -e /run/munge/munged.pid ]] && ! alive "$(cat /run/munge/munged.pid)" munged; then
        rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    fi
    runuser -u munge -- /usr/sbin/munged >>"$STATE/log/munged.start.log" 2>&1 \
        || { cat "$STATE/log/munged.start.log" >&2; die "munged failed to start"; }
    wait_for 10 "munged to answer (munge -n | unmunge)" munge_works || die "munged does not answer"
    local pid; pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
    alive "$pid" munged || die "munged runs but /run/munge/munged.pid does not name it"
    echo "$pid" > "$STATE/pids/munged.pid"
    log "started munged ($pid)"
}

# --- slurm -------------------------------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p=$1 last=$(( $1 + 200 ))
    while (( p < last )); do
        if ! port_busy "$p"; then echo "$p"; return 0; fi
        p=$(( p + 1 ))
    done
    return 1
}

write_conf() {
    local ctld_port slurmd_port
    ctld_port=$(free_port "${CLUSTER_CTLD_PORT:-6817}") || die "no free port for slurmctld"
    slurmd_port=$(free_port "${CLUSTER_SLURMD_PORT:-6818}") || die "no free port for slurmd"
    if [[ "$slurmd_port" == "$ctld_port" ]]; then
        slurmd_port=$(free_port $(( ctld_port + 1 ))) || die "no free port for slurmd"
    fi
    cat > "$CONF" <<EOF
# Written by ops/slurm/cluster.sh up; see docs/slurm-on-one-machine.md.
ClusterName=ci
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# Short credential lifetime + fast scheduler: a requeued job restarts in seconds, not minutes.
AuthInfo=cred_expire=10
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=sched_interval=2,bf_interval=2
# Lets CPUs exceed the real cores, so 4 array tasks run at once on 2 cores.
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=${CLUSTER_KILLWAIT:-10}
MailProg=/bin/true
StateSaveLocation=$STATE/state/ctld
SlurmdSpoolDir=$STATE/state/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=localhost CPUs=${CLUSTER_CPUS:-4} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    log "wrote $CONF (slurmctld port $ctld_port, slurmd port $slurmd_port)"
}

# start_daemon NAME PIDFILE CMD...: start a self-daemonizing slurm daemon, record its pid
start_daemon() {
    local name=$1 pidfile=$2; shift 2
    rm -f "$pidfile"
    env SLURM_CONF="$CONF" "$@" >>"$STATE/log/$name.start.log" 2>&1 \
        || { tail -n 20 "$STATE/log/$name.start.log" "$STATE/log/$name.log" >&2 2>/dev/null; return 1; }
    if ! wait_for 15 "$name pid file" test -s "$pidfile"; then
        tail -n 20 "$STATE/log/$name.log" >&2 2>/dev/null; return 1
    fi
    local pid; pid=$(cat "$pidfile")
    if ! alive "$pid" "$name"; then
        echo "$PROG: $name exited right after starting; its log says:" >&2
        tail -n 20 "$STATE/log/$name.log" >&2 2>/dev/null; return 1
    fi
    echo "$pid" > "$STATE/pids/$name.pid"
    log "started $name ($pid)"
}

node_state() { SLURM_CONF="$CONF" sinfo -h -n localhost -o %T 2>/dev/null; }
node_idle() { [[ "$(node_state)" == idle ]]; }

cmd_up() {
    local t0; t0=$(now_ms)
    (( EUID == 0 )) || die "up needs root (munged/slurmd run as root here)"
    mkdir -p "$STATE"/{pids,run,log,state/ctld,state/d} || die "cannot create $STATE"

    if alive "$(recorded_pid slurmctld)" slurmctld && alive "$(recorded_pid slurmd)" slurmd; then
        log "already up in $STATE"
        if node_idle || wait_for "${CLUSTER_UP_TIMEOUT:-60}" "node localhost to be idle" node_idle; then
            print_env_hint; return 0
        fi
        die "daemons run but node state is '$(node_state)'"
    fi
    if alive "$(recorded_pid slurmctld)" slurmctld || alive "$(recorded_pid slurmd)" slurmd; then
        die "a half-started cluster is recorded in $STATE; run '$0 down $STATE' first"
    fi

    ensure_packages
    local t_munge; t_munge=$(now_ms)
    start_munge
    log "munge ready in $(elapsed "$t_munge")"

    write_conf
    local t_slurm; t_slurm=$(now_ms)
    if ! start_daemon slurmctld "$STATE/run/slurmctld.pid" slurmctld -f "$CONF"; then
        cmd_down_quiet; die "slurmctld did not start (logs in $STATE/log)"
    fi
    # -N localhost: the node is called localhost, whatever this machine's hostname is.
    if ! start_daemon slurmd "$STATE/run/slurmd.pid" slurmd -f "$CONF" -N localhost; then
        cmd_down_quiet; die "slurmd did not start (logs in $STATE/log)"
    fi
    if ! wait_for "${CLUSTER_UP_TIMEOUT:-60}" "node localhost to be idle (state now: $(node_state))" node_idle; then
        echo "--- slurmctld.log" >&2; tail -n 15 "$STATE/log/slurmctld.log" >&2
        echo "--- slurmd.log" >&2; tail -n 15 "$STATE/log/slurmd.log" >&2
        cmd_down_quiet; die "node never became idle"
    fi
    log "slurm ready in $(elapsed "$t_slurm") (node localhost idle)"
    printf 'export SLURM_CONF=%q\n' "$CONF" > "$STATE/env"
    log "up in $(elapsed "$t0")"
    print_env_hint
}

print_env_hint() { log "use it with: export SLURM_CONF=$CONF   (or: eval \"\$($0 env $STATE)\")"; }

# Processes a job left behind: a slurmstepd of ours (it holds our slurmd.log open; its own
# environment is overwritten by its process title) or a job process (SLURM_JOB_ID set and our
# SLURM_CONF in its environment: sbatch passes the submitter's environment on).
marked_pids() {
    local p pid env
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        if [[ "$(cat "$p/comm" 2>/dev/null)" == slurmstepd ]]; then
            if find "$p/fd" -maxdepth 1 -lname "$STATE/*" 2>/dev/null | grep -q .; then echo "$pid"; fi
            continue
        fi
        env=$( { tr '\0' '\n' < "$p/environ"; } 2>/dev/null) || continue
        if grep -qxF "SLURM_CONF=$CONF" <<<"$env" && grep -q '^SLURM_JOB_ID=' <<<"$env"; then
            echo "$pid"
        fi
    done
}

cmd_down() {
    local t0 rc=0; t0=$(now_ms)
    [[ -d "$STATE" ]] || { log "nothing recorded in $STATE"; return 0; }
    local ctld slurmd munged
    ctld=$(recorded_pid slurmctld); slurmd=$(recorded_pid slurmd); munged=$(recorded_pid munged)

    # 1. Cancel every job of this cluster, so no slurmstepd or job process outlives slurmd.
    if alive "$ctld" slurmctld && [[ -f "$CONF" ]]; then
        local jobs
        jobs=$(SLURM_CONF="$CONF" squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
        if [[ -n "${jobs// /}" ]]; then
            log "cancelling jobs: $jobs"
            # shellcheck disable=SC2086
            SLURM_CONF="$CONF" scancel $jobs 2>/dev/null || true
            wait_for $(( ${CLUSTER_KILLWAIT:-10} + 10 )) "jobs to leave the queue" \
                bash -c "[[ -z \"\$(SLURM_CONF='$CONF' squeue -h -o %A 2>/dev/null)\" ]]" || rc=1
        fi
    fi
    # 2. The daemons we started, in reverse order.
    stop_pid "$slurmd" slurmd 15 || rc=1
    stop_pid "$ctld" slurmctld 15 || rc=1
    # 3. Leftovers carrying our marker (slurmstepd of a job that did not end in time).
    local p comm
    for p in $(marked_pids); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        log "leftover $comm ($p) from this cluster: stopping it"
        stop_pid "$p" "$comm" 5 || rc=1
    done
    # 4. munged only if we started it.
    if [[ -n "$munged" ]]; then
        stop_pid "$munged" munged 10 || rc=1
    fi
    rm -f "$STATE/pids/"*.pid "$STATE/env"
    log "down in $(elapsed "$t0")"
    return $rc
}

cmd_down_quiet() { cmd_down >&2 || true; }

cmd_status() {
    local name pid
    for name in munged slurmctld slurmd; do
        pid=$(recorded_pid $name)
        if [[ -z "$pid" ]]; then echo "$name: not started by us"
        elif alive "$pid" $name; then echo "$name: running ($pid)"
        else echo "$name: recorded pid $pid is gone"; fi
    done
    [[ -f "$CONF" ]] && echo "node localhost: $(node_state || true)"
}

# --- main --------------------------------------------------------------------------------

[[ $# -eq 2 ]] || usage
cmd=$1
STATE=$(realpath -m -- "$2")
CONF="$STATE/slurm.conf"
case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) [[ -f "$CONF" ]] || die "no cluster configured in $STATE (run up first)"
         printf 'export SLURM_CONF=%q\n' "$CONF" ;;
    status) cmd_status ;;
    *) usage ;;
esac
