#!/usr/bin/env bash
# Power-loss simulation for the durable commit mode (see Tools/powerloss/powerloss.py).
# usage: Tools/powerloss.sh [CRASH_POINTS] [EVENTS] [SEED]      (defaults 40, 4000 and 1)
#        Tools/powerloss.sh --replay DIRECTORY [SEED [POINT...]]
#        Tools/powerloss.sh --self-test
#        Tools/powerloss.sh --regression
# A run records a fresh journal (the ingest's threads make each one a little different), so a failing
# run keeps its journal and input in .build/powerloss/ (TOUCHLOG_POWERLOSS_KEEP) and prints the
# --replay command that rebuilds exactly the failing crash images from them.
# --self-test checks the journal shim itself: two threads writing at once must give whole records.
# --regression replays the crash points that failed when the shim tore records (Tools/powerloss/cases).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shim() {
    gcc -O2 -shared -fPIC -o "$work/journal_shim.so" Tools/powerloss/journal_shim.c -ldl -lpthread
}

if [ "${1:-}" = "--self-test" ]; then
    shim
    gcc -O2 -o "$work/shim_stress" Tools/powerloss/shim_stress.c -lpthread
    TOUCHLOG_JOURNAL="$work/journal" LD_PRELOAD="$work/journal_shim.so" "$work/shim_stress" "$work" 10000 >/dev/null
    # 10,000 rounds: a page write, a two-page writev and a line each; a sync and a meta write every 64th.
    python3 Tools/powerloss/powerloss.py --check-journal "$work/journal" $((10000 * 4 + 10000 / 64 * 2))
    exit
fi

swift build --product touchlog >/dev/null
bin=$(swift build --show-bin-path)/touchlog

if [ "${1:-}" = "--regression" ]; then
    # The crash points that failed in CI when the shim tore records: its journal, repaired with
    # Tools/powerloss/deinterleave.py, replayed at those points with every seed 1...8.
    for seed in 1 2 3 4 5 6 7 8; do
        "$0" --replay Tools/powerloss/cases/torn-journal-run72 "$seed"
    done
    exit
fi

if [ "${1:-}" = "--replay" ]; then
    kept=${2:?usage: Tools/powerloss.sh --replay DIRECTORY [SEED [POINT...]]}
    seed=${3:-$(cat "$kept/seed")}
    shift $(( $# < 3 ? $# : 3 ))
    points=("$@")
    if [ ${#points[@]} -eq 0 ] && [ -s "$kept/points" ]; then read -r -a points < "$kept/points"; fi
    journal="$kept/journal"
    if [ ! -e "$journal" ] && [ -e "$journal.xz" ]; then xz -dc "$journal.xz" > "$work/journal"; journal="$work/journal"; fi
    input="$kept/events.jsonl"
    if [ ! -e "$input" ]; then  # a kept case may name only its event count: the generator is seeded
        "$bin" generate --events "$(cat "$kept/events")" --customers 300 --seed 9 --output "$work/events.jsonl" 2>/dev/null
        input="$work/events.jsonl"
    fi
    # Without points (none kept, or the journal itself was bad): every crash point of the journal.
    python3 Tools/powerloss/powerloss.py "$bin" "$journal" "$input" "$work" 1000000 "$seed" \
        ${points[@]+"${points[@]}"}
    exit
fi

points=${1:-40}
events=${2:-4000}
seed=${3:-${TOUCHLOG_POWERLOSS_SEED:-1}}
shim
"$bin" generate --events "$events" --customers 300 --seed 9 --output "$work/events.jsonl" 2>/dev/null
TOUCHLOG_JOURNAL="$work/journal" LD_PRELOAD="$work/journal_shim.so" \
    "$bin" ingest "$work/events.jsonl" --store "$work/store" --batch-size 200 --print-commits >/dev/null
status=0
python3 Tools/powerloss/powerloss.py "$bin" "$work/journal" "$work/events.jsonl" "$work" "$points" "$seed" \
    | tee "$work/result" || status=$?
if [ "$status" -ne 0 ]; then
    kept="${TOUCHLOG_POWERLOSS_KEEP:-.build/powerloss}/failed-$(date -u +%Y%m%dT%H%M%SZ)-$$"
    mkdir -p "$kept"
    cp "$work/journal" "$work/events.jsonl" "$work/result" "$kept/"
    echo "$seed" > "$kept/seed"
    sed -n 's/^crash before record \([0-9]*\) .*/\1/p' "$work/result" | tr '\n' ' ' > "$kept/points"
    echo "kept the journal in $kept; replay the failing crash points with: Tools/powerloss.sh --replay $kept" >&2
fi
exit "$status"
