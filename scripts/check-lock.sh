#!/usr/bin/env bash
# Fails, saying what to run, when uv.lock does not say what pyproject.toml asks for. Offline: the pinned
# uv checks the lock against its own recorded metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! err=$(.tools/bin/uv lock --check --offline --quiet 2>&1); then
  echo "setup: uv.lock does not match pyproject.toml (a dependency changed without 'make lock')." >&2
  echo "setup: run 'make lock' (or 'make lock KEEP=1' to move only what the change needs), then commit" >&2
  echo "setup: uv.lock and deploy/agent/requirements.txt." >&2
  # uv's own words, where it names the difference (offline, a changed range may show only as unresolvable).
  grep -E 'differ|needs to be updated' <<<"$err" | sed 's/^ */setup: uv: /' >&2 || true
  exit 1
fi
