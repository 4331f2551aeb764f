# Shared by tls-proxy.sh and connect-proxy.sh: servers started in the background that outlive
# the script, waited for by their port and stopped by their pid file. Source it; not a command.

# The server outlives the script: let it inherit no descriptor but the three standard ones (a
# caller may watch a pipe or socket for the script's exit, as Foundation's Process does).
close_inherited_descriptors() {
    local fd
    for fd in $(ls /proc/$$/fd); do
        [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
    done
}

# port_accepts PORT PID: waits (at most 10 s) until something accepts on 127.0.0.1:PORT; fails
# at once if process PID is gone.
port_accepts() {
    local port=$1 pid=$2
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop_by_pid_file FILE: SIGTERM to the pid in FILE, waits (at most 5 s) for it to exit, then
# SIGKILL. (A daemon started from a process that ignores SIGTERM inherits that through exec, so
# TERM alone left tinyproxy running after the tests.)
stop_by_pid_file() {
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -f "$file"
}
