#!/usr/bin/env bash
# Makes .build/peer-venv: a Python venv with the peers `touchlog bench` compares ingest against, at
# pinned versions: eventsourcing 9.5.6 (Benchmarks/peers/peer_eventsourcing.py) and umadb 0.7.8, UmaDB's
# server and Python client (Benchmarks/peers/peer_umadb.py); the bench finds both scripts in this
# checkout. Needs python3 with venv and access to PyPI. Run it again to check an existing venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import venv' 2>/dev/null; then
    apt-get install -y python3-venv
fi
if [ ! -x .build/peer-venv/bin/python3 ]; then
    python3 -m venv .build/peer-venv
fi
.build/peer-venv/bin/pip install --quiet eventsourcing==9.5.6 umadb==0.7.8
# A short run of each peer itself: the venv is ready only if the scripts run in it.
db="$(mktemp -d)"
trap 'rm -rf "$db"' EXIT
.build/peer-venv/bin/python3 Benchmarks/peers/peer_eventsourcing.py "$db/peer.db" 1000 256 500 10 >/dev/null
# The UmaDB peer reads CloudEvents JSON Lines: three made here, in the shape the bench generates.
for n in 1 2 3; do
    printf '{"specversion":"1.0","id":"evt-%d","source":"urn:touchlog:peer-venv","type":"contact.received","subject":"cus-%06d","time":"2024-01-01T00:00:0%dZ","channel":"email"}\n' "$n" "$n" "$n"
done >"$db/events.jsonl"
.build/peer-venv/bin/python3 Benchmarks/peers/peer_umadb.py "$db/events.jsonl" 3 2 >/dev/null
versions="$(.build/peer-venv/bin/python3 -c 'from importlib.metadata import version; print("eventsourcing", version("eventsourcing"), "and umadb", version("umadb"))')"
echo "$versions, Benchmarks/peers/peer_eventsourcing.py and peer_umadb.py ready in .build/peer-venv"
