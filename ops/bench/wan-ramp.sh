#!/usr/bin/env bash
# How fast a run reaches full speed over a WAN: HTTPS HTTP/2 through nginx and a proxy that adds
# a round trip (ops/bench/delay-proxy.py), batch next to h2load, which opens all its
# connections at once (batch ramps them: ConnectionRamp). Behind the session-10 numbers of
# BENCHMARKS.md on issue #18; not run by CI.
#
# Usage: ops/bench/wan-ramp.sh BATCH_BIN [RTT_MS (80)] [ROWS (2048)] [ROUNDS (2)] [IN_FLIGHT (1024)] [OTHER_BATCH_BIN]
#   Per round: h2load (-c IN_FLIGHT/64 -m 64), BATCH_BIN, and OTHER_BATCH_BIN if given. Prints
#   each one's wall time and, for batch, the mean and longest latency of the requests sent in
#   the first 300 ms (from the ledger: `sqlite3` must be installed), which carry the ramp.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
BIN=$(abs "$1"); RTT=${2:-80} ROWS=${3:-2048} ROUNDS=${4:-2} CONC=${5:-1024}
OTHER=${6:+$(abs "$6")}
for tool in nginx h2load sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "wan-ramp: needs $tool (Debian: nginx-light, nghttp2-client, sqlite3, python3)" >&2; exit 69; }
done
WORK=$(mktemp -d)
PROXY_PID=""
. "$ROOT/ops/bench/wire-setup.sh"
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    wire_stop "$WORK"
    rm -rf "$WORK"
}
trap cleanup EXIT
wire_start "$BIN" "$WORK"
proxy_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$ROOT/ops/bench/delay-proxy.py" "$proxy_port" "${H2##*:}" $(( RTT / 2 )) >"$WORK/proxy.out" 2>&1 &
PROXY_PID=$!
until grep -q '^ready' "$WORK/proxy.out" 2>/dev/null; do
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/proxy.out" >&2; exit 70; }
    sleep 0.02
done
URL="https://127.0.0.1:$proxy_port"

echo "rows $ROWS, $CONC in flight, HTTPS HTTP/2 through nginx and a $RTT ms round trip, 300 ms; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    wire_h2load "$URL" "$ROWS" "$CONC" "$WORK"
    reference=$REFERENCE_MS
    echo "round $round h2load wall=${reference} ms ($(sed -n 's/^time for connect: *[^ ]* *[^ ]* *\([^ ]*\).*/connect mean \1/p' "$WORK/h2load.out"))"
    for bin in "$BIN" ${OTHER:+"$OTHER"}; do
        wire_batch "$bin" "$URL" "$ROWS" "$CONC" "$WORK"
        echo "round $round $(basename "$bin") wall=${BATCH_MS} ms first-wave=${FIRST_WAVE}"
    done
done
