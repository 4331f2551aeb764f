#!/usr/bin/env bash
# A real forward proxy (tinyproxy, Debian's package) on loopback, for testing HTTPS_PROXY:
# HTTPS requests go through it as CONNECT tunnels.
#
#   ops/tls/connect-proxy.sh start DIR     prints "proxy http://127.0.0.1:PORT" and "pid PID"
#                                          once it accepts connections; DIR/tinyproxy.log
#                                          names every CONNECT it served.
#   ops/tls/connect-proxy.sh stop DIR
set -euo pipefail

. "$(dirname "$0")/lib.sh"
close_inherited_descriptors

die() { echo "connect-proxy: $*" >&2; exit 1; }

start() {
    local dir=$1 port attempt pid
    command -v tinyproxy >/dev/null || die "tinyproxy is not installed (Debian: apt-get install tinyproxy)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 1777 "$dir" # tinyproxy drops to an unprivileged user when started as root
    for attempt in $(seq 1 20); do
        port=$(( 20000 + RANDOM % 30000 ))
        cat > "$dir/tinyproxy.conf" <<CONF
Port $port
Listen 127.0.0.1
Timeout 600
LogFile "$dir/tinyproxy.log"
LogLevel Connect
MaxClients 2048
Allow 127.0.0.1
DisableViaHeader Yes
CONF
        : > "$dir/tinyproxy.log"
        chmod 666 "$dir/tinyproxy.log"
        tinyproxy -d -c "$dir/tinyproxy.conf" </dev/null >>"$dir/tinyproxy.out" 2>&1 &
        pid=$!
        if port_accepts "$port" "$pid"; then
            echo "$pid" > "$dir/tinyproxy.pid.main"
            echo "proxy http://127.0.0.1:$port"
            echo "pid $pid"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    die "tinyproxy did not start (see $dir/tinyproxy.out)"
}

stop() { stop_by_pid_file "$1/tinyproxy.pid.main"; }

case ${1:-} in
    start) [ $# -ge 2 ] || die "usage: $0 start DIR"; start "$2" ;;
    stop) [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) die "usage: $0 start DIR | stop DIR" ;;
esac
