"""Every ci scenario renders manifests valid for Kubernetes 1.30 that hold the restricted pod security policy.

Validation uses kubernetes-validate's bundled 1.30 schemas in strict mode (unknown fields fail); only the two
custom resources (RayCluster, ServiceMonitor) have no schema there, and nothing else may lack one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.chart.render import (
    CI_VALUES,
    KUBE_VERSION,
    NAMESPACE,
    containers,
    find,
    helm_binary,
    pod_specs,
    render,
)

pytestmark = pytest.mark.chart

CUSTOM_KINDS = {"RayCluster", "ServiceMonitor"}
SCENARIOS = [pytest.param(path, id=path.stem) for path in CI_VALUES]


@cache
def rendered(values: Path) -> tuple[dict[str, Any], ...]:
    """One `helm template` per scenario per session."""
    helm = helm_binary()
    if helm is None:
        pytest.fail("helm is not installed: run scripts/fetch-helm.sh or `make test`")
    return tuple(render(helm, [values]))


@pytest.fixture(params=SCENARIOS)
def docs(request: pytest.FixtureRequest, helm: str) -> tuple[dict[str, Any], ...]:
    path: Path = request.param
    return rendered(path)


def test_manifests_are_valid_kubernetes_1_30(docs: tuple[dict[str, Any], ...]) -> None:
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            assert doc["kind"] in CUSTOM_KINDS, f"{where}: no Kubernetes 1.30 schema for this kind"
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {exc.message} at {'/'.join(map(str, exc.path))}")


def test_every_pod_holds_the_restricted_policy(docs: tuple[dict[str, Any], ...]) -> None:
    pods = [pod for doc in docs for pod in pod_specs(doc)]
    assert len(pods) >= 2  # orchestrator and the test Job at least
    for where, pod in pods:
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, where
        assert context["runAsUser"] > 0, where
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(key), f"{where}: {key}"
        assert not [v for v in pod.get("volumes", []) if "hostPath" in v], f"{where}: hostPath volume"
        for container in containers(pod):
            name = f"{where}/{container['name']}"
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["runAsNonRoot"] is True, name
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert not sc.get("privileged"), name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), f"{name}: requests"
            assert {"cpu", "memory"} <= set(resources["limits"]), f"{name}: limits"


def test_writable_paths_are_emptydirs_or_volumes(docs: tuple[dict[str, Any], ...]) -> None:
    for where, pod in (p for doc in docs for p in pod_specs(doc)):
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in containers(pod):
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
            if container["name"] in ("orchestrator", "check", "ray-head", "ray-worker", "passwords"):
                assert "/tmp" in mounts, f"{where}/{container['name']}: no writable /tmp"
                assert "emptyDir" in volumes[mounts["/tmp"]["name"]], where


def test_orchestrator_probes_are_native_grpc(docs: tuple[dict[str, Any], ...]) -> None:
    deployment = find(docs, "Deployment", "rel-continuum")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}

    assert ports == {"grpc": 50051, "metrics": 9464}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["grpc"] == {"port": 50051}, probe


def test_resources_carry_the_standard_labels(docs: tuple[dict[str, Any], ...]) -> None:
    for doc in docs:
        labels = doc["metadata"]["labels"]
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert labels["app.kubernetes.io/name"] == "continuum", where
        assert labels["app.kubernetes.io/instance"] == "rel", where
        assert labels["app.kubernetes.io/managed-by"] == "Helm", where
        assert labels["helm.sh/chart"] == "continuum-0.1.0", where
        assert labels["app.kubernetes.io/component"], where


def selectors(doc: dict[str, Any]) -> list[dict[str, str]]:
    """Every label selector in a document (matchLabels or a Service's plain selector)."""
    spec = doc.get("spec", {})
    found = []
    if doc["kind"] == "Service":
        found.append(spec["selector"])
    for key in ("selector", "podSelector"):
        value = spec.get(key)
        if isinstance(value, dict) and "matchLabels" in value:
            found.append(value["matchLabels"])
    for constraint in spec.get("template", {}).get("spec", {}).get("topologySpreadConstraints", []):
        found.append(constraint["labelSelector"]["matchLabels"])
    return found


def test_selectors_never_carry_the_chart_version(docs: tuple[dict[str, Any], ...]) -> None:
    checked = 0
    for doc in docs:
        for selector in selectors(doc):
            checked += 1
            assert "helm.sh/chart" not in selector, doc["metadata"]["name"]
            assert "app.kubernetes.io/version" not in selector, doc["metadata"]["name"]
    assert checked >= 4


def test_services_and_budgets_select_their_pods(docs: tuple[dict[str, Any], ...]) -> None:
    pods = {
        doc["metadata"]["name"]: doc["spec"]["template"]["metadata"]["labels"]
        for doc in docs
        if doc["kind"] == "Deployment"
    }
    for doc in docs:
        if doc["kind"] not in ("Service", "PodDisruptionBudget"):
            continue
        (selector,) = selectors(doc)
        matched = [name for name, labels in pods.items() if selector.items() <= labels.items()]
        name = doc["metadata"]["name"]
        assert len(matched) == 1, f"{doc['kind']}/{name} selects {matched}"
        assert name.startswith(matched[0]), f"{doc['kind']}/{name} selects {matched[0]}"


def test_the_helm_test_hook_checks_health_and_metrics(docs: tuple[dict[str, Any], ...]) -> None:
    job = find(docs, "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}

    assert job["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert container["command"][:2] == ["python", "-c"]
    assert "HealthStub" in container["command"][2]
    assert env["GRPC_TARGET"] == f"rel-continuum.{NAMESPACE}.svc:50051"
    assert env["METRICS_URL"] == f"http://rel-continuum.{NAMESPACE}.svc:9464/metrics"


def test_only_expected_kinds_are_rendered(docs: tuple[dict[str, Any], ...]) -> None:
    allowed = {
        "ConfigMap", "Secret", "Service", "ServiceAccount", "Deployment", "PersistentVolumeClaim", "Job",
        "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "PodDisruptionBudget", "NetworkPolicy",
        *CUSTOM_KINDS,
    }  # fmt: skip
    assert {doc["kind"] for doc in docs} <= allowed
    names = [(doc["kind"], doc["metadata"]["name"]) for doc in docs]
    assert len(names) == len(set(names)), "two resources share a kind and name"
