#!/usr/bin/env bash
# Power-loss simulation for the durable commit mode (see Tools/powerloss/powerloss.py).
# usage: Tools/powerloss.sh [CRASH_POINTS] [EVENTS]   (defaults 40 and 4000)
set -euo pipefail
cd "$(dirname "$0")/.."
points=${1:-40}
events=${2:-4000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build --product touchlog >/dev/null
bin=$(swift build --show-bin-path)/touchlog
gcc -O2 -shared -fPIC -o "$work/journal_shim.so" Tools/powerloss/journal_shim.c -ldl
"$bin" generate --events "$events" --customers 300 --seed 9 --output "$work/events.jsonl" 2>/dev/null
TOUCHLOG_JOURNAL="$work/journal" LD_PRELOAD="$work/journal_shim.so" \
    "$bin" ingest "$work/events.jsonl" --store "$work/store" --batch-size 200 --print-commits >/dev/null
python3 Tools/powerloss/powerloss.py "$bin" "$work/journal" "$work/events.jsonl" "$work" "$points" 1
