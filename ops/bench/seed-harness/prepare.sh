#!/usr/bin/env bash
# Make a runnable TEMPORARY COPY of nanochat's seed generator pointed at a local simulator.
# The original script is never modified.
#
# Usage: ops/bench/seed-harness/prepare.sh SEED_SCRIPT KNOWLEDGE_MD BASE_URL DEST_DIR
#   SEED_SCRIPT   path to gen_synthetic_data.py (e.g. ../shared/seed/gen_synthetic_data.py)
#   KNOWLEDGE_MD  knowledge file to install as ../knowledge/self_knowledge.md (the recipe's knowledge.md)
#   BASE_URL      simulator base, e.g. http://127.0.0.1:41234/v1 (the copy posts to BASE_URL/chat/completions)
#   DEST_DIR      an empty temporary directory
# Prints the path of the copied script. Run it with:
#   OPENROUTER_API_KEY=dummy python3 <printed path> --num N --workers C --output FILE
# Layout created:
#   DEST_DIR/seed/gen_synthetic_data.py      copy, URL rewritten by sed
#   DEST_DIR/seed/nanochat/common.py         stub: get_base_dir() -> DEST_DIR
#   DEST_DIR/knowledge/self_knowledge.md     copy of KNOWLEDGE_MD
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 SEED_SCRIPT KNOWLEDGE_MD BASE_URL DEST_DIR" >&2; exit 64; }
seed=$1 knowledge=$2 base=${3%/} dest=$4
[ -f "$seed" ] || { echo "seed script not found: $seed" >&2; exit 66; }
[ -f "$knowledge" ] || { echo "knowledge file not found: $knowledge" >&2; exit 66; }
mkdir -p "$dest/seed/nanochat" "$dest/knowledge"
dest=$(cd "$dest" && pwd)
cp "$knowledge" "$dest/knowledge/self_knowledge.md"
: > "$dest/seed/nanochat/__init__.py"
cat > "$dest/seed/nanochat/common.py" <<PY
# Stub for nanochat.common (benchmark harness only).
def get_base_dir():
    return "$dest"
PY
orig='https://openrouter.ai/api/v1/chat/completions'
grep -qF "$orig" "$seed" || { echo "seed script has no hard-coded URL $orig; cannot point it at the simulator" >&2; exit 65; }
sed "s#${orig}#${base}/chat/completions#" "$seed" > "$dest/seed/gen_synthetic_data.py"
grep -qF "${base}/chat/completions" "$dest/seed/gen_synthetic_data.py" || { echo "URL rewrite failed" >&2; exit 70; }
echo "$dest/seed/gen_synthetic_data.py"
