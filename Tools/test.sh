#!/usr/bin/env bash
# Runs the whole test suite (installing LMDB first if it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
# Lint: the code is formatted as .swift-format says (swift-format ships with the toolchain).
swift format lint --strict --recursive --parallel Sources Tests Package.swift
swift build --build-tests
# Machine-crash simulation of the durable mode (needs gcc and python3, as on Debian with Swift):
# first the journal shim's own check (concurrent records stay whole), then the simulation.
Tools/powerloss.sh --self-test
Tools/powerloss.sh 24 3000
swift test --skip-build
