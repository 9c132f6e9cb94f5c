#!/usr/bin/env bash
# Time to first result, as a new user meets it: a fresh clone of this repository in a temporary folder,
# then (1) `make demo ARGS="--headless --devices 20"` until `continuum fleet ls` shows 20 devices online,
# (2) `make test`. With COLD=1 uv starts from an empty wheel cache (a new machine); otherwise it uses the
# machine's shared cache, as a second clone would. Prints the wall-clock seconds of each.
#   usage: scripts/measure-setup.sh [--demo-only]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill -- -$demo_pid 2>/dev/null || true; rm -rf "$work"' EXIT
demo_pid=
git clone -q "$repo" "$work/clone"
cd "$work/clone"
if [[ ${COLD:-} == 1 ]]; then export UV_CACHE_DIR=$work/uv-cache; fi
cache=$([[ ${COLD:-} == 1 ]] && echo "empty uv cache" || echo "shared uv cache")

start=$(date +%s%N)
set -m
make demo ARGS="--headless --devices 20" >"$work/demo.log" 2>&1 &
demo_pid=$!
set +m
online=0
for _ in $(seq 1 600); do
  target=$(sed -n 's/^try: continuum fleet ls --target //p' "$work/demo.log" | head -1)
  if [[ -n $target ]]; then
    online=$(.venv/bin/continuum fleet ls --json --state online --target "$target" 2>/dev/null \
      | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
    [[ $online -ge 20 ]] && break
  fi
  if ! kill -0 $demo_pid 2>/dev/null; then echo "measure: the demo exited:" >&2; tail -20 "$work/demo.log" >&2; exit 1; fi
  sleep 0.5
done
demo_s=$(( ($(date +%s%N) - start) / 1000000000 ))
kill -INT -- -$demo_pid 2>/dev/null || true
wait $demo_pid 2>/dev/null || true
echo "measure: make demo (fresh clone, $cache): $online devices online after $demo_s s"
[[ ${1:-} == --demo-only ]] && exit 0

start=$(date +%s%N)
status=0
make test >"$work/test.log" 2>&1 || status=$?
cp "$work/test.log" "${TMPDIR:-/tmp}/measure-setup-test.log"
test_s=$(( ($(date +%s%N) - start) / 1000000000 ))
echo "measure: make test (same clone, after the demo): exit $status in $test_s s; $(grep -E '=+ .*(passed|failed)' "$work/test.log" | tail -1)"
echo "measure: its output is in ${TMPDIR:-/tmp}/measure-setup-test.log"
