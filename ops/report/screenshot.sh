#!/usr/bin/env bash
# Renders a `batch report` in headless Chromium to a PNG, as a person would see it.
#
# Usage: ops/report/screenshot.sh [--binary PATH] [--output PNG] [--width PX] [REPORT.html]
#   Without REPORT.html, runs `batch demo --num 2000` in a temporary folder (the simulator, no API
#   key) and renders the report it writes. --output defaults to docs/report.png; --width to 900.
#   Needs chromium (Debian: chromium).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$ROOT/.build/debug/batch" OUT="$ROOT/docs/report.png" WIDTH=900 REPORT=""
while [ $# -gt 0 ]; do
    case $1 in
        --binary) BIN=$2; shift ;;
        --output) OUT=$2; shift ;;
        --width) WIDTH=$2; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 64 ;;
        *) REPORT=$1 ;;
    esac
    shift
done
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || { echo "screenshot: needs chromium (Debian: apt-get install chromium)" >&2; exit 69; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "$REPORT" ]; then
    [ -x "$BIN" ] || { echo "screenshot: no batch binary at $BIN; build it (swift build) or pass --binary" >&2; exit 69; }
    echo "running: batch demo --num 2000 --output-dir $WORK/demo" >&2
    (cd "$WORK" && "$BIN" demo --num 2000 --output-dir demo >demo.out 2>demo.err) || { tail -5 "$WORK/demo.err" >&2; exit 1; }
    REPORT="$WORK/demo/demo.report.html"
fi
[ -f "$REPORT" ] || { echo "screenshot: no report at $REPORT" >&2; exit 66; }
# A copy on its own in a folder: the page must not need anything beside it.
cp "$REPORT" "$WORK/alone.html"
mkdir -p "$(dirname "$OUT")"
# The page's height, measured by a copy with one line of script added (the report has none), so
# the screenshot is exactly one page long.
sed 's#</body>#<script>document.body.setAttribute("data-height", document.documentElement.scrollHeight)</script></body>#' \
    "$WORK/alone.html" >"$WORK/measure.html"
HEIGHT=$("$CHROME" --headless=new --no-sandbox --disable-gpu --window-size="$WIDTH,1000" --dump-dom "file://$WORK/measure.html" 2>/dev/null \
    | sed -n 's/.*data-height="\([0-9]*\)".*/\1/p' | head -1)
[ -n "$HEIGHT" ] || { echo "screenshot: could not measure the page's height" >&2; exit 1; }
"$CHROME" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$WIDTH,$HEIGHT" --screenshot="$OUT" "file://$WORK/alone.html" >"$WORK/chrome.log" 2>&1 \
    || { tail -5 "$WORK/chrome.log" >&2; exit 1; }
echo "wrote $OUT (${WIDTH}x${HEIGHT}, $(du -k "$OUT" | cut -f1) KB) from $REPORT" >&2
