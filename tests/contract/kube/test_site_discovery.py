"""Edge sites discovered from node labels.

No Kubernetes API server can run here, so these tests use a real `kubernetes.client.ApiClient` against a local
HTTP server (tests/contract/kube/apiserver.py) that speaks the API's wire format for the node list call, with
label selectors applied server-side and RBAC denial answered 403 as the real server does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orchestrator.kube import Forbidden, KubeClient, Site, discover_from_cluster, in_cluster
from orchestrator.kube.sites import parse_quantity
from tests.contract.kube.apiserver import FakeApiServer

pytestmark = pytest.mark.contract


def node(
    name: str, labels: dict[str, str], *, ready: bool = True, cpu: str = "4", memory: str = "8Gi"
) -> dict[str, Any]:
    """A v1 Node as the API server lists it (the fields discovery reads, plus realistic neighbours)."""
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
        },
    }


@pytest.fixture
def labelled_cluster(apiserver: FakeApiServer) -> FakeApiServer:
    apiserver.state.nodes = [
        node("edge-a-1", {"continuum.io/tier": "edge", "continuum.io/site": "site-a"}, cpu="3500m"),
        node("edge-a-2", {"continuum.io/tier": "edge", "continuum.io/site": "site-a"}, ready=False),
        node("edge-b-1", {"continuum.io/tier": "edge", "continuum.io/site": "site-b"}, memory="4096Mi"),
        node("cloud-1", {"continuum.io/tier": "cloud"}, cpu="16", memory="64Gi"),
        node("phone-ish", {"continuum.io/tier": "device"}),
        node("system-1", {}),
    ]
    return apiserver


def test_sites_are_grouped_by_tier_and_site_label_with_ready_capacity(
    labelled_cluster: FakeApiServer, kube: KubeClient
) -> None:
    found = discover_from_cluster(kube)

    assert found.sites == (
        Site(
            "edge", "site-a", ("edge-a-1", "edge-a-2"), ready_nodes=1, cpu_millis=3500, memory_bytes=8 * 2**30
        ),
        Site("edge", "site-b", ("edge-b-1",), ready_nodes=1, cpu_millis=4000, memory_bytes=4096 * 2**20),
        Site("cloud", "cloud", ("cloud-1",), ready_nodes=1, cpu_millis=16000, memory_bytes=64 * 2**30),
    )
    assert [name for name, _ in found.ignored] == ["phone-ish"]


def test_only_labelled_nodes_are_listed(labelled_cluster: FakeApiServer, kube: KubeClient) -> None:
    discover_from_cluster(kube)

    (request,) = labelled_cluster.requests("GET")
    assert request.path == "/api/v1/nodes"
    assert request.query == {"labelSelector": ["continuum.io/tier"]}


def test_cordoned_nodes_add_no_capacity(labelled_cluster: FakeApiServer, kube: KubeClient) -> None:
    labelled_cluster.state.nodes[0]["spec"]["unschedulable"] = True

    site_a = discover_from_cluster(kube).sites[0]

    assert (site_a.name, site_a.ready_nodes, site_a.cpu_millis) == ("site-a", 0, 0)


def test_missing_node_permission_says_which_value_grants_it(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    apiserver.state.forbidden.add("nodes")

    with pytest.raises(Forbidden, match="siteDiscovery"):
        discover_from_cluster(kube)


def test_integration_is_off_outside_a_cluster() -> None:
    assert not in_cluster({})
    assert in_cluster({"KUBERNETES_SERVICE_HOST": "10.96.0.1"})


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", Decimal("0.5")), ("2", Decimal(2)), ("16Gi", Decimal(16 * 2**30)), ("1k", Decimal(1000))],
)
def test_quantities_parse_to_base_units(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_a_malformed_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity("lots")
