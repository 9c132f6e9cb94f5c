#!/usr/bin/env bash
# Installs the device agent from the lock, on a device (Raspberry Pi OS 64-bit, Jetson, any aarch64 or
# x86_64 Linux with CPython >= 3.11 and python3-venv): a venv with exactly the hashed wheels that
# deploy/agent/requirements.txt names (the agent extra of uv.lock; wheels only, nothing compiles on the
# device), then this checkout's own code, with no resolver and no other download.
#   usage: scripts/install-agent.sh [PREFIX]      (default /opt/continuum; links PREFIX/bin/continuum
#                                                  into /usr/local/bin when run as root)
# Then: continuum agent install --config agent.toml   (docs/agent.md)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/opt/continuum}
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install-agent: CPython >= 3.11 is needed (found: $("$PYTHON" --version 2>&1 || echo none))." >&2
  echo "install-agent: Raspberry Pi OS 12 has it (apt-get install python3-venv); on Jetson (Ubuntu 22.04)" >&2
  echo "install-agent: install python3.11 and python3.11-venv, then set PYTHON=python3.11" >&2
  exit 1
fi
if [[ ! -x $prefix/bin/python ]] && ! "$PYTHON" -m venv "$prefix"; then
  echo "install-agent: could not create $prefix; install the venv module (apt-get install python3-venv)" >&2
  exit 1
fi
pip=("$prefix/bin/python" -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install --require-hashes --only-binary=:all: -r deploy/agent/requirements.txt
# The project itself: built here with the locked setuptools just installed, its dependencies already met.
"${pip[@]}" install --no-deps --no-build-isolation --no-index .
if [[ $(id -u) -eq 0 ]]; then
  ln -sf "$prefix/bin/continuum" /usr/local/bin/continuum
  echo "install-agent: installed into $prefix; /usr/local/bin/continuum -> $prefix/bin/continuum"
else
  echo "install-agent: installed into $prefix; run it as $prefix/bin/continuum"
fi
echo "install-agent: next: continuum agent install --config agent.toml (docs/agent.md)"
