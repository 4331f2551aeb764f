#!/usr/bin/env bash
# Measures the libcurl transport the way the issue asks:
#   1. throughput at 1,024 concurrent requests against `batch simulate` (200 ms latency) in a
#      separate process, so the client's CPU is measured alone: requests/s, share of the ideal
#      (concurrency / latency), CPU-seconds per 1,000 requests, peak RSS;
#   2. a leak check: three rounds of the same load in one process, RSS after each round;
#   3. the simulator's own capacity at zero latency on one event-loop thread: requests/s and
#      its CPU-seconds per 1,000 requests (read from /proc/<pid>/stat).
# Usage: ops/bench-transport.sh            (REQUESTS, CONCURRENCY, LATENCY_MS, SCRATCH override)
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-1024}
LATENCY_MS=${LATENCY_MS:-200}
SCRATCH=${SCRATCH:-.build-release}

swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product batch
BIN="$SCRATCH/release/batch"
TMP=$(mktemp -d)
SIM_PID=""

stop_simulator() {
    if [[ -n "$SIM_PID" ]]; then
        kill -TERM "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
        cat <&3 || true    # the simulator's closing stats line
        exec 3<&-
        SIM_PID=""
    fi
}
trap 'stop_simulator; rm -rf "$TMP"' EXIT

# Starts `batch simulate` on a free port and sets SIM_URL from its ready line (no sleeps).
start_simulator() {
    rm -f "$TMP/sim.fifo"
    mkfifo "$TMP/sim.fifo"
    "$BIN" simulate --port 0 --threads 1 "$@" > "$TMP/sim.fifo" &
    SIM_PID=$!
    exec 3< "$TMP/sim.fifo"
    local line
    IFS= read -r -t 30 line <&3 || { echo "simulator did not start" >&2; exit 1; }
    SIM_URL=${line#listening on }
    echo "simulator pid $SIM_PID at $SIM_URL ($*)"
}

sim_cpu_seconds() {
    # utime + stime (fields 14 and 15 of /proc/PID/stat), in clock ticks.
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$SIM_PID/stat"
}

echo "== 1. throughput: $REQUESTS requests at concurrency $CONCURRENCY, $LATENCY_MS ms latency"
start_simulator --latency-ms "$LATENCY_MS"
"$BIN" bench transport --url "$SIM_URL/v1" --requests "$REQUESTS" --concurrency "$CONCURRENCY" --latency-ms "$LATENCY_MS"

echo
echo "== 2. leak check: 3 rounds of $REQUESTS requests in one process (RSS after each round)"
"$BIN" bench transport --url "$SIM_URL/v1" --requests "$REQUESTS" --concurrency "$CONCURRENCY" --latency-ms "$LATENCY_MS" --rounds 3

echo
echo "== 2b. the same through ChatClient and the classifier"
"$BIN" bench transport --url "$SIM_URL/v1" --requests "$REQUESTS" --concurrency "$CONCURRENCY" --latency-ms "$LATENCY_MS" --client
stop_simulator

echo
echo "== 3. simulator capacity: zero latency, one event-loop thread, 20000 requests at concurrency 64"
start_simulator --latency-ms 0
before=$(sim_cpu_seconds)
"$BIN" bench transport --url "$SIM_URL/v1" --requests 20000 --concurrency 64 --latency-ms 0 --rounds 1
after=$(sim_cpu_seconds)
awk -v a="$after" -v b="$before" 'BEGIN { cpu = a - b;
    printf "simulator CPU: %.2f s for 20000 requests = %.4f CPU-s per 1000 requests (one core saturated: ~%.0f req/s)\n", cpu, cpu / 20, 20000 / cpu }'
stop_simulator
