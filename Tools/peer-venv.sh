#!/usr/bin/env bash
# Makes .build/peer-venv: a Python venv with eventsourcing 9.5.6, the library of the peer that
# `touchlog bench` compares ingest against (Benchmarks/peers/peer_eventsourcing.py, found by the bench in
# this checkout). Needs python3 with venv and access to PyPI. Run it again to check an existing venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import venv' 2>/dev/null; then
    apt-get install -y python3-venv
fi
if [ ! -x .build/peer-venv/bin/python3 ]; then
    python3 -m venv .build/peer-venv
fi
.build/peer-venv/bin/pip install --quiet eventsourcing==9.5.6
# A short run of the peer itself: the venv is ready only if the script runs in it.
db="$(mktemp -d)"
trap 'rm -rf "$db"' EXIT
.build/peer-venv/bin/python3 Benchmarks/peers/peer_eventsourcing.py "$db/peer.db" 1000 256 500 10 >/dev/null
echo "eventsourcing $(.build/peer-venv/bin/python3 -c 'from importlib.metadata import version; print(version("eventsourcing"))') and Benchmarks/peers/peer_eventsourcing.py ready in .build/peer-venv"
