#!/usr/bin/env bash
# Writes what a device installs: the `agent` extra's locked closure, plus the build backend, with the
# hashes from uv.lock, as a pip requirements file (pip is what a Raspberry Pi OS or Jetson image has).
# Usage: scripts/export-agent-lock.sh [FILE|-]   (default deploy/agent/requirements.txt; - prints it)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-deploy/agent/requirements.txt}
text=$(
  echo "# The device agent's locked dependencies (the agent extra of uv.lock, and the build backend), with"
  echo "# hashes. Written by 'make lock' (scripts/export-agent-lock.sh); never edit by hand."
  echo "# Install on a device with: scripts/install-agent.sh (docs/agent.md, 'Install on a device')."
  .tools/bin/uv export --frozen --offline --quiet --no-header --format requirements-txt \
    --extra agent --group build --no-emit-project
)
if [[ $out == - ]]; then echo "$text"; else echo "$text" >"$out"; fi
