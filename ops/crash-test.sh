#!/usr/bin/env bash
# Long crash test: a 2,000-row run with faults, SIGKILLed at 25 random moments and resumed each
# time; checks every index is exported exactly once and came from a response the simulator sent.
# Usage: ops/crash-test.sh [--https | --https-h1] [ROWS] [KILLS] [SEED]
#   --https     over HTTPS HTTP/2 through nginx (ops/tls/tls-proxy.sh) instead of plain HTTP
#   --https-h1  over HTTPS HTTP/1.1 (--http1.1)
# (CI runs the short forms inside `swift test`.)
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in
    --https) export BATCH_CRASH_WIRE=h2; shift ;;
    --https-h1) export BATCH_CRASH_WIRE=h1; shift ;;
esac
export BATCH_CRASH_ROWS=${1:-2000} BATCH_CRASH_KILLS=${2:-25}
[ -n "${3:-}" ] && export BATCH_CRASH_SEED=$3
swift build --build-tests >&2
swift test --skip-build --filter CrashTests 2>&1 | grep -E "crash test|✔|✘|passed|failed"
