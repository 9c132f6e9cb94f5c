#!/usr/bin/env bash
# make lock: the one deliberate upgrade step. Re-resolves uv.lock (every package to its newest release
# within pyproject.toml's ranges; with KEEP=1 only what a pyproject.toml change needs), says what moved,
# then brings along everything derived from the lock: the device export, the .venv, and the generated
# protobuf code when the generator moved. Commit what it lists.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON=${PYTHON:-python3}
export UV_PYTHON=$PYTHON UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
scripts/ensure-uv.sh
UV=.tools/bin/uv
before=$(mktemp)
trap 'rm -f "$before"' EXIT
cp uv.lock "$before" 2>/dev/null || : >"$before"
if [[ ${KEEP:-} == 1 ]]; then $UV lock --quiet; else $UV lock --quiet --upgrade; fi
"$PYTHON" scripts/lock-diff.py "$before" uv.lock
scripts/export-agent-lock.sh
$UV sync --quiet --frozen --extra all --extra dev
scripts/gen-protos.sh >/dev/null
scripts/check-agent-wheels.sh
echo "lock: commit what changed: $(git status --porcelain -- uv.lock deploy/agent protos | awk '{print $2}' | tr '\n' ' ')"
