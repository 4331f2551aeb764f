#!/usr/bin/env bash
# Connections opened against a server that allows few HTTP/2 streams per connection (nginx
# `http2_max_concurrent_streams`): batch learns the limit and paces its connections
# (ConnectionRamp, ConnectionLoads). Behind the session-11 numbers of BENCHMARKS.md on issue
# #18; not run by CI (the tests check the same at 400 requests: TLSTransportTests).
#
# Usage: ops/bench/stream-limit.sh BATCH_BIN [STREAMS (4)] [ROWS (4096)] [ROUNDS (2)] [IN_FLIGHT (1024)] [OTHER_BATCH_BIN]
#   Per round: BATCH_BIN, and OTHER_BATCH_BIN if given, each on a new ledger through nginx
#   allowing STREAMS streams per connection. Prints each run's exit code, wall time, the
#   connections nginx saw (its access log), the HTTP statuses it answered, and the attempts in
#   the ledger (`sqlite3` must be installed). IN_FLIGHT/STREAMS connections would do.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
BIN=$(abs "$1"); STREAMS=${2:-4} ROWS=${3:-4096} ROUNDS=${4:-2} CONC=${5:-1024}
OTHER=${6:+$(abs "$6")}
for tool in nginx sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "stream-limit: needs $tool (Debian: nginx-light, sqlite3, python3)" >&2; exit 69; }
done
WORK=$(mktemp -d)
. "$ROOT/ops/bench/wire-setup.sh"
trap 'wire_stop "$WORK"; rm -rf "$WORK"' EXIT
wire_start "$BIN" "$WORK" --access-log --max-streams "$STREAMS"

echo "rows $ROWS, $CONC in flight, HTTPS HTTP/2 through nginx allowing $STREAMS streams per connection, 300 ms; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    for bin in "$BIN" ${OTHER:+"$OTHER"}; do
        : >"$WORK/tls/access.log"
        wire_batch "$bin" "$H2" "$ROWS" "$CONC" "$WORK"
        # nginx writes its access log as requests end; the last lines are there once the run exits.
        connections=$(awk '{print $3}' "$WORK/tls/access.log" | sort -u | wc -l)
        statuses=$(awk '{print $2}' "$WORK/tls/access.log" | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
        attempts=$(sqlite3 "$WORK/wire.db" "select count(*) from attempts")
        echo "round $round $bin: exit $BATCH_EXIT, wall $BATCH_MS ms, $connections connections, statuses $statuses, $attempts attempts"
    done
done
