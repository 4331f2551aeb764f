#!/usr/bin/env bash
# Two batch binaries and h2load in alternation on one HTTPS HTTP/2 wire: the A/B behind the
# session notes of BENCHMARKS.md on issue #18. On a shared, noisy machine one run of each says
# little; rounds that alternate say whether a change moved the ratio.
#
# Usage: ops/bench/wire-ab.sh BEFORE_BIN AFTER_BIN [ROWS (20480)] [ROUNDS (4)] [IN_FLIGHT (1024)]
#   Starts `batch simulate --latency-ms 300 --threads 1` and nginx in front of it
#   (ops/tls/tls-proxy.sh), then per round: h2load (-c IN_FLIGHT/64 -m 64, the body of index 0),
#   BEFORE, AFTER. Prints each one's wall time, the ratio to that round's h2load, and the mean
#   and longest latency of the first 300 ms of requests (from the ledger: `sqlite3` must be installed).
#   Drop the page cache first when peak RSS matters (see BENCHMARKS.md, session 8).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BEFORE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
AFTER=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
ROWS=${3:-20480} ROUNDS=${4:-4} CONC=${5:-1024}
for tool in nginx h2load sqlite3; do
    command -v "$tool" >/dev/null || { echo "wire-ab: needs $tool (Debian: nginx-light, nghttp2-client, sqlite3)" >&2; exit 69; }
done
WORK=$(mktemp -d)
. "$ROOT/ops/bench/wire-setup.sh"
cleanup() { wire_stop "$WORK"; rm -rf "$WORK"; }
trap cleanup EXIT
wire_start "$AFTER" "$WORK"

echo "rows $ROWS, $CONC in flight, HTTPS HTTP/2 through nginx, 300 ms; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    wire_h2load "$H2" "$ROWS" "$CONC" "$WORK"
    reference=$REFERENCE_MS
    echo "round $round h2load wall=${reference} ms"
    for side in before after; do
        bin=$BEFORE; [ $side = after ] && bin=$AFTER
        wire_batch "$bin" "$H2" "$ROWS" "$CONC" "$WORK"
        echo "round $round $side wall=${BATCH_MS} ms ratio=$(awk -v r="$reference" -v w="$BATCH_MS" 'BEGIN { printf "%.1f%%", 100 * r / w }') first-wave=${FIRST_WAVE}"
    done
done
