#!/usr/bin/env bash
# Runs the whole test suite (installing LMDB first if it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build --build-tests
swift test --skip-build
