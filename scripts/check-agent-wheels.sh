#!/usr/bin/env bash
# Resolves deploy/agent/requirements.txt as a device would, for each device platform and Python, against
# PyPI, with hashes and wheels only (a device should never compile): `pip install --dry-run` for another
# platform. Installs nothing. Needs the network (make lock runs it); tests/unit/test_lock.py makes the
# same check offline against the wheel lists in uv.lock.
#   platforms: aarch64 (Raspberry Pi OS 64-bit bookworm: glibc 2.36; Jetson JetPack 6: 2.35) and x86_64
set -euo pipefail
cd "$(dirname "$0")/.."
GLIBC_MINOR=${GLIBC_MINOR:-35}
status=0
for arch in aarch64 x86_64; do
  platforms=(--platform "manylinux2014_$arch")
  for ((minor = GLIBC_MINOR; minor >= 17; minor--)); do platforms+=(--platform "manylinux_2_${minor}_$arch"); done
  for py in 3.11 3.12 3.13; do
    target=$(mktemp -d)
    report=$target/report.json
    if .tools/uv/bin/python -m pip install --isolated --disable-pip-version-check --quiet --dry-run \
      --target "$target/site" --ignore-installed --only-binary=:all: "${platforms[@]}" \
      --python-version "$py" --implementation cp --require-hashes \
      -r deploy/agent/requirements.txt --report "$report" 2>"$target/err"; then
      n=$(.tools/uv/bin/python -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["install"]))' "$report")
      echo "agent lock: linux $arch, CPython $py, glibc >= 2.$GLIBC_MINOR: $n wheels resolve"
    else
      echo "agent lock: linux $arch, CPython $py: NOT installable:" >&2
      tail -3 "$target/err" >&2
      status=1
    fi
    rm -rf "$target"
  done
done
exit $status
