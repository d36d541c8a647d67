#!/usr/bin/env bash
# Installs what Touchlog needs to build on Debian/Ubuntu and is missing: the headers and libraries of
# LMDB (liblmdb-dev) and zlib (zlib1g-dev, for reading .gz imports).
set -euo pipefail
if pkg-config --exists lmdb zlib 2>/dev/null; then
    exit 0
fi
echo "setup: installing liblmdb-dev (LMDB) and zlib1g-dev (zlib) with apt-get" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq liblmdb-dev zlib1g-dev pkg-config >/dev/null
