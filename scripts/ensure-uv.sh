#!/usr/bin/env bash
# Puts the pinned uv (scripts/uv-requirements.txt, hash-checked) at .tools/bin/uv, in a venv of its own
# under .tools/uv, unless that exact version is there already. Every set-up step runs uv from there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
want=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' scripts/uv-requirements.txt)
if [[ -x .tools/bin/uv ]] && [[ "$(.tools/bin/uv --version 2>/dev/null)" == "uv $want"* ]]; then
  exit 0
fi
echo "setup: installing uv $want (hash-checked) into .tools/uv"
rm -rf .tools/uv
if ! "$PYTHON" -m venv .tools/uv >/dev/null; then
  echo "setup: could not create a venv for uv; install the venv module (apt-get install python3-venv)" >&2
  exit 1
fi
# --isolated: a machine-wide pip.conf (constraints, extra indexes) must not change what the lock tool is.
if ! .tools/uv/bin/python -m pip install --isolated --quiet --disable-pip-version-check \
  --require-hashes --only-binary=:all: -r scripts/uv-requirements.txt; then
  echo "setup: could not install uv $want from PyPI; check that this machine reaches pypi.org" >&2
  exit 1
fi
mkdir -p .tools/bin
ln -sf ../uv/bin/uv .tools/bin/uv
