#!/usr/bin/env bash
# batch vs. nanochat's seed generator, side by side, against `batch simulate` on this machine.
#
# Usage: ops/bench/compare.sh [--quick] [--skip-build | --binary PATH] [--no-seed] [--only a,b,c,d,e,f,g,h,i] [SEED_SCRIPT_PATH]
#   SEED_SCRIPT_PATH defaults to ../shared/seed/gen_synthetic_data.py (relative to the repo root);
#   when it is absent the seed side is skipped with a message.
#   --quick       a few hundred rows per workload (CI); exits non-zero only on a gross regression:
#                 batch under 50% of ideal in (a)/(b), or any lost or duplicated batch row.
#   --skip-build  use the existing binary in $BENCH_SCRATCH (default .build-bench).
#   --binary PATH use this batch binary, no build (a release one: a debug build reached only
#                 35% of ideal in (b), under the quick form's 50% threshold).
#   --only        run only some workloads.
#   --no-seed     batch only (CI: the seed needs python3 with requests and python-dotenv).
# Environment: BENCH_SCRATCH (SwiftPM scratch path, default .build-bench), SIM_THREADS (simulator
# event-loop threads, default 1), BENCH_KEEP=1 keeps the work directory.
#
# Workloads:
#   (a) rows A_ROWS, concurrency 64, 200 ms fixed latency: batch and seed (64 workers)
#   (b) 20,000 rows, concurrency 1,024, 500 ms: batch and seed (1,024 workers, with a time limit)
#   (c) 10% faults (429/500/malformed, a third each), concurrency 16, 200 ms, vs. the clean run
#   (d) simulator --rpm 600, concurrency 64, 3 minutes of rows (batch --rpm 600); seed for contrast
#   (e) peak RSS at concurrency 1,024: 10k vs. 100k rows
#   (f) a 1,000,000-row ledger with 900,000 done: resume time to first request; export rows/s
#   (g) the real wire: HTTPS through nginx (ops/tls/tls-proxy.sh) in front of the simulator,
#       300 ms: HTTP/2 at 256 and 1,024 in flight, HTTP/1.1 at 256 (and 1,024 in the full form),
#       batch next to h2load (nghttp2's load generator) on the same wire, body and concurrency,
#       as ratios; peak RSS at 1,024 over HTTP/2 for 10k vs. 100k rows (full form). Needs nginx
#       and h2load (Debian: nginx-light, nghttp2-client).
#   (h) a self-hosted server that queues (`simulate --capacity 48 --service-ms 300`, no 429s):
#       batch --concurrency auto next to fixed 16 and 512 (rows/s as % of the capacity's 160/s,
#       median latency against the service time, timeouts); the capacity halving mid-run (time
#       until the window follows); a plain --latency-ms 300 server (time to grow to the maximum).
#   (i) `batch report` of a run with transport faults and flaws of the data (quick 5,000 rows,
#       full 100,000): seconds, CPU, peak RSS, size; its done rows against `status --json`.
# Each tool runs under /usr/bin/time -v against a fresh simulator on a free port.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

QUICK=0 BUILD=1 ONLY="a,b,c,d,e,f,g,h,i" SEED="" BIN="" NOSEED=0
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1 ;;
        --skip-build) BUILD=0 ;;
        --no-seed) NOSEED=1 ;;
        --binary) BIN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); BUILD=0; shift ;;
        --only) ONLY=$2; shift ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 64 ;;
        *) SEED=$1 ;;
    esac
    shift
done
[ -n "$SEED" ] || SEED="$ROOT/../shared/seed/gen_synthetic_data.py"
if [ $NOSEED = 1 ]; then
    echo "note: --no-seed: batch only" >&2
    SEED=""
elif [ ! -f "$SEED" ]; then
    echo "note: seed script not found at $SEED; skipping the seed side" >&2
    SEED=""
else
    SEED=$(cd "$(dirname "$SEED")" && pwd)/$(basename "$SEED")
fi
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

SCRATCH=${BENCH_SCRATCH:-.build-bench}
SIM_THREADS=${SIM_THREADS:-1}
RECIPE=recipes/nanochat-identity/recipe.json
KNOWLEDGE=recipes/nanochat-identity/knowledge.md

if [ ! -x /usr/bin/time ]; then
    echo "installing /usr/bin/time (package time)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time) >&2 || { echo "need /usr/bin/time" >&2; exit 69; }
fi
command -v curl >/dev/null || { echo "need curl" >&2; exit 69; }
command -v python3 >/dev/null || { echo "need python3" >&2; exit 69; }

if [ $BUILD = 1 ]; then
    echo "building release ($SCRATCH) ..." >&2
    swift build -c release --static-swift-stdlib --product batch --scratch-path "$SCRATCH" >&2 || exit 70
