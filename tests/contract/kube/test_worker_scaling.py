"""Worker groups scaled by patching the KubeRay RayCluster, and the demand/cost policy that picks replicas.

No Kubernetes API server can run here, so these tests use a real `kubernetes.client.ApiClient` against a local
HTTP server (tests/contract/kube/apiserver.py) that speaks the API's wire format for RayCluster GET and JSON
merge PATCH (conditional on the resourceVersion carried in the patch, 409 Conflict otherwise, 415 for patch
types custom resources do not accept). The policy functions are pure and tested directly.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.kube import (
    Conflict,
    KubeClient,
    RayClusterScaler,
    desired_replicas,
    fit_budget,
    worker_groups,
)
from tests.contract.kube.apiserver import FakeApiServer

pytestmark = pytest.mark.contract

NS, NAME = "continuum", "continuum-ray"


def group(name: str, tier: str, site: str, replicas: int, lo: int = 0, hi: int = 4) -> dict[str, Any]:
    """A workerGroupSpecs entry shaped like the chart's."""
    return {
        "groupName": name,
        "replicas": replicas,
        "minReplicas": lo,
        "maxReplicas": hi,
        "rayStartParams": {"labels": f"continuum.io/tier={tier},continuum.io/site={site}"},
        "template": {"spec": {"containers": [{"name": "ray-worker", "image": "continuum:0.1.0"}]}},
    }


@pytest.fixture
def raycluster(apiserver: FakeApiServer) -> FakeApiServer:
    apiserver.state.add_raycluster(
        NS,
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": {"name": NAME},
            "spec": {
                "enableInTreeAutoscaling": False,
                "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": []}}},
                "workerGroupSpecs": [
                    group("edge-site-a", "edge", "site-a", 1),
                    group("cloud", "cloud", "cloud", 2),
                ],
            },
        },
    )
    return apiserver


def replicas(apiserver: FakeApiServer) -> dict[str, int]:
    return {g.name: g.replicas for g in worker_groups(apiserver.state.rayclusters[(NS, NAME)])}


def test_scaling_patches_replicas_with_a_conditional_merge_patch(
    raycluster: FakeApiServer, kube: KubeClient
) -> None:
    version = raycluster.state.rayclusters[(NS, NAME)]["metadata"]["resourceVersion"]

    result = RayClusterScaler(kube, NS, NAME).scale({"edge-site-a": 3})

    assert result == {"edge-site-a": 3, "cloud": 2} == replicas(raycluster)
    (patch,) = raycluster.requests("PATCH")
    assert patch.content_type == "application/merge-patch+json"
    assert patch.body["metadata"] == {"resourceVersion": version}
    # A merge patch replaces lists whole: every group is sent, only replicas changed.
    assert patch.body["spec"]["workerGroupSpecs"] == [
        group("edge-site-a", "edge", "site-a", 3),
        group("cloud", "cloud", "cloud", 2),
    ]


def test_replicas_are_clamped_to_the_group_bounds(raycluster: FakeApiServer, kube: KubeClient) -> None:
    assert RayClusterScaler(kube, NS, NAME).scale({"edge-site-a": 99, "cloud": -1}) == {
        "edge-site-a": 4,
        "cloud": 0,
    }


def test_no_patch_is_sent_when_nothing_changes(raycluster: FakeApiServer, kube: KubeClient) -> None:
    RayClusterScaler(kube, NS, NAME).scale({"cloud": 2})

    assert raycluster.requests("PATCH") == []


def test_a_concurrent_edit_causes_409_and_a_retry_on_fresh_state(
    raycluster: FakeApiServer, kube: KubeClient
) -> None:
    def someone_else_edits(method: str, name: str) -> None:
        raycluster.state.before_write = None
        stored = raycluster.state.rayclusters[(NS, NAME)]
        stored["spec"]["workerGroupSpecs"][1]["replicas"] = 3
        stored["metadata"]["resourceVersion"] = raycluster.state.next_version()

    raycluster.state.before_write = someone_else_edits

    result = RayClusterScaler(kube, NS, NAME).scale({"edge-site-a": 2})

    assert result == {"edge-site-a": 2, "cloud": 3}  # the other edit survives
    assert len(raycluster.requests("PATCH")) == 2


def test_scaling_gives_up_with_a_hint_when_the_cluster_keeps_changing(
    raycluster: FakeApiServer, kube: KubeClient
) -> None:
    def always_edit(method: str, name: str) -> None:
        raycluster.state.rayclusters[(NS, NAME)]["metadata"]["resourceVersion"] = (
            raycluster.state.next_version()
        )

    raycluster.state.before_write = always_edit

    with pytest.raises(Conflict, match="autoscaler"):
        RayClusterScaler(kube, NS, NAME, attempts=2).scale({"edge-site-a": 2})


def test_an_unknown_group_is_refused_naming_the_known_ones(
    raycluster: FakeApiServer, kube: KubeClient
) -> None:
    with pytest.raises(ValueError, match="no worker group edge-site-z; its groups are cloud, edge-site-a"):
        RayClusterScaler(kube, NS, NAME).scale({"edge-site-z": 1})


def test_groups_carry_the_tier_and_site_of_their_ray_labels(
    raycluster: FakeApiServer, kube: KubeClient
) -> None:
    groups = RayClusterScaler(kube, NS, NAME).groups()

    assert [(g.name, g.tier, g.site) for g in groups] == [
        ("edge-site-a", "edge", "site-a"),
        ("cloud", "cloud", "cloud"),
    ]


@pytest.mark.parametrize(
    ("demand", "expected"),
    [(0.0, 1), (70.0, 1), (71.0, 2), (700.0, 10), (10_000.0, 12)],
)
def test_replicas_follow_demand_at_the_target_utilisation(demand: float, expected: int) -> None:
    assert desired_replicas(demand, capacity_rps=100, min_replicas=1, max_replicas=12) == expected


def test_budget_trims_the_most_expensive_groups_first_but_never_below_minimum() -> None:
    targets = {"cloud": 4, "edge-site-a": 3}
    prices = {"cloud": 2.0, "edge-site-a": 0.5}

    assert fit_budget(targets, prices, budget_per_hour=5.0, min_replicas={"cloud": 1}) == {
        "cloud": 1,
        "edge-site-a": 3,
    }
    assert fit_budget(targets, prices, budget_per_hour=0.0, min_replicas={"cloud": 1, "edge-site-a": 1}) == {
        "cloud": 1,
        "edge-site-a": 1,
    }
    assert fit_budget(targets, prices, budget_per_hour=100.0, min_replicas={}) == targets
