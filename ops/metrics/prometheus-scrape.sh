#!/usr/bin/env bash
# A real Prometheus server scrapes a real `batch run --metrics-listen`, end to end on loopback.
#
#   ops/metrics/prometheus-scrape.sh [--keep] [--timeout SECONDS] [BATCH_BIN]
#
# Builds nothing: BATCH_BIN (argument or environment; default .build/debug/batch in the repo)
# must be a built `batch`. Needs Debian's `prometheus` package (ops/setup/install-deps.sh
# installs it).
#
# It starts `batch simulate` (200 ms answers), a `batch run` of 2,000 rows against it with
# --metrics-listen 127.0.0.1:0, and Prometheus with a throwaway config (scraping the run every
# second), its storage and its logs in a temporary folder, listening on a free loopback port.
# It waits until Prometheus' HTTP API answers /api/v1/query?query=batch_requests_total with a
# non-empty result, prints that answer, and stops exactly the processes it started (also on
# failure or Ctrl-C), removing the folder (kept with --keep). Exit 0 when Prometheus had the
# series within the timeout, 1 otherwise (the logs are printed then).
#
#   --keep            keep the temporary folder (ledger, Prometheus' config, data and logs)
#   --timeout SECONDS how long to wait for the series (default 60)
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

keep=0 timeout=60 bin_arg=""
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --timeout) shift; timeout=${1:?--timeout needs a number of seconds} ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "prometheus-scrape: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) bin_arg=$1 ;;
    esac
    shift
done

BATCH_BIN=${bin_arg:-${BATCH_BIN:-$ROOT/.build/debug/batch}}
# The script works in a folder of its own: a relative path is taken from where it was called.
case $BATCH_BIN in /*) ;; *) BATCH_BIN=$PWD/$BATCH_BIN ;; esac
RECIPE=$ROOT/recipes/nanochat-identity/recipe.json
if [ ! -x "$BATCH_BIN" ]; then
    echo "prometheus-scrape: no batch binary at $BATCH_BIN; build it first (swift build), or pass its path" >&2
    exit 1
fi
PROMETHEUS=$(command -v prometheus || true)
if [ -z "$PROMETHEUS" ]; then
    echo "prometheus-scrape: prometheus is not installed; run ops/setup/install-deps.sh (Debian: apt-get install prometheus)" >&2
    exit 1
fi
for tool in curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "prometheus-scrape: needs $tool" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/batch-prometheus.XXXXXX")
sim_pid="" run_pid="" prom_pid=""

# Stops what this script started, by pid, the run first (it finishes its requests in flight).
cleanup() {
    local pid
    for pid in "$run_pid" "$prom_pid" "$sim_pid"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "$run_pid" "$prom_pid" "$sim_pid"; do
        [ -n "$pid" ] || continue
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if (( keep )); then echo "prometheus-scrape: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "prometheus-scrape: $*" >&2
    for log in run.err prometheus.log simulate.err; do
        [ -s "$work/$log" ] && { echo "--- $log (last lines)" >&2; tail -n 20 "$work/$log" >&2; }
    done
    echo "prometheus-scrape: 0 passed, 1 failed"
    exit 1
}

# wait_for_line FILE PREFIX SECONDS: prints what follows PREFIX on the first line starting with it.
wait_for_line() {
    local file=$1 prefix=$2 line
    for _ in $(seq $(( $3 * 10 ))); do
        line=$(grep -m1 "^$prefix" "$file" 2>/dev/null) && { echo "${line#"$prefix"}"; return 0; }
        sleep 0.1
    done
    return 1
}

cd "$work" || exit 1

"$BATCH_BIN" simulate --port 0 --latency-ms 200 >simulate.out 2>simulate.err &
sim_pid=$!
sim_root=$(wait_for_line simulate.out "listening on " 10) || fail "batch simulate did not start"

"$BATCH_BIN" run --ledger run.db --recipe "$RECIPE" --num 2000 --concurrency 8 --base-url "$sim_root/v1" \
    --api-key-env BATCH_PROMETHEUS_NO_KEY --grace-period 2 --metrics-listen 127.0.0.1:0 >run.out 2>run.err &
run_pid=$!
metrics_url=$(wait_for_line run.err "batch: metrics on " 20) || fail "batch run did not print its metrics address"
target=${metrics_url#http://}
target=${target%/metrics}
echo "prometheus-scrape: batch run serves $metrics_url"

# A free loopback port for Prometheus' own web server: nothing accepts there now, and if
# something takes it before Prometheus does, Prometheus exits and another port is tried.
prom_port=""
for _ in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    cat >prometheus.yml <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: batch
    static_configs:
      - targets: ["$target"]
EOF
    "$PROMETHEUS" --config.file=prometheus.yml --storage.tsdb.path="$work/data" \
        --web.listen-address="127.0.0.1:$port" >prometheus.log 2>&1 &
    prom_pid=$!
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && { prom_port=$port; break; }
        kill -0 "$prom_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$prom_port" ] && break
    kill -TERM "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; prom_pid=""
done
[ -n "$prom_port" ] || fail "Prometheus did not start (see its log)"
echo "prometheus-scrape: Prometheus on http://127.0.0.1:$prom_port, scraping $target every second"

query="http://127.0.0.1:$prom_port/api/v1/query?query=batch_requests_total"
deadline=$(( SECONDS + timeout ))
answer=""
while (( SECONDS < deadline )); do
    kill -0 "$run_pid" 2>/dev/null || fail "batch run exited before Prometheus had its metrics"
    answer=$(curl -fsS "$query" 2>/dev/null) || answer=""
    case "$answer" in
        *'"status":"success"'*'"result":[{'*) break ;;
    esac
    answer=""
    sleep 0.5
done
[ -n "$answer" ] || fail "no batch_requests_total in Prometheus within $timeout s"

echo "prometheus-scrape: $query answered:"
echo "$answer"
echo "prometheus-scrape: 1 passed, 0 failed"