fi
[ -n "$BIN" ] || BIN="$ROOT/$SCRATCH/release/batch"
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 70; }

WORK=$(mktemp -d /tmp/batch-bench.XXXXXX)
SIM_PID=""
cleanup() {
    [ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
    [ -d "$WORK/tls" ] && "$ROOT/ops/tls/tls-proxy.sh" stop "$WORK/tls" 2>/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILURES=()
fail_gross() { FAILURES+=("$1"); echo "GROSS REGRESSION: $1" >&2; }

# ---------------------------------------------------------------------------------------------
# Simulator: start on a free port, wait for the ready line (polling its stdout file), stop.
start_sim() {
    local name=$1; shift
    "$BIN" simulate --port 0 --threads "$SIM_THREADS" --seed 1 "$@" >"$WORK/$name.sim.out" 2>"$WORK/$name.sim.err" &
    SIM_PID=$!
    local i=0
    until grep -q '^listening on ' "$WORK/$name.sim.out" 2>/dev/null; do
        if ! kill -0 "$SIM_PID" 2>/dev/null; then echo "simulator died:" >&2; cat "$WORK/$name.sim.err" >&2; exit 70; fi
        i=$((i + 1)); [ $i -gt 1500 ] && { echo "simulator not ready after 30 s" >&2; exit 70; }
        sleep 0.02
    done
    SIM_ROOT=$(sed -n 's/^listening on //p' "$WORK/$name.sim.out" | head -1)
    SIM_URL="$SIM_ROOT/v1"
}
# stop_sim also sets SIM_CPU: the simulator's user+sys CPU seconds (it shares the machine's cores).
stop_sim() {
    SIM_CPU=0
    if [ -n "$SIM_PID" ]; then
        SIM_CPU=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SIM_PID/stat" 2>/dev/null || echo 0)
        kill -TERM "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null
    fi
    SIM_PID=""
}
sim_note() { echo "simulator CPU during the $1 run: ${SIM_CPU} s (of $(nproc) cores x ${WALL} s wall)" >>"$WORK/notes"; }
flush_notes() { [ -s "$WORK/notes" ] && { echo; sed 's/^/- /' "$WORK/notes"; }; : >"$WORK/notes"; }
sim_stats() { curl -s --max-time 5 "$SIM_ROOT/stats"; }
# fast: the request count only (no python start), for tight polling loops
sim_requests() { local s; s=$(curl -s --max-time 5 "$SIM_ROOT/stats"); [[ $s =~ \"requests\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0; }
# jq-free extraction: sim_field JSON 'requests' or 'outcomes.rate_limited' (missing -> 0)
sim_field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    d=d.get(k,0) if isinstance(d,dict) else 0
print(d)' "$1" "$2"; }
sim_outcome_sum() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]).get("outcomes",{})
print(sum(v for k,v in d.items() if any(s in k for s in sys.argv[2].split(","))))' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# timed NAME cmd...: run under /usr/bin/time -v; sets WALL (s), CPU (user+sys s), RSS_MB, RC.
now() { date +%s.%N; }
timed() {
    local name=$1; shift
    local t0 t1
    t0=$(now)
    /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    RC=$?
    t1=$(now)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    CPU=$(awk -F': ' '/User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 } END { printf "%.2f", u + s }' "$WORK/$name.time")
    RSS_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$WORK/$name.time")
}

# run_batch NAME ROWS CONC [extra run args...]: sets WALL CPU RSS_MB RC EXPORTED UNIQUE DUP
run_batch() {
    local name=$1 rows=$2 conc=$3; shift 3
    rm -f "$WORK/$name.db"*
    timed "$name" "$BIN" run --ledger "$WORK/$name.db" --recipe "$RECIPE" --num "$rows" --concurrency "$conc" \
        --base-url "${RUN_URL:-$SIM_URL}" --api-key-env BATCH_BENCH_UNSET_KEY "$@"
    [ $RC = 0 ] || { echo "batch run $name exited $RC:" >&2; tail -5 "$WORK/$name.err" >&2; }
    "$BIN" export --ledger "$WORK/$name.db" --output "$WORK/$name.jsonl" --metadata "$WORK/$name.meta.jsonl" >/dev/null 2>"$WORK/$name.export.err" \
        || { echo "export $name failed:" >&2; cat "$WORK/$name.export.err" >&2; }
    EXPORTED=$(wc -l <"$WORK/$name.jsonl" 2>/dev/null || echo 0)
    UNIQUE=$(python3 -c 'import json,sys
s=set()
for l in open(sys.argv[1]):
    s.add(json.loads(l)["index"])
print(len(s))' "$WORK/$name.meta.jsonl" 2>/dev/null || echo 0)
    DUP=$((EXPORTED - UNIQUE))
    SUMMARY=$(grep -E '^[0-9]+ rows:' "$WORK/$name.err" | tail -1)
}

# run_seed NAME ROWS WORKERS [TIMEOUT_S]: sets WALL CPU RSS_MB RC EXPORTED (lines written)
SEED_COPY=""
run_seed() {
    local name=$1 rows=$2 workers=$3 limit=${4:-0}
    rm -rf "$WORK/$name.seed"
    SEED_COPY=$(ops/bench/seed-harness/prepare.sh "$SEED" "$KNOWLEDGE" "$SIM_URL" "$WORK/$name.seed") || exit 70
    local pre=()
    [ "$limit" != 0 ] && pre=(timeout -s INT "$limit")
    OPENROUTER_API_KEY=dummy timed "$name" "${pre[@]}" python3 "$SEED_COPY" --num "$rows" --workers "$workers" --output "$WORK/$name.jsonl"
    EXPORTED=$(wc -l <"$WORK/$name.jsonl" 2>/dev/null || echo 0)
    UNIQUE=$EXPORTED DUP="n/a"
}

# ---------------------------------------------------------------------------------------------
# Tables. ideal wall = ceil(rows / conc) * latency (full waves); ideal rows/s = rows / ideal wall.
TSV="$WORK/results.tsv"
: >"$TSV"
header() {
    echo
    echo "### $1"
    echo
    echo "| tool | rows | conc | wall s | rows/s | % of ideal | CPU-s / 1k rows | peak RSS MB | exported | lost | duplicated |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
}
# record WORKLOAD TOOL ROWS CONC LATENCY_S  (uses WALL CPU RSS_MB EXPORTED UNIQUE DUP); sets RPS PCT CPK
record() {
    local wl=$1 tool=$2 rows=$3 conc=$4 lat=$5
    read -r RPS PCT CPK LOST < <(awk -v n="$rows" -v c="$conc" -v l="$lat" -v w="$WALL" -v cpu="$CPU" -v u="$UNIQUE" 'BEGIN {
        waves = int((n + c - 1) / c); ideal = (l > 0) ? n / (waves * l) : 0
        rps = (w > 0) ? u / w : 0
        pct = (ideal > 0) ? sprintf("%.1f%%", 100 * rps / ideal) : "-"
        cpk = (u > 0) ? sprintf("%.3f", cpu * 1000 / u) : "-"
        printf "%.1f %s %s %d\n", rps, pct, cpk, n - u }')
    echo "| $tool | $rows | $conc | $WALL | $RPS | $PCT | $CPK | $RSS_MB | $EXPORTED | $LOST | $DUP |"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$tool" "$rows" "$WALL" "$RPS" "$PCT" "$CPK" "$RSS_MB" "$LOST" "$DUP" "$CPU" >>"$TSV"
}
# ratios WORKLOAD: batch/seed for rows/s, seed/batch for CPU per row and RSS
ratios() {
    awk -F'\t' -v wl="$1" '$1 == wl && $2 == "batch" { br = $5; bc = $7; bm = $8 } $1 == wl && $2 == "seed" { sr = $5; sc = $7; sm = $8 }
        END { if (br != "" && sr != "" && sr > 0 && bc > 0 && bm > 0)
            printf "\nratios: batch/seed rows/s = %.2fx; seed/batch CPU per row = %.1fx; seed/batch peak RSS = %.2fx\n", br / sr, sc / bc, sm / bm }' "$TSV"
}
check_ideal() { # gross-regression check in quick mode
    local what=$1 pct=${2%\%}
    awk -v p="$pct" 'BEGIN { exit !(p + 0 < 50) }' && fail_gross "$what: batch at $2 of ideal (< 50%)"
}
check_loss() {
    [ "$LOST" = 0 ] && [ "$DUP" = 0 ] || fail_gross "$1: batch lost $LOST, duplicated $DUP rows"
}

echo "# batch vs. seed — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; $(uname -sr)"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
echo "binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)); simulator threads: $SIM_THREADS; mode: $([ $QUICK = 1 ] && echo quick || echo full)"
echo "seed: ${SEED:-skipped}"

if [ $QUICK = 1 ]; then
    A_ROWS=320 B_ROWS=4096 C_ROWS=200 D_SECONDS=30 E_SMALL=2000 E_LARGE=10000 F_ROWS=20000 F_DONE=18000 I_ROWS=5000
    G_SPECS=${G_SPECS:-"h2:256:2048"}
    H_ROWS=1600 H_SPECS="auto:1024" H_DROP_ROWS=0 H_GROW_ROWS=0
else
    A_ROWS=2000 B_ROWS=20000 C_ROWS=1000 D_SECONDS=180 E_SMALL=10000 E_LARGE=100000 F_ROWS=1000000 F_DONE=900000 I_ROWS=100000
    G_SPECS=${G_SPECS:-"h2:256:10240 h2:1024:20480 h1:256:10240 h1:1024:20480 h2:1024:10240 h2:1024:102400"}
    H_ROWS=9600 H_SPECS="auto:1024 16 512" H_DROP_ROWS=9600 H_GROW_ROWS=20480
fi

# (a) ------------------------------------------------------------------------------------------
if want a; then
    header "(a) $A_ROWS rows, concurrency 64, latency 200 ms (ideal $(awk -v n=$A_ROWS 'BEGIN { printf "%.1f", n / (int((n + 63) / 64) * 0.2) }') rows/s)"
    start_sim a-batch --latency-ms 200
    run_batch a-batch "$A_ROWS" 64
    stop_sim; sim_note batch
    record a batch "$A_ROWS" 64 0.2
    [ $QUICK = 1 ] && { check_ideal "(a)" "$PCT"; check_loss "(a)"; }
    if [ -n "$SEED" ]; then
        start_sim a-seed --latency-ms 200
        run_seed a-seed "$A_ROWS" 64
        stop_sim; sim_note seed
        record a seed "$A_ROWS" 64 0.2
    fi
    ratios a
    flush_notes
fi

# (b) ------------------------------------------------------------------------------------------
if want b; then
    header "(b) $B_ROWS rows, concurrency 1,024, latency 500 ms (ideal $(awk -v n=$B_ROWS 'BEGIN { printf "%.1f", n / (int((n + 1023) / 1024) * 0.5) }') rows/s)"
    start_sim b-batch --latency-ms 500
    run_batch b-batch "$B_ROWS" 1024
    stop_sim; sim_note batch
    record b batch "$B_ROWS" 1024 0.5
    [ $QUICK = 1 ] && { check_ideal "(b)" "$PCT"; check_loss "(b)"; }
    if [ -n "$SEED" ]; then
        start_sim b-seed --latency-ms 500
        run_seed b-seed "$B_ROWS" 1024 600
        stop_sim; sim_note seed
        record b seed "$B_ROWS" 1024 0.5
        [ $RC = 124 ] || [ $RC = 130 ] && echo "(seed stopped by the 600 s time limit)"
        grep -c '^\[ERROR\]' "$WORK/b-seed.out" | sed 's/^/seed errors: /'
    fi
    ratios b
    flush_notes
fi

# (c) ------------------------------------------------------------------------------------------
if want c; then
    header "(c) $C_ROWS rows, concurrency 16, latency 200 ms: clean vs. 10% faults (429/500/malformed, 3.33% each)"
    FAULTS=(--fail-429 0.0334 --fail-500 0.0333 --fail-malformed 0.0333)
    start_sim c-batch-clean --latency-ms 200
    run_batch c-batch-clean "$C_ROWS" 16
    stop_sim
    record c-clean batch "$C_ROWS" 16 0.2 | sed 's/^| batch /| batch, clean /'
    clean_wall=$WALL
    start_sim c-batch-faults --latency-ms 200 "${FAULTS[@]}"
    run_batch c-batch-faults "$C_ROWS" 16
    st=$(sim_stats)
    stop_sim
    record c-faults batch "$C_ROWS" 16 0.2 | sed 's/^| batch /| batch, 10% faults /'
    [ $QUICK = 1 ] && check_loss "(c)"
    fault_wall=$WALL
    fault_summary=$SUMMARY
    # Where the extra time goes: ~12% more requests, then the rows that fail last wait out their
    # Retry-After (1 s from the simulator) or backoff (0.5 s ceiling, doubling) at the very end.
    p99=$(python3 - "$WORK/c-batch-faults.meta.jsonl" "$WORK/c-batch-faults.db" <<'PY' 2>/dev/null
import sqlite3, sys
db = sqlite3.connect(sys.argv[2])
t = sorted(r[0] for r in db.execute("select finished_at_ms from results"))
s = min(r[0] for r in db.execute("select started_at_ms from attempts"))
print("%.1f s for 99%% of rows, %.1f s for all" % ((t[int(len(t) * 0.99) - 1] - s) / 1000, (t[-1] - s) / 1000))
PY
)
    echo "simulator: $st" >"$WORK/c.stats"
    batch_fault_ratio=$(awk -v a="$fault_wall" -v b="$clean_wall" 'BEGIN { printf "%.2f", a / b }')
    if [ -n "$SEED" ]; then
        start_sim c-seed-clean --latency-ms 200
        run_seed c-seed-clean "$C_ROWS" 16
        stop_sim
        record c-clean seed "$C_ROWS" 16 0.2 | sed 's/^| seed /| seed, clean /'
        seed_clean=$WALL
        start_sim c-seed-faults --latency-ms 200 "${FAULTS[@]}"
        run_seed c-seed-faults "$C_ROWS" 16
        stop_sim
        record c-faults seed "$C_ROWS" 16 0.2 | sed 's/^| seed /| seed, 10% faults /'
        echo
        echo "seed: faulted/clean wall = $(awk -v a="$WALL" -v b="$seed_clean" 'BEGIN { printf "%.2f", a / b }')x"
    fi
    echo
    echo "batch: faulted/clean wall = ${batch_fault_ratio}x (target <= 1.25x)"
    echo "batch, faulted: first request to last completion: ${p99:-?}"
    echo "simulator during the faulted batch run: $st"
    echo "batch summary: $fault_summary"
fi

# (d) ------------------------------------------------------------------------------------------
if want d; then
    D_ROWS=$((D_SECONDS * 10))
    echo
    echo "### (d) simulator --rpm 600, concurrency 64, latency 200 ms, $D_ROWS rows (~$D_SECONDS s at 600/min)"
    echo
    echo "| tool | rows | wall s | requests | requests/min | rows/min | % of 600/min (rows) | 429s | 429 share | lost |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for tool in batch seed; do
        [ $tool = seed ] && [ -z "$SEED" ] && continue
        start_sim d-$tool --latency-ms 200 --rpm 600
        if [ $tool = batch ]; then run_batch d-$tool "$D_ROWS" 64 --rpm 600; else run_seed d-$tool "$D_ROWS" 64; fi
        st=$(sim_stats)
        stop_sim
        req=$(sim_field "$st" requests)
        r429=$(sim_outcome_sum "$st" "429,rate")
        awk -v t=$tool -v n="$D_ROWS" -v w="$WALL" -v q="$req" -v r="$r429" -v u="$UNIQUE" 'BEGIN {
            printf "| %s | %d | %.1f | %d | %.1f | %.1f | %.1f%% | %d | %.2f%% | %d |\n", t, n, w, q, q * 60 / w, u * 60 / w, 100 * (u * 60 / w) / 600, r, (q > 0 ? 100 * r / q : 0), n - u }'
        echo "$tool simulator stats: $st" >>"$WORK/d.stats"
        [ $tool = batch ] && [ $QUICK = 1 ] && { LOST=$((D_ROWS - UNIQUE)); check_loss "(d)"; }
    done
    echo
    sed 's/^/    /' "$WORK/d.stats"
fi

# (e) ------------------------------------------------------------------------------------------
if want e; then
    header "(e) peak memory at concurrency 1,024, latency 500 ms: $E_SMALL vs. $E_LARGE rows"
    for n in $E_SMALL $E_LARGE; do
        start_sim e-$n --latency-ms 500
        run_batch e-$n "$n" 1024
        stop_sim
        record e batch "$n" 1024 0.5
        [ $QUICK = 1 ] && check_loss "(e)"
        echo "$RSS_MB" >"$WORK/e-$n.rss"
    done
    echo
    echo "peak RSS: $(cat "$WORK/e-$E_SMALL.rss") MB at $E_SMALL rows, $(cat "$WORK/e-$E_LARGE.rss") MB at $E_LARGE rows"
fi

# (f) ------------------------------------------------------------------------------------------
if want f; then
    echo
    echo "### (f) $F_ROWS-row ledger, ~$F_DONE done: resume start to first request; export rows/s"
    echo
    # Build the ledger with a real run against a zero-latency simulator, interrupted (SIGINT) once
    # the simulator has answered F_DONE requests. (`batch bench ledger --keep` makes a ledger with a
    # placeholder recipe snapshot "{}" that `batch resume` cannot use.)
    start_sim f-build --latency-ms 0
    t0=$(now)
    "$BIN" run --ledger "$WORK/f.db" --recipe "$RECIPE" --num "$F_ROWS" --concurrency 64 \
        --base-url "$SIM_URL" --api-key-env BATCH_BENCH_UNSET_KEY >"$WORK/f-build.out" 2>"$WORK/f-build.err" &
    run_pid=$!
    while kill -0 $run_pid 2>/dev/null; do
        req=$(sim_requests)
        [ "${req:-0}" -ge "$F_DONE" ] && { kill -INT $run_pid; break; }
        sleep 0.2
    done
    wait $run_pid
    t1=$(now)
    stop_sim
    build_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    status=$("$BIN" status --ledger "$WORK/f.db" --json 2>/dev/null)
    done_n=$(sim_field "$status" done)
    pending_n=$(sim_field "$status" pending)
    echo "ledger built by an interrupted real run in ${build_s} s: done $done_n, pending $pending_n; $(du -m "$WORK/f.db" | cut -f1) MB"
    echo

    # export
    timed f-export "$BIN" export --ledger "$WORK/f.db" --output "$WORK/f.jsonl"
    exported=$(wc -l <"$WORK/f.jsonl")
    export_rps=$(awk -v n="$exported" -v w="$WALL" 'BEGIN { printf "%.0f", n / w }')
    echo "| measure | value | target |"
    echo "|---|---:|---|"
    echo "| export: rows | $exported | |"
    echo "| export: wall s | $WALL | |"
    echo "| export: rows/s | $export_rps | >= 200,000 |"
    echo "| export: CPU s / peak RSS MB | $CPU / $RSS_MB | |"

    # resume: time from process start until the simulator sees its first request
    start_sim f-resume --latency-ms 200
    t0=$(now)
    "$BIN" resume --ledger "$WORK/f.db" --base-url "$SIM_URL" --api-key-env BATCH_BENCH_UNSET_KEY >"$WORK/f-resume.out" 2>"$WORK/f-resume.err" &
    run_pid=$!
    first=""
    while kill -0 $run_pid 2>/dev/null; do
        req=$(sim_requests)
        if [ "${req:-0}" -gt 0 ]; then first=$(now); break; fi
        sleep 0.002
    done
    kill -INT $run_pid 2>/dev/null; wait $run_pid
    stop_sim
    if [ -n "$first" ]; then
        resume_s=$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.3f", b - a }')
    else
        resume_s="never (resume exited: $(tail -1 "$WORK/f-resume.err"))"
    fi
    echo "| resume: process start to first request at the simulator, s | $resume_s | < 1 |"
    echo
    echo "(polled with curl every ~5 ms; the figure includes up to one poll interval)"
    if [ $QUICK = 1 ] && [ -z "$first" ]; then fail_gross "(f): resume never sent a request"; fi
fi

# (g) ------------------------------------------------------------------------------------------
if want g; then
    echo
    echo "### (g) the real wire: HTTPS through nginx, latency 300 ms, batch vs. h2load (same wire, body, concurrency)"
    if ! command -v nginx >/dev/null || ! command -v h2load >/dev/null; then
        echo
        echo "skipped: needs nginx and h2load (apt-get install nginx-light nghttp2-client)"
        [ $QUICK = 1 ] && fail_gross "(g): nginx or h2load missing"
    else
        start_sim g --latency-ms 300
        sim_port=${SIM_ROOT##*:}
        "$ROOT/ops/tls/tls-proxy.sh" start "$WORK/tls" "$sim_port" >"$WORK/tls.out" || exit 70
        H2_ROOT=$(sed -n 's/^h2 //p' "$WORK/tls.out"); H1_ROOT=$(sed -n 's/^h1 //p' "$WORK/tls.out"); CA=$(sed -n 's/^ca //p' "$WORK/tls.out")
        # The request body of index 0, as batch sends it (12 KB: the knowledge base is in the prompt).
        "$BIN" preview --recipe "$RECIPE" --index 0 --json | python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.readline())["payload"], separators=(",", ":")))' >"$WORK/body.json"
        echo
        echo "request body: $(wc -c <"$WORK/body.json") bytes; nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(h2load --version 2>/dev/null | head -1)"
        echo
        echo "| wire | in flight | tool | rows | wall s | rows/s | % of ideal | CPU-s / 1k rows | peak RSS MB | lost | duplicated |"
        echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        for spec in $G_SPECS; do
            IFS=: read -r proto conc rows <<<"$spec"
            if [ "$proto" = h2 ]; then root=$H2_ROOT; extra=(); h2l=(-c $(( (conc + 63) / 64 )) -m 64); label="HTTPS HTTP/2"
            else root=$H1_ROOT; extra=(--http1.1); h2l=(--h1 -c "$conc" -m 1); label="HTTPS HTTP/1.1"; fi
            # h2load: the reference client
            timed "g-$spec-h2load" h2load -n "$rows" "${h2l[@]}" -H 'content-type: application/json' -H 'authorization: Bearer bench' \
                --data="$WORK/body.json" "$root/v1/chat/completions"
            ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$WORK/g-$spec-h2load.out")
            UNIQUE=${ok:-0} EXPORTED=${ok:-0} DUP="n/a"
            record "g-$spec" h2load "$rows" "$conc" 0.3 >/dev/null
            echo "| $label | $conc | h2load | $rows | $WALL | $RPS | $PCT | $CPK | $RSS_MB | $LOST | n/a |"
            # batch
            RUN_URL="$root/v1" run_batch "g-$spec-batch" "$rows" "$conc" --ca-cert "$CA" "${extra[@]}"
            record "g-$spec" batch "$rows" "$conc" 0.3 >/dev/null
            echo "| $label | $conc | batch | $rows | $WALL | $RPS | $PCT | $CPK | $RSS_MB | $LOST | $DUP |"
            [ "$RC" = 0 ] || fail_gross "(g) $label $conc: batch exited $RC (a crash is 134 or 139)"
            check_loss "(g) $label $conc"
            awk -F'\t' -v wl="g-$spec" '$1 == wl && $2 == "batch" { br = $5; bc = $7; bm = $8 } $1 == wl && $2 == "h2load" { hr = $5; hc = $7; hm = $8 }
                END { if (hr > 0) printf "%s\t%.1f%%\t%s\t%s\t%s\t%s\t%s\t%s\n", wl, 100 * br / hr, br, hr, bc, hc, bm, hm }' "$TSV" >>"$WORK/g.ratios"
        done
        stop_sim
        "$ROOT/ops/tls/tls-proxy.sh" stop "$WORK/tls"
        echo
        echo "| workload | batch rows/s as % of h2load's | batch rows/s | h2load req/s | batch CPU-s/1k | h2load CPU-s/1k | batch RSS MB | h2load RSS MB |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$WORK/g.ratios"
    fi
fi

# (h) ------------------------------------------------------------------------------------------
# ledger_stats DB SINCE_S: median attempt latency (ms), timeouts, rows/s of rows finished from
# SINCE_S seconds after the first request to the last, and the window log ("size:reason@s" ...).
ledger_stats() { python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); since = float(sys.argv[2])
lat = sorted(r[0] for r in db.execute("SELECT ended_at_ms - started_at_ms FROM attempts"))
t0 = db.execute("SELECT MIN(started_at_ms) FROM attempts").fetchone()[0] or 0
timeouts = db.execute("SELECT COUNT(*) FROM attempts WHERE error_kind = 'timeout'").fetchone()[0]
fin = [r[0] for r in db.execute("SELECT finished_at_ms FROM results ORDER BY finished_at_ms")]
late = [f for f in fin if f >= t0 + since * 1000]
rate = (len(late) - 1) / ((late[-1] - late[0]) / 1000) if len(late) > 1 and late[-1] > late[0] else 0
try:
    log = " ".join(f"{s}:{r}@{(t - t0) / 1000:.1f}" for t, s, r in db.execute("SELECT at_ms, size, reason FROM window_changes ORDER BY id"))
except sqlite3.OperationalError:
    log = ""
print(lat[len(lat) // 2] if lat else 0, timeouts, f"{rate:.1f}", log)
PY
}
if want h; then
    echo
    echo "### (h) a self-hosted server that queues: --capacity 48 --service-ms 300 (160 rows/s at most), no 429s"
    echo
    echo "| concurrency | rows | wall s | rows/s | % of 160/s | rows/s after 10 s | % of 160/s | median latency ms | x service | timeouts | final window | lost | duplicated |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for spec in $H_SPECS; do
        start_sim "h-$spec" --capacity 48 --service-ms 300
        case $spec in auto*) conc=$spec ;; *) conc=$spec ;; esac
        run_batch "h-${spec//:/-}" "$H_ROWS" "$conc"
        stop_sim
        read -r median timeouts late_rps wlog <<<"$(ledger_stats "$WORK/h-${spec//:/-}.db" 10)"
        rps=$(awk -v n="$EXPORTED" -v w="$WALL" 'BEGIN { printf "%.1f", n / w }')
        final=$(echo "$wlog" | awk '{ print $NF }' | cut -d@ -f1)
        LOST=$((H_ROWS - UNIQUE))
        echo "| $spec | $H_ROWS | $WALL | $rps | $(awk -v r="$rps" 'BEGIN { printf "%.1f%%", 100 * r / 160 }') | $late_rps | $(awk -v r="$late_rps" 'BEGIN { printf "%.1f%%", 100 * r / 160 }') | $median | $(awk -v m="$median" 'BEGIN { printf "%.2f", m / 300 }') | $timeouts | ${final:--} | $LOST | $DUP |"
        [ -n "$wlog" ] && echo "window log ($spec): $(echo "$wlog" | cut -c1-400)" >>"$WORK/notes"
        check_loss "(h) $spec"
        if [ $QUICK = 1 ] && awk -v r="$rps" 'BEGIN { exit !(r < 80) }'; then fail_gross "(h) $spec: $rps rows/s, under 50% of the capacity's 160/s"; fi
    done
    flush_notes
    if [ "$H_DROP_ROWS" -gt 0 ]; then
        echo
        echo "The capacity halves 30 s into the run (--capacity 0:48,30:24), --concurrency auto:"
        start_sim h-drop --capacity 0:48,30:24 --service-ms 300
        run_batch h-drop "$H_DROP_ROWS" auto
        stop_sim
        read -r median timeouts late_rps wlog <<<"$(ledger_stats "$WORK/h-drop.db" 40)"
        follow=$(echo "$wlog" | tr ' ' '\n' | awk -F'[:@]' '$3 > 30 && $1 <= 34 { printf "%.1f", $3 - 30; exit }')
        echo
        echo "- window after the drop first at or under 34 (24 + a short queue): ${follow:-never} s after it; rows/s after 40 s: $late_rps (capacity 80/s); timeouts: $timeouts; lost $((H_DROP_ROWS - UNIQUE)), duplicated $DUP"
        echo "- window log: $(echo "$wlog" | cut -c1-600)"
        check_loss "(h) drop"
    fi
    if [ "$H_GROW_ROWS" -gt 0 ]; then
        echo
        echo "A plain --latency-ms 300 server (no capacity limit), --concurrency auto (maximum 1,024):"
        start_sim h-grow --latency-ms 300
        run_batch h-grow "$H_GROW_ROWS" auto
        stop_sim
        read -r median timeouts late_rps wlog <<<"$(ledger_stats "$WORK/h-grow.db" 10)"
        reached=$(echo "$wlog" | tr ' ' '\n' | awk -F'[:@]' '$1 >= 1024 { print $3; exit }')
        echo
        echo "- reached 1,024 in flight ${reached:+after }${reached:-never}${reached:+ s}; rows/s after 10 s: $late_rps (ideal 3,413); median latency $median ms; lost $((H_GROW_ROWS - UNIQUE)), duplicated $DUP"
        echo "- window log: $(echo "$wlog" | cut -c1-300)"
        check_loss "(h) grow"
    fi
fi

# (i) ------------------------------------------------------------------------------------------
if want i; then
    echo
    echo "### (i) batch report of a $I_ROWS-row run with faults: seconds and peak RSS"
    echo
    # Varied answers with flaws of the data (so every quality check has work), transport faults
    # (so every chart of the run has data), no latency: the run is only there to fill a ledger.
    start_sim i-build --latency-ms 0 --varied --data-duplicate 0.01 --data-near-duplicate 0.01 --data-wrong-shape 0.02 \
        --data-non-ascii 0.01 --data-off-style 0.01 --fail-429 0.01 --retry-after 0 --fail-500 0.02 --fail-malformed 0.01
    run_batch i-build "$I_ROWS" 256 --backoff-base 0.01 --backoff-cap 0.1
    injected=$(sim_stats)
    stop_sim
    echo "ledger filled by a real run in ${WALL} s: $SUMMARY; $(du -m "$WORK/i-build.db" | cut -f1) MB"
    timed i-report "$BIN" report --ledger "$WORK/i-build.db" --output "$WORK/i-report.html"
    done_report=$(sed -n 's/.*data-key="done">\([0-9]*\)<.*/\1/p' "$WORK/i-report.html" | head -1)
    done_status=$(sim_field "$("$BIN" status --ledger "$WORK/i-build.db" --json 2>/dev/null)" done)
    echo
    echo "| measure | value | target |"
    echo "|---|---:|---|"
    echo "| report: wall s | $WALL | < 10 at 100,000 rows |"
    echo "| report: CPU s / peak RSS MB | $CPU / $RSS_MB | |"
    echo "| report: size KB | $(( $(wc -c <"$WORK/i-report.html") / 1024 )) | |"
    echo "| done rows: report / status | ${done_report:-none} / $done_status | equal |"
    echo
    echo "- $(tail -1 "$WORK/i-report.err")"
    echo "- injected by the simulator: $(sim_field "$injected" data_faults)"
    if [ $QUICK = 1 ] && { [ $RC != 0 ] || [ "${done_report:-x}" != "$done_status" ]; }; then
        fail_gross "(i): report exited $RC or its done rows (${done_report:-none}) differ from status ($done_status)"
    fi
fi

echo
echo "load after: $(uptime | sed 's/.*load average/load average/')"
if [ ${#FAILURES[@]} -gt 0 ]; then
    echo
    echo "GROSS REGRESSIONS:"; printf -- '- %s\n' "${FAILURES[@]}"
    [ $QUICK = 1 ] && exit 1
fi
exit 0
