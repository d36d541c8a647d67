#!/usr/bin/env bash
# The main job on a built-in sample: set up, build, generate touchpoints, ingest them, replay one customer,
# audit the store.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --product touchlog
bin=.build/release/touchlog
store=.touchlog-demo
sample=.touchlog-demo-sample.jsonl
replay=.touchlog-demo-replay.txt
rm -rf "$store"
"$bin" generate --events 20000 --customers 1000 --seed 7 --output "$sample"
"$bin" ingest "$sample" --store "$store"
echo "--- ingesting the same file again appends nothing:"
"$bin" ingest "$sample" --store "$store"
"$bin" stats --store "$store"
customer=$("$bin" tail --store "$store" -n 1 --json | sed -E 's/.*"subject":"([^"]+)".*/\1/')
"$bin" replay --customer "$customer" --store "$store" > "$replay"
echo "--- replay of customer $customer ($(grep -c '^v' "$replay") events; the first 40 lines):"
head -n 40 "$replay"
echo "--- audit: hash chain, indexes and projections against a fresh fold:"
"$bin" audit --store "$store" | head -n 1   # the verdict comes first
