# Sourced by the wire benchmarks (wire-ab.sh, wan-ramp.sh, stream-limit.sh):
# `wire_start BIN WORK [TLS_PROXY_OPTION...]` starts `BIN simulate --latency-ms 300 --threads 1`
# and nginx in front of it (ops/tls/tls-proxy.sh, given the options) under WORK, and sets
# SIM_PID, H2 (the HTTP/2 root URL), CA (the CA file) and RECIPE, and writes WORK/body.json (the
# request body of index 0, for h2load). `wire_stop WORK` stops both.
# `wire_h2load ROOT_URL ROWS IN_FLIGHT WORK` runs h2load there (IN_FLIGHT/64 connections of 64
# streams, output in WORK/h2load.out) and sets REFERENCE_MS to its wall time.
# `wire_batch BIN ROOT_URL ROWS IN_FLIGHT WORK` runs `BIN run` there on a new ledger WORK/wire.db
# and sets BATCH_EXIT to its exit code, BATCH_MS to its wall time and FIRST_WAVE to the mean and
# longest latency of the requests sent in its first 300 ms (from the ledger: needs `sqlite3`).

wire_start() {
    local bin=$1 work=$2 port
    shift 2
    "$bin" simulate --port 0 --threads 1 --latency-ms 300 --seed 1 >"$work/sim.out" 2>"$work/sim.err" &
    SIM_PID=$!
    until grep -q '^listening on ' "$work/sim.out" 2>/dev/null; do
        kill -0 "$SIM_PID" 2>/dev/null || { cat "$work/sim.err" >&2; exit 70; }
        sleep 0.02
    done
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/sim.out" | head -1)
    "$ROOT/ops/tls/tls-proxy.sh" start "$work/tls" "$port" "$@" >"$work/tls.out"
    H2=$(sed -n 's/^h2 //p' "$work/tls.out"); CA=$(sed -n 's/^ca //p' "$work/tls.out")
    RECIPE="$ROOT/recipes/nanochat-identity/recipe.json"
    "$bin" preview --recipe "$RECIPE" --index 0 --json \
        | python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.readline())["payload"], separators=(",", ":")))' >"$work/body.json"
}

wire_stop() {
    "$ROOT/ops/tls/tls-proxy.sh" stop "$1/tls" >/dev/null 2>&1 || true
    [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null
    return 0
}

now_ms() { date +%s%3N; }

wire_h2load() {
    local t0
    t0=$(now_ms)
    h2load -n "$2" -c $(( ($3 + 63) / 64 )) -m 64 -H 'content-type: application/json' -H 'authorization: Bearer bench' \
        --data="$4/body.json" "$1/v1/chat/completions" >"$4/h2load.out" 2>&1
    REFERENCE_MS=$(( $(now_ms) - t0 ))
}

wire_batch() {
    local bin=$1 url=$2 rows=$3 conc=$4 work=$5 t0
    rm -f "$work/wire.db"*
    t0=$(now_ms)
    BATCH_EXIT=0
    (cd "$ROOT" && "$bin" run --ledger "$work/wire.db" --recipe "$RECIPE" --num "$rows" --concurrency "$conc" \
        --base-url "$url/v1" --ca-cert "$CA" --api-key-env BATCH_WIRE_BENCH_UNSET >/dev/null 2>"$work/run.err") \
        || { BATCH_EXIT=$?; echo "$bin exited $BATCH_EXIT:" >&2; tail -3 "$work/run.err" >&2; }
    BATCH_MS=$(( $(now_ms) - t0 ))
    FIRST_WAVE=$(sqlite3 "$work/wire.db" "select cast(avg(ended_at_ms - started_at_ms) as int) || ' ms mean, '
        || max(ended_at_ms - started_at_ms) || ' ms longest' from attempts
        where started_at_ms < (select min(started_at_ms) + 300 from attempts)")
}
