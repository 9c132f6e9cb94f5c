#!/usr/bin/env bash
# Regenerates the Python code for protos/v1/*.proto. The ONE command for it (make protos).
# With --check, regenerates into a temporary folder and fails when the committed code differs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export PATH="$(dirname "$PY"):$PATH"
out=.
if [[ "${1:-}" == "--check" ]]; then
  out=$(mktemp -d)
fi
"$PY" -m grpc_tools.protoc -I . \
  --python_out="$out" --mypy_out="$out" --grpc_python_out="$out" --mypy_grpc_out="$out" \
  protos/v1/*.proto
if [[ "${1:-}" == "--check" ]]; then
  status=0
  for f in "$out"/protos/v1/*_pb2*.py*; do
    rel=${f#"$out"/}
    if ! cmp -s "$f" "$rel"; then
      echo "protos drift: $rel differs from its .proto; run 'make protos' and commit" >&2
      status=1
    fi
  done
  rm -rf "$out"
  exit $status
fi
