#!/usr/bin/env bash
# Long crash test: a 2,000-row run with faults, SIGKILLed at 25 random moments and resumed each
# time; checks every index is exported exactly once and came from a response the simulator sent.
# Usage: ops/crash-test.sh [ROWS] [KILLS] [SEED]   (CI runs the short form inside `swift test`)
set -euo pipefail
cd "$(dirname "$0")/.."
export BATCH_CRASH_ROWS=${1:-2000} BATCH_CRASH_KILLS=${2:-25}
[ -n "${3:-}" ] && export BATCH_CRASH_SEED=$3
swift build --build-tests >&2
swift test --skip-build --filter CrashTests 2>&1 | grep -E "crash test:|✔|✘|passed|failed"
