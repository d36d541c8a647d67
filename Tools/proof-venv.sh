#!/usr/bin/env bash
# Makes .build/proof-venv: a Python venv for the proof bundle tests, with `cryptography` (what
# Tools/verify_bundle.py needs besides the standard library) and pymerkle 7.0.0, an independent RFC 6962
# implementation that Tools/pymerkle_check.py checks bundles against. Needs python3 with venv and access
# to PyPI the first time; does nothing when the venv already has both.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import venv' 2>/dev/null; then
    apt-get install -y python3-venv
fi
if [ ! -x .build/proof-venv/bin/python3 ]; then
    mkdir -p .build
    python3 -m venv .build/proof-venv
fi
if ! .build/proof-venv/bin/python3 -c 'import cryptography, pymerkle' 2>/dev/null; then
    .build/proof-venv/bin/pip install --quiet cryptography==51.0.1 pymerkle==7.0.0
fi
.build/proof-venv/bin/python3 -c 'from importlib.metadata import version; print("cryptography", version("cryptography"), "and pymerkle", version("pymerkle"), "ready in .build/proof-venv")'
