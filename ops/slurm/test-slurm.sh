#!/usr/bin/env bash
# End-to-end test of the Slurm layer against a real single-node Slurm on this machine.
#
#   ops/slurm/test-slurm.sh [--quick] [--keep] [BATCH_BIN]
#
# Builds nothing: BATCH_BIN (argument or environment; default .build/debug/batch in the
# repo) must be a built `batch`. Needs root (it starts munged/slurmctld/slurmd through
# cluster.sh, installing slurm-wlm and munge with apt-get when missing).
#
# It: brings the cluster up in a temporary folder, starts `batch simulate`, submits
# generate.sbatch as a 4-task array, requeues task 2 once it has done some rows, waits for
# every task, exports the 4 ledgers into one file and checks every index is there exactly
# once, in order, and that task 2 really restarted and resumed. Whatever happens, it stops
# the simulator and exactly the daemons it started, and removes the temporary folder
# (kept with --keep). Last line: `slurm: 1 passed, 0 failed` (or 0 passed, 1 failed).
#
# Then it checks the array's --rpm held for all tasks together (no 5 s window more than 5%
# over the array's rate, plus one second's burst; each task at the whole rate would send the
# array's rows four times as fast), and runs a second 4-task array with
# BATCH_MAX_COST: the array's total spend must stay within one row's cost of it.
#
#   --quick   fewer rows (CI): 120 rows instead of 400
#   --keep    keep the temporary folder (ledgers, logs, export)
#   --batch-mode  the array runs with --mode batch (each shard submits its own provider
#             batches to the simulator's Batch API); the rate and budget phases are skipped
# Environment: SIM_ARGS adds flags to `batch simulate` (e.g. "--fail-500 0.02"; rows that
# end failed are then retried with `batch retry` + `batch resume`); TEST_TIMEOUT caps the
# wait for the array (seconds).
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

quick=0 keep=0 batch_mode=0 bin_arg=""
for a in "$@"; do
    case "$a" in
        --quick) quick=1 ;;
        --batch-mode) batch_mode=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $a" >&2; exit 2 ;;
        *) bin_arg=$a ;;
    esac
done

BATCH_BIN=${bin_arg:-${BATCH_BIN:-$ROOT/.build/debug/batch}}
RECIPE=${BATCH_RECIPE:-$ROOT/recipes/nanochat-identity/recipe.json}
TASKS=4
REQUEUE_TASK=2
if (( quick )); then
    NUM=120 RPM_TOTAL=600 LATENCY_MS=100 CONCURRENCY=4    # 30 rows/task, >= ~12 s at the array's 600 rpm
else
    NUM=400 RPM_TOTAL=1200 LATENCY_MS=100 CONCURRENCY=4   # 100 rows/task, >= ~20 s at the array's 1200 rpm
fi
BUDGET_NUM=80 BUDGET=0.15   # the budget phase: 80 rows cost about 0.25 at the simulator's prices
PER_TASK=$(( NUM / TASKS ))
REQUEUE_AT=$(( PER_TASK / 10 > 0 ? PER_TASK / 10 : 1 ))     # done rows in task 2 before the requeue
ARRAY_TIMEOUT=${TEST_TIMEOUT:-$(( quick ? 240 : 420 ))}

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
secs() { local ms=$1; printf '%d.%03ds' $(( ms / 1000 )) $(( ms % 1000 )); }
T_START=$(now_ms)
declare -a TIMINGS=()
phase_start() { PHASE=$1; PHASE_T0=$(now_ms); echo "--- $PHASE"; }
phase_end() { local ms=$(( $(now_ms) - PHASE_T0 )); TIMINGS+=("$PHASE: $(secs $ms)"); echo "    $PHASE took $(secs $ms)"; }
note() { echo "    $*"; }

WORK="" SIM_PID="" CLUSTER_UP=0 RESULT=1 JOB=""
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

