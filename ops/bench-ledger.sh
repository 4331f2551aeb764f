#!/usr/bin/env bash
# Ledger benchmark: fill a 1,000,000-row ledger, complete 900,000, then print claims/s and
# completions/s late in the run. Usage: ops/bench-ledger.sh [--rows N --done N --sample N ...]
# CI runs a short form: ops/bench-ledger.sh --rows 20000 --done 18000 --sample 2000
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product batch >&2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
.build/release/batch bench ledger --path "$dir/bench.db" "$@"
