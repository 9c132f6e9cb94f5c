"""What the chart renders matches what the code reads: orchestrator and Kubernetes settings, RBAC, ACL, Ray.

The rendered ConfigMap and the Deployment's environment (with the kubelet's `$(VAR)` expansion applied) are
fed to the orchestrator's real settings loader and to `KubeSettings`; the broker ACL is compared line by line
with `continuum broker config`'s renderer, so the two ways of running a broker cannot drift apart.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from orchestrator.kube import KubeSettings, worker_groups
from orchestrator.security import AclModel, render_acl
from orchestrator.settings import load_settings
from tests.chart.render import CHART, find, render

pytestmark = pytest.mark.chart

CI = CHART / "ci"


def pod_env(docs: list[dict[str, Any]], secret_data: dict[str, str] | None = None) -> dict[str, str]:
    """The orchestrator container's environment as the kubelet would build it for pod `rel-continuum-0`."""
    deployment = find(docs, "Deployment", "rel-continuum")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    if secret_data is None:
        secret = find(docs, "Secret", "rel-continuum")
        secret_data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    env: dict[str, str] = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = re.sub(
                r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), item["value"]
            )
        elif "fieldRef" in item["valueFrom"]:
            path = item["valueFrom"]["fieldRef"]["fieldPath"]
            env[item["name"]] = {"metadata.name": "rel-continuum-0", "metadata.namespace": "continuum"}[path]
        else:
            env[item["name"]] = secret_data[item["valueFrom"]["secretKeyRef"]["key"]]
    return env


def load_orchestrator_settings(
    docs: list[dict[str, Any]], tmp_path: Path, env: dict[str, str], monkeypatch: Any
) -> Any:
    config = tmp_path / "orchestrator.yaml"
    config.write_text(find(docs, "ConfigMap", "rel-continuum")["data"]["orchestrator.yaml"])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings(config)


def test_default_config_loads_in_the_orchestrator_with_secrets_from_the_environment(
    helm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render(helm, sets={"orchestrator.auth.operatorToken": "tok-123", "mqtt.password": "pw-456"})
    settings = load_orchestrator_settings(docs, tmp_path, pod_env(docs), monkeypatch)

    assert settings.mqtt.broker == "rel-continuum-broker-internal.continuum.svc:1884"
    assert settings.mqtt.fleets == ["default"]
    assert (settings.mqtt.username, settings.mqtt.password.get_secret_value()) == ("orchestrator", "pw-456")
    assert [t.get_secret_value() for t in settings.api.operator_tokens] == ["tok-123"]
    assert (settings.api.host, settings.api.port, settings.metrics.port) == ("0.0.0.0", 50051, 9464)
    assert settings.instance == "rel-continuum-0"
    assert [(t.tier, t.site) for t in settings.tiers] == [("edge", "default"), ("cloud", "cloud")]


def test_tls_config_points_the_orchestrator_at_the_mounted_ca(
    helm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render(helm, [CI / "tls-values.yaml"])
    settings = load_orchestrator_settings(docs, tmp_path, pod_env(docs), monkeypatch)
    deployment = find(docs, "Deployment", "rel-continuum")
    pod = deployment["spec"]["template"]["spec"]
    ca_volume = next(v for v in pod["volumes"] if v["name"] == "mqtt-ca")

    assert settings.mqtt.broker == "rel-continuum-broker-internal.continuum.svc:1884"
    assert settings.mqtt.tls_ca == "/etc/continuum/mqtt-ca/ca.crt"
    assert ca_volume["secret"]["secretName"] == "continuum-mqtt-tls"
    conf = find(docs, "ConfigMap", "rel-continuum-broker")["data"]["mosquitto.conf"]
    assert "listener 8883\nuse_username_as_clientid true" in conf
    assert "listener 1883" not in conf
    assert conf.count("certfile /mosquitto/certs/tls.crt") == 2  # both listeners speak TLS
    assert "require_certificate true" in conf  # devices need client certificates


def test_external_broker_renders_no_broker_and_uses_the_existing_secret(
    helm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render(helm, [CI / "external-broker-values.yaml"])
    env = pod_env(docs, secret_data={"operator-token": "t", "mqtt-password": "p"})
    settings = load_orchestrator_settings(docs, tmp_path, env, monkeypatch)

    assert not [d for d in docs if d["metadata"]["name"].startswith("rel-continuum-broker")]
    assert not [d for d in docs if d["kind"] == "Secret"]
    assert settings.mqtt.broker == "mqtt.example.com:8883"
    assert settings.mqtt.username == "continuum-orchestrator"


def test_leader_election_settings_match_the_lease_rbac(helm: str) -> None:
    docs = render(helm)
    kube = KubeSettings.from_env({k: v for k, v in pod_env(docs).items() if k.startswith("CONTINUUM_KUBE__")})
    role = find(docs, "Role", "rel-continuum")

    assert kube.enabled
    assert kube.leader_election
    assert (kube.lease_duration_s, kube.renew_deadline_s, kube.retry_period_s) == (15, 10, 2)
    assert kube.resolved_identity({"POD_NAME": "rel-continuum-0"}) == "rel-continuum-0"
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [kube.lease_name],
            "verbs": ["get", "update"],
        },
    ]
    assert not [d for d in docs if d["kind"].startswith("Cluster")]
    assert not kube.site_discovery
    assert kube.raycluster == ""


def test_ray_scenario_grants_exactly_node_reading_and_its_raycluster(helm: str) -> None:
    docs = render(helm, [CI / "ray-values.yaml"])
    kube = KubeSettings.from_env({k: v for k, v in pod_env(docs).items() if k.startswith("CONTINUUM_KUBE__")})
    raycluster = find(docs, "RayCluster")
    role = find(docs, "Role", "rel-continuum")
    cluster_role = find(docs, "ClusterRole")
    binding = find(docs, "ClusterRoleBinding")

    assert kube.site_discovery
    assert kube.raycluster == raycluster["metadata"]["name"]
    assert role["rules"][-1] == {
        "apiGroups": ["ray.io"],
        "resources": ["rayclusters"],
        "resourceNames": [raycluster["metadata"]["name"]],
        "verbs": ["get", "patch"],
    }
    assert cluster_role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]}]
    assert binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "rel-continuum", "namespace": "continuum"}
    ]


