#!/usr/bin/env bash
# Installs what Touchlog needs to build on Debian/Ubuntu and is missing: LMDB's headers and library.
set -euo pipefail
if pkg-config --exists lmdb 2>/dev/null; then
    exit 0
fi
echo "setup: installing liblmdb-dev (LMDB) with apt-get" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq liblmdb-dev pkg-config >/dev/null
