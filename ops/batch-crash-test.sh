#!/usr/bin/env bash
# --mode batch under kill -9: a run through the simulator's Batch API, killed with SIGKILL at
# random moments (creates included: each create is answered 300 ms after its batch was made;
# with the OpenAI API, idempotency keys are ignored as OpenAI does, so lost creates are found by listing)
# and resumed each time, must export every index exactly once and pay for no row twice: the
# simulator's own count of billed answers equals the rows done.
#
#   ops/batch-crash-test.sh [--rows N] [--kills K] [--api openai|openrouter] [BATCH_BIN]
#
# Defaults: 20,000 rows, 10 kills, the OpenAI file API, .build/debug/batch. Prints one line of
# numbers and `batch-crash: passed` (exit 0) or what failed (exit 1).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=20000 KILLS=10 API=openai BIN=""
while (( $# )); do
    case "$1" in
        --rows) ROWS=$2; shift ;;
        --kills) KILLS=$2; shift ;;
        --api) API=$2; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) BIN=$1 ;;
    esac
    shift
done
BIN=${BIN:-$ROOT/.build/debug/batch}
[[ -x "$BIN" ]] || { echo "no batch executable at $BIN (swift build first)" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/batch-crash.XXXXXX")
SIM_PID=""
cleanup() { [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" simulate --port 0 --seed 7 --batch-turnaround-ms 1500 --batch-create-delay-ms 300 $([[ $API == openai ]] && echo --batch-no-idempotency) \
    --batch-request-errors 0.02 --batch-expire 0.1 --batch-fail 0.02 --batch-create-429 0.1 --batch-poll-500 0.05 \
    >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
ROOT_URL=$(sed -n 's/^listening on //p' "$WORK/sim.out")
[[ -n "$ROOT_URL" ]] || { echo "the simulator did not start: $(cat "$WORK/sim.err")" >&2; exit 1; }

LEDGER=$WORK/run.db
args=(run --ledger "$LEDGER" --recipe "$ROOT/recipes/nanochat-identity/recipe.json" --num "$ROWS" --mode batch
      --batch-api "$API" --batch-size 1000 --batches-open 4 --poll-interval 0.2 --max-attempts 50 --base-url "$ROOT_URL/v1")
kills=0 start=$(date +%s.%N)
RANDOM=7
while (( kills < KILLS )); do
    "$BIN" "${args[@]}" >>"$WORK/run.log" 2>&1 &
    pid=$!
    sleep "0.$(( RANDOM % 10 ))$(( RANDOM % 10 ))"   # the kill's moment: 0 to 1 s in
    sleep $(( RANDOM % 3 ))
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; break; }
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    kills=$(( kills + 1 ))
    [[ -e "$LEDGER" ]] && args=(resume --ledger "$LEDGER")
done
"$BIN" resume --ledger "$LEDGER" >>"$WORK/run.log" 2>&1 || { echo "the last resume failed:"; tail -5 "$WORK/run.log"; exit 1; }
wall=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
"$BIN" export --ledger "$LEDGER" --output "$WORK/out.jsonl" --metadata "$WORK/meta.jsonl" >/dev/null 2>&1 || { echo "export failed"; exit 1; }
"$BIN" status --ledger "$LEDGER" --json >"$WORK/status.json"
curl -s "$ROOT_URL/stats" >"$WORK/stats.json"
python3 - "$ROWS" "$kills" "$wall" "$WORK" <<'EOF'
import json, sys
rows, kills, wall, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
status, stats = json.load(open(f"{work}/status.json")), json.load(open(f"{work}/stats.json"))
indices = [json.loads(l)["index"] for l in open(f"{work}/meta.jsonl")]
errors = []
if sorted(indices) != list(range(rows)) or len(indices) != rows:
    errors.append(f"the export holds {len(indices)} lines, {len(set(indices))} distinct indices, not 0..{rows - 1} once each")
billed, done, failed = stats["batch_billed_requests"], status["done"], status["failed"]
if billed != done + failed:
    errors.append(f"the provider billed {billed} answers for {done} done + {failed} failed rows")
if abs(stats["billed"] - status["cost"]) > 1e-6:
    errors.append(f"the ledger's cost {status['cost']:.4f} is not the provider's bill {stats['billed']:.4f}")
adopted = open(f"{work}/run.log").read().count("adopted for submission")
print(f"batch-crash: {rows} rows, {kills} SIGKILLs, {wall} s; {stats['batches_created']} batches created; "
      f"creates whose answer a kill lost: {stats['batch_creates_repeated']} answered again by idempotency key, {adopted} found by listing; "
      f"{done} done, {failed} failed; billed {billed} answers, {stats['billed']:.4f} (ledger {status['cost']:.4f})")
for e in errors: print("FAIL: " + e)
print("batch-crash: " + ("failed" if errors else "passed"))
sys.exit(1 if errors else 0)
EOF
