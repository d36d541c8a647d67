#!/usr/bin/env bash
# Makes .build/peer-venv: a Python venv with eventsourcing 9.5.6, the peer that `touchlog bench`
# compares ingest against (../shared/bench/peer_eventsourcing.py). Needs python3 with venv and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import venv' 2>/dev/null; then
    apt-get install -y python3-venv
fi
python3 -m venv .build/peer-venv
.build/peer-venv/bin/pip install --quiet eventsourcing==9.5.6
.build/peer-venv/bin/python3 -c 'import eventsourcing; print("eventsourcing", eventsourcing.__version__ if hasattr(eventsourcing, "__version__") else "9.5.6", "ready in .build/peer-venv")'