diagnose() {
    [[ -n "$WORK" && -d "$WORK" ]] || return 0
    echo "--- diagnostics" >&2
    if [[ -n "$JOB" ]]; then scontrol show job "$JOB" -o 2>/dev/null | cut -c1-400 >&2; fi
    local f
    for f in "$WORK"/logs/*.out "$WORK"/sim.out "$WORK"/sim.err; do
        [[ -s "$f" ]] || continue
        echo "--- tail $f" >&2; tail -n 15 "$f" >&2
    done
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    (( RESULT == 0 )) || diagnose
    if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill -TERM "$SIM_PID" 2>/dev/null
        local i
        for i in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
    fi
    if (( CLUSTER_UP )); then
        phase_start "cluster down"
        if ! "$SCRIPT_DIR/cluster.sh" down "$WORK/cluster" | sed 's/^/    /'; then
            echo "FAIL: cluster.sh down failed" >&2; RESULT=1
        fi
        phase_end
    fi
    if [[ -n "$WORK" ]]; then
        if (( keep )); then echo "kept $WORK"; else rm -rf -- "$WORK"; fi
    fi
    echo "--- timings"
    local t; for t in "${TIMINGS[@]}"; do echo "    $t"; done
    echo "    total: $(secs $(( $(now_ms) - T_START )))"
    if (( RESULT == 0 )); then
        echo "slurm: 1 passed, 0 failed"; exit 0
    else
        echo "slurm: 0 passed, 1 failed"; exit $(( rc == 0 ? 1 : rc ))
    fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# wait_until TIMEOUT_S WHAT COMMAND...: poll every 0.25 s, fail the test on timeout
wait_until() {
    local timeout=$1 what=$2; shift 2
    local deadline=$(( $(now_ms) + timeout * 1000 ))
    until "$@"; do
        (( $(now_ms) < deadline )) || fail "timed out after ${timeout}s waiting for $what"
        sleep 0.25
    done
}

# json_field FIELD: read `batch status --json` on stdin; top level or one nested object
json_field() {
    python3 -c '
import json, sys
field = sys.argv[1]
d = json.load(sys.stdin)
def find(o):
    if isinstance(o, dict):
        if field in o and isinstance(o[field], int):
            return o[field]
        for k in ("total", "totals", "sum", "summary", "all"):
            v = o.get(k)
            if isinstance(v, dict) and isinstance(v.get(field), int):
                return v[field]
    raise SystemExit("no integer %r in: %s" % (field, json.dumps(d)[:300]))
print(find(d))' "$1"
}

ledger() { echo "$WORK/runs/identity-$1.db"; }
task_field() {   # task_field TASK FIELD (from scontrol show job, e.g. JobState, Restarts)
    scontrol show job "${JOB}_$1" -o 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# --- preconditions ------------------------------------------------------------------------
(( EUID == 0 )) || fail "needs root (starts munged, slurmctld, slurmd)"
[[ "$BATCH_BIN" == /* ]] || BATCH_BIN="$PWD/$BATCH_BIN"
[[ -x "$BATCH_BIN" ]] || fail "no batch executable at $BATCH_BIN (build it first: swift build)"
[[ -f "$RECIPE" ]] || fail "no recipe at $RECIPE"
command -v python3 >/dev/null || fail "python3 is needed for the checks"
# Only this test's settings reach generate.sbatch.
unset BATCH_EXTRA_ARGS BATCH_RUN_ARGS BATCH_SHARDS BATCH_SHARD BATCH_SELF_REQUEUE BATCH_TPM_TOTAL BATCH_MAX_COST
if (( batch_mode )); then
    # Batches of 5 rows, 4 open at a time, 4 s each: task 2 is requeued with batches open.
    export BATCH_RUN_ARGS="--mode batch --batch-size 5 --poll-interval 0.2 --max-attempts 50"
    SIM_ARGS="${SIM_ARGS:-} --batch-turnaround-ms 4000"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/batch-slurm-test.XXXXXX") || fail "mktemp failed"
mkdir -p "$WORK/logs" "$WORK/runs"
echo "slurm: $NUM rows, $TASKS tasks, requeue task $REQUEUE_TASK after $REQUEUE_AT done rows; work dir $WORK"
echo "batch: $BATCH_BIN"

# --- cluster ------------------------------------------------------------------------------
phase_start "cluster up"
CLUSTER_UP=1   # from here on, cleanup runs down (it stops only what up recorded)
"$SCRIPT_DIR/cluster.sh" up "$WORK/cluster" | sed 's/^/    /'
(( PIPESTATUS[0] == 0 )) || fail "cluster.sh up failed"
eval "$("$SCRIPT_DIR/cluster.sh" env "$WORK/cluster")"
export SLURM_CONF
phase_end

# --- simulator ------------------------------------------------------------------------------
phase_start "simulator start"
# shellcheck disable=SC2086  # SIM_ARGS is a list of flags
"$BATCH_BIN" simulate --port 0 --latency-ms "$LATENCY_MS" --seed 7 --log "$WORK/sim-requests.log" \
    ${SIM_ARGS:-} >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
sim_ready() {
    kill -0 "$SIM_PID" 2>/dev/null || fail "batch simulate exited: $(tail -n 5 "$WORK/sim.err")"
    grep -qE '^listening on http://127\.0\.0\.1:[0-9]+$' "$WORK/sim.out"
}
wait_until 30 "the simulator's 'listening on' line" sim_ready
SIM_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/sim.out" | head -n 1)
BASE_URL="$SIM_URL/v1"
note "simulator at $BASE_URL (pid $SIM_PID)"
phase_end

# --- submit ---------------------------------------------------------------------------------
phase_start "array submit to all running"
export BATCH_BIN BATCH_RECIPE="$RECIPE" BATCH_NUM="$NUM" \
    BATCH_LEDGER="$WORK/runs/identity-{shard}.db" BATCH_BASE_URL="$BASE_URL" \
    BATCH_API_KEY_ENV=BATCH_SIM_KEY BATCH_SIM_KEY=sim-dummy-key \
    BATCH_RPM_TOTAL="$RPM_TOTAL" BATCH_CONCURRENCY="$CONCURRENCY"
T_ARRAY=$(now_ms)
JOB=$(sbatch --parsable --array=0-$(( TASKS - 1 )) --job-name=batch-slurm-test --chdir="$WORK" \
        --output="$WORK/logs/task-%A_%a.out" --export=ALL "$SCRIPT_DIR/generate.sbatch") \
    || fail "sbatch failed"
JOB=${JOB%%;*}
note "array job $JOB"
all_running() { [[ "$(squeue -h -j "$JOB" -t RUNNING -o %i | wc -l)" == "$TASKS" ]] || ! squeue -h -j "$JOB" -t PENDING -o %i | grep -q .; }
wait_until 60 "the array's tasks to start" all_running
phase_end

# --- requeue one task mid-run ----------------------------------------------------------------
phase_start "requeue task $REQUEUE_TASK mid-run"
L2=$(ledger "$REQUEUE_TASK")
done2=0
task2_progress() {
    [[ -e "$L2" ]] || return 1
    local out
    out=$("$BATCH_BIN" status --ledger "$L2" --json 2>/dev/null) || return 1   # may race the writer
    done2=$(json_field "done" <<<"$out") || return 1
    (( done2 >= REQUEUE_AT ))
}
wait_until 60 "task $REQUEUE_TASK to finish $REQUEUE_AT rows" task2_progress
(( done2 < PER_TASK )) || fail "task $REQUEUE_TASK finished all $done2 rows before it could be requeued (slow the test down)"
note "task $REQUEUE_TASK has $done2/$PER_TASK rows done: scontrol requeue ${JOB}_$REQUEUE_TASK"
T_REQ=$(now_ms)
scontrol requeue "${JOB}_$REQUEUE_TASK" || fail "scontrol requeue failed"
# A requeued job waits for its old credential to expire (cred_expire=10 in cluster.sh: about
# 11 s) before it runs again. Do not force it with `scontrol update StartTime=now`: started
# inside that window, slurmd refuses it ("Job N already killed, do not launch batch job") and
# the task fails for good.
task_pending() { [[ "$(task_field "$REQUEUE_TASK" JobState)" == PENDING ]]; }
wait_until 60 "task $REQUEUE_TASK to be PENDING after the requeue" task_pending
task_restarted() {
    local st; st=$(task_field "$REQUEUE_TASK" JobState)
    [[ "$st" == RUNNING || "$st" == COMPLETED ]] && grep -q 'restart_count=1' "$WORK/logs/task-${JOB}_$REQUEUE_TASK.out" 2>/dev/null
}
wait_until 60 "task $REQUEUE_TASK to run again" task_restarted
note "restarted after $(secs $(( $(now_ms) - T_REQ )))"
phase_end

# --- wait for the array ------------------------------------------------------------------------
phase_start "wait for the array"
queue_empty() { ! squeue -h -j "$JOB" -o %i 2>/dev/null | grep -q .; }
wait_until "$ARRAY_TIMEOUT" "array $JOB to finish" queue_empty
note "array done $(secs $(( $(now_ms) - T_ARRAY ))) after submit"
phase_end

# --- checks -------------------------------------------------------------------------------------
phase_start "check tasks and ledgers"
for k in $(seq 0 $(( TASKS - 1 ))); do
    st=$(task_field "$k" JobState) ec=$(task_field "$k" ExitCode) rs=$(task_field "$k" Restarts)
    note "task $k: $st exit $ec restarts $rs"
    [[ "$st" == COMPLETED && "$ec" == 0:0 ]] || fail "task $k ended $st with exit code $ec (log: $WORK/logs/task-${JOB}_$k.out)"
done
[[ "$(task_field "$REQUEUE_TASK" Restarts)" == 1 ]] || fail "task $REQUEUE_TASK did not restart exactly once"
log2="$WORK/logs/task-${JOB}_$REQUEUE_TASK.out"
grep -q 'mode=run restart_count=0' "$log2" || fail "task $REQUEUE_TASK's first run is not in its log (--open-mode=append?)"
grep -q 'mode=resume restart_count=1' "$log2" || fail "task $REQUEUE_TASK did not resume its ledger after the requeue"

LEDGER_ARGS=()
total=0
retried=0
for k in $(seq 0 $(( TASKS - 1 ))); do
    L=$(ledger "$k")
    LEDGER_ARGS+=(--ledger "$L")
    out=$("$BATCH_BIN" status --ledger "$L" --json) || fail "batch status failed on $L"
    failed=$(json_field failed <<<"$out") || fail "bad status JSON"
    if (( failed > 0 )); then
        # The README's recipe for failed rows: retry puts them back to pending, resume runs them.
        note "shard $k has $failed failed rows: batch retry + batch resume"
        "$BATCH_BIN" retry --ledger "$L" || fail "batch retry failed on $L"
        "$BATCH_BIN" resume --ledger "$L" --base-url "$BASE_URL" --concurrency "$CONCURRENCY" \
            || fail "batch resume after retry failed on $L"
        out=$("$BATCH_BIN" status --ledger "$L" --json) || fail "batch status failed on $L"
        retried=1
    fi
    t=$(json_field total <<<"$out") d=$(json_field "done" <<<"$out") f=$(json_field failed <<<"$out")
    p=$(json_field pending <<<"$out") i=$(json_field in_flight <<<"$out")
    note "shard $k: total $t done $d failed $f pending $p in_flight $i"
    (( d == t && f == 0 && p == 0 && i == 0 )) || fail "shard $k is not complete"
    total=$(( total + t ))
done
(( total == NUM )) || fail "the shards plan $total rows, not $NUM"
out=$("$BATCH_BIN" status "${LEDGER_ARGS[@]}" --json) || fail "batch status over all ledgers failed"
d=$(json_field "done" <<<"$out") || fail "bad status JSON over all ledgers: $out"
(( d == NUM )) || fail "batch status over all ledgers says $d done, not $NUM"
note "batch status over all ledgers: $d done"
phase_end

phase_start "export and check"
"$BATCH_BIN" export "${LEDGER_ARGS[@]}" --output "$WORK/export.jsonl" --metadata "$WORK/export-metadata.jsonl" \
    || fail "batch export failed"
python3 - "$WORK/export.jsonl" "$WORK/export-metadata.jsonl" "$NUM" <<'EOF' || fail "the export does not hold every index exactly once"
import json, sys
out_path, meta_path, num = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(out_path, encoding="utf-8") as f:
    lines = f.read().splitlines()
with open(meta_path, encoding="utf-8") as f:
    meta = f.read().splitlines()
errors = []
if len(lines) != num:
    errors.append(f"export has {len(lines)} lines, expected {num}")
if len(meta) != len(lines):
    errors.append(f"metadata has {len(meta)} lines, export {len(lines)}")
for n, line in enumerate(lines):
    msgs = json.loads(line)
    ok = (isinstance(msgs, list) and len(msgs) >= 2
          and all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in msgs)
          and all(m.get("role") == ("user" if j % 2 == 0 else "assistant") for j, m in enumerate(msgs)))
    if not ok:
        errors.append(f"line {n + 1} is not a user/assistant conversation: {line[:120]}")
        break
indices = [json.loads(m)["index"] for m in meta]
if sorted(set(indices)) != list(range(num)):
    missing = sorted(set(range(num)) - set(indices))
    errors.append(f"indices missing: {missing[:10]}{'...' if len(missing) > 10 else ''}")
dups = len(indices) - len(set(indices))
if dups:
    errors.append(f"{dups} duplicate indices")
if indices != sorted(indices):
    errors.append("indices are not in global order")
for e in errors:
    print("    " + e)
if errors:
    sys.exit(1)
print(f"    {len(lines)} lines, indices 0..{num - 1} each exactly once, in order")
EOF
(( retried )) && note "(some rows needed batch retry)"
phase_end

if (( batch_mode )); then
    billed=$(curl -s "$SIM_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["batch_billed_requests"])')
    note "batch mode: the simulator billed $billed batch answers for $NUM rows"
    (( billed == NUM )) || fail "batch mode: $billed answers billed for $NUM rows"
    RESULT=0
    exit 0
fi

phase_start "check the array's rate"
python3 - "$RPM_TOTAL" "$WORK"/runs/identity-*.db <<'EOF' || fail "the array sent faster than its --rpm"
import sqlite3, sys
rpm = float(sys.argv[1])
starts = sorted(t for path in sys.argv[2:] for (t,) in sqlite3.connect(path).execute("SELECT started_at_ms FROM attempts"))
window_ms = 5_000
allowed = 1.05 * rpm * window_ms / 60_000 + rpm / 60   # 5% over, plus the buckets' one-second start burst
if len(starts) <= allowed * 1.5:
    sys.exit(f"    too few requests ({len(starts)}) for the check to mean anything")
worst, j = 0, 0
for i, t in enumerate(starts):
    while starts[j] < t - window_ms + 1:
        j += 1
    worst = max(worst, i - j + 1)
span = (starts[-1] - starts[0]) / 1000
print(f"    {len(starts)} requests over {span:.1f} s; at most {worst} in any 5 s (allowed {allowed:.0f}: 5% over {rpm:.0f} rpm, plus one second's burst)")
sys.exit(0 if worst <= allowed else 1)
EOF
for k in $(seq 0 $(( TASKS - 1 ))); do
    grep -h 'array: shard' "$WORK/logs/task-${JOB}_$k.out" | sed 's/.*array: /    /'
done
phase_end

phase_start "a budget for the whole array"
mkdir -p "$WORK/budget"
JOB_B=$(BATCH_NUM=$BUDGET_NUM BATCH_MAX_COST=$BUDGET BATCH_RPM_TOTAL=6000 BATCH_LEDGER="$WORK/budget/identity-{shard}.db" \
        sbatch --parsable --array=0-$(( TASKS - 1 )) --job-name=batch-slurm-budget --chdir="$WORK" \
        --output="$WORK/logs/budget-%A_%a.out" --export=ALL "$SCRIPT_DIR/generate.sbatch") || fail "sbatch (budget) failed"
JOB_B=${JOB_B%%;*}
budget_done() { ! squeue -h -j "$JOB_B" -o %i 2>/dev/null | grep -q .; }
wait_until "$ARRAY_TIMEOUT" "array $JOB_B to finish" budget_done
B_ARGS=()
for k in $(seq 0 $(( TASKS - 1 ))); do
    B_ARGS+=(--ledger "$WORK/budget/identity-$k.db")
    grep -q 'exited with status 4' "$WORK/logs/budget-${JOB_B}_$k.out" || fail "budget task $k did not stop at its share of the budget (exit 4)"
done
"$BATCH_BIN" status "${B_ARGS[@]}" --json >"$WORK/budget/status.json" || fail "batch status (budget) failed"
python3 - "$BUDGET" "$WORK/budget/status.json" <<'EOF' || fail "the array's spend is not within one row's cost of BATCH_MAX_COST"
import json, sys
budget, s = float(sys.argv[1]), json.load(open(sys.argv[2]))
row = s["cost"] / max(1, s["done"])
print(f"    the array spent {s['cost']:.4f} of {budget} on {s['done']} rows ({row:.4f} a row); {s['pending']} rows left pending")
sys.exit(0 if budget - 4 * row <= s["cost"] <= budget + row else 1)
EOF
phase_end

RESULT=0
