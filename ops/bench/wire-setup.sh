# Sourced by the wire benchmarks (wire-ab.sh, wan-ramp.sh): `wire_start BIN WORK` starts
# `BIN simulate --latency-ms 300 --threads 1` and nginx in front of it (ops/tls/tls-proxy.sh)
# under WORK, and sets SIM_PID, H2 (the HTTP/2 root URL), CA (the CA file) and RECIPE, and
# writes WORK/body.json (the request body of index 0, for h2load). `wire_stop WORK` stops both.

wire_start() {
    local bin=$1 work=$2 port
    "$bin" simulate --port 0 --threads 1 --latency-ms 300 --seed 1 >"$work/sim.out" 2>"$work/sim.err" &
    SIM_PID=$!
    until grep -q '^listening on ' "$work/sim.out" 2>/dev/null; do
        kill -0 "$SIM_PID" 2>/dev/null || { cat "$work/sim.err" >&2; exit 70; }
        sleep 0.02
    done
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/sim.out" | head -1)
    "$ROOT/ops/tls/tls-proxy.sh" start "$work/tls" "$port" >"$work/tls.out"
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
