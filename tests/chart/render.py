"""Running the real `helm` binary on the chart: find it, lint, render to parsed manifests.

Helm is required, not optional: when it is missing the chart tests fail with the command that installs it
(`make test` does; or scripts/fetch-helm.sh).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "continuum"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE, NAMESPACE = "rel", "continuum"
KUBE_VERSION = "1.30.0"
"""The Kubernetes version charts are rendered and validated for (Helm's own default differs by release)."""


def helm_binary() -> str | None:
    """helm on PATH, else the one scripts/fetch-helm.sh puts at .tools/bin/helm."""
    local = ROOT / ".tools" / "bin" / "helm"
    return shutil.which("helm") or (str(local) if local.exists() else None)


MISSING_HELM = (
    "helm is not installed: run `scripts/fetch-helm.sh` (puts it at .tools/bin/helm) or `make test`, "
    "or install Helm >= 3.14 from https://helm.sh/docs/intro/install/"
)


@dataclass(frozen=True)
class HelmResult:
    """Exit status and output of one helm command."""

    returncode: int
    stdout: str
    stderr: str


def run_helm(helm: str, *args: str) -> HelmResult:
    """Run helm with `args` (template and lint target KUBE_VERSION); never raises on a non-zero exit."""
    if args and args[0] in ("template", "lint"):
        args = (args[0], "--kube-version", KUBE_VERSION, *args[1:])
    done = subprocess.run([helm, *args], capture_output=True, text=True, timeout=120, check=False)
    return HelmResult(done.returncode, done.stdout, done.stderr)


def value_args(values_files: Sequence[Path] = (), sets: Mapping[str, str] | None = None) -> list[str]:
    """`-f FILE` and `--set K=V` arguments."""
    args: list[str] = []
    for path in values_files:
        args += ["-f", str(path)]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    return args


def render(
    helm: str, values_files: Sequence[Path] = (), sets: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """`helm template` of the chart (tests included) as parsed documents; fails loudly on a render error."""
    result = run_helm(
        helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *value_args(values_files, sets)
    )
    if result.returncode != 0:
        raise AssertionError(f"helm template failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(docs: Sequence[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one document of `kind` (and `name`); AssertionError naming what exists otherwise."""
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    if len(found) != 1:
        have = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(found)} among {have}")
    return found[0]


def pod_specs(doc: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec a document creates: workloads' templates and each RayCluster group's template."""
    kind, name = doc["kind"], doc["metadata"]["name"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        yield f"{kind}/{name}", doc["spec"]["template"]["spec"]
    elif kind == "Pod":
        yield f"Pod/{name}", doc["spec"]
    elif kind == "RayCluster":
        yield f"RayCluster/{name}/head", doc["spec"]["headGroupSpec"]["template"]["spec"]
        for group in doc["spec"].get("workerGroupSpecs", []):
            yield f"RayCluster/{name}/{group['groupName']}", group["template"]["spec"]


def containers(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Init containers and containers of a pod spec."""
    return [*pod.get("initContainers", []), *pod["containers"]]