def test_no_rbac_rule_uses_wildcards(helm: str) -> None:
    for values in sorted(CI.glob("*-values.yaml")):
        for doc in render(helm, [values]):
            for rule in doc.get("rules", []) if doc["kind"] in ("Role", "ClusterRole") else []:
                for key in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule[key], f"{values.name}: {doc['kind']} {rule}"


def test_ray_worker_groups_are_pinned_to_their_tier_and_site(helm: str) -> None:
    docs = render(helm, [CI / "ray-values.yaml"])
    raycluster = find(docs, "RayCluster")
    specs = {g["groupName"]: g for g in raycluster["spec"]["workerGroupSpecs"]}

    assert raycluster["spec"]["enableInTreeAutoscaling"] is False
    assert [
        (g.name, g.tier, g.site, g.replicas, g.min_replicas, g.max_replicas)
        for g in worker_groups(raycluster)
    ] == [
        ("edge-factory-north", "edge", "factory-north", 2, 1, 4),
        ("edge-factory-south", "edge", "factory-south", 1, 0, 2),
        ("cloud", "cloud", "cloud", 1, 0, 8),
    ]
    north = specs["edge-factory-north"]["template"]["spec"]
    assert north["nodeSelector"] == {"continuum.io/tier": "edge", "continuum.io/site": "factory-north"}
    assert north["tolerations"] == [
        {"key": "continuum.io/tier", "operator": "Equal", "value": "edge", "effect": "NoSchedule"}
    ]
    south = specs["edge-factory-south"]["template"]["spec"]
    assert south["nodeSelector"] == {
        "continuum.io/tier": "edge",
        "continuum.io/site": "factory-south",
        "kubernetes.io/arch": "arm64",
    }
    assert "nodeSelector" not in specs["cloud"]["template"]["spec"]
    labels = specs["cloud"]["template"]["metadata"]["labels"]
    assert (labels["continuum.io/tier"], labels["continuum.io/site"]) == ("cloud", "cloud")


def test_orchestrator_reaches_the_ray_head_service_kuberay_creates(helm: str) -> None:
    docs = render(helm, [CI / "ray-values.yaml"])
    env = pod_env(docs)

    assert (
        env["RAY_ADDRESS"]
        == f"ray://{find(docs, 'RayCluster')['metadata']['name']}-head-svc.continuum.svc:10001"
    )


def acl_rules(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    ("fleet", "user"), [("default", "orchestrator"), ("plant-7", "continuum-orchestrator")]
)
def test_broker_acl_is_the_one_continuum_broker_config_writes(helm: str, fleet: str, user: str) -> None:
    docs = render(helm, sets={"fleet": fleet, "mqtt.username": user})
    chart_acl = find(docs, "ConfigMap", "rel-continuum-broker")["data"]["acl"]

    assert acl_rules(chart_acl) == acl_rules(render_acl(AclModel(fleet=fleet, orchestrators=(user,))))


def test_devices_secret_lists_one_account_per_line(helm: str) -> None:
    docs = render(helm, [CI / "tls-values.yaml"])
    secret = find(docs, "Secret", "rel-continuum-broker-devices")

    assert secret["stringData"]["passwords"].splitlines() == [
        "cam-01:example-only-1",
        "cam-02:example-only-2",
    ]
