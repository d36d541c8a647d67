#!/usr/bin/env bash
# Coverage-guided fuzzing of the CloudEvents parser with libFuzzer, for a bounded time.
# usage: Tools/fuzz.sh [SECONDS]   (default 60). Crashing inputs land in .fuzz/crashes/; add each to
# the regressions in Tests/TouchlogStoreTests/FuzzTests.swift once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mkdir -p .fuzz/corpus .fuzz/crashes
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name CloudEvents \
    Sources/CloudEvents/*.swift Tools/fuzz/FuzzCloudEvents.swift -o .fuzz/fuzz-cloudevents
if [ -z "$(ls -A .fuzz/corpus)" ]; then
    swift run -c debug touchlog generate --events 200 --customers 20 --output .fuzz/seed.jsonl >/dev/null
    split -l 1 .fuzz/seed.jsonl .fuzz/corpus/seed-
fi
.fuzz/fuzz-cloudevents .fuzz/corpus -max_total_time="$seconds" -max_len=4096 -artifact_prefix=.fuzz/crashes/ \
    -print_final_stats=1
