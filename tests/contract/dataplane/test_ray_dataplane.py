"""The data plane on a real multi-node Ray cluster: label placement, least-loaded routing, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
import pytest_asyncio
import ray
from prometheus_client import CollectorRegistry
from ray.cluster_utils import Cluster

from agents.dataplane import DeviceInference
from continuum_inference import zoo
from continuum_inference.runtime import SegmentRunner, example_inputs, session
from orchestrator.dataplane.services import DataPlane, DataPlaneSettings
from orchestrator.dataplane.workers import LABEL_SITE, LABEL_TIER

pytestmark = [pytest.mark.contract, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

MODEL = "mobilenetv2"
NODE_LABELS = {
    "edge": {LABEL_TIER: "edge", LABEL_SITE: "edge-a"},
    "cloud": {LABEL_TIER: "cloud", LABEL_SITE: "eu-1"},
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Cluster, dict[str, str]]]:
    """A head without labels plus one labelled node per tier; yields the cluster and tier -> node id."""
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    node_ids = {}
    for tier, labels in NODE_LABELS.items():
        node = made.add_node(num_cpus=1, labels=labels)
        node_ids[tier] = node.node_id
    made.wait_for_nodes()
    try:
        yield made, node_ids
    finally:
        ray.shutdown()
        made.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plane(cluster: tuple[Cluster, dict[str, str]]) -> AsyncIterator[DataPlane]:
    """The data plane joined to the cluster: two workers per (tier, site), gateways on free ports."""
    settings = DataPlaneSettings(
        models=(MODEL,), edge_sites=("edge-a",), cloud_sites=("eu-1",), workers_per_site=2,
        ray_address=cluster[0].address,
    )  # fmt: skip
    made = DataPlane(settings, CollectorRegistry())
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


async def test_workers_land_on_the_nodes_labelled_with_their_tier_and_site(
    cluster: tuple[Cluster, dict[str, str]], plane: DataPlane
) -> None:
    assert plane.pool is not None
    assert plane.pool.placement == "labels"
    keys = list(plane.pool.loads())
    assert len(keys) == 4
    for key in keys:
        assert plane.pool.node_of(key) == cluster[1][key.tier], f"{key} is on the wrong node"


async def test_split_inference_through_ray_workers_equals_local_execution(plane: DataPlane) -> None:
    model = zoo.build(MODEL)
    runner = SegmentRunner(model)
    inputs = example_inputs(model)
    expected = session(model).run(None, inputs)[0]
    n = len(runner.cutter.graph.names())
    tiers = ["device"] * 5 + ["edge"] * 8 + ["cloud"] * (n - 13)
    device = DeviceInference(MODEL, runner, plane.addresses)
    results = await asyncio.gather(*(device.infer(inputs, tiers, deadline_s=30.0) for _ in range(6)))
    await device.close()
    for result in results:
        assert (result.outcome, result.placement) == ("ok", "device+edge+cloud"), result.errors
        assert np.allclose(next(iter(result.outputs.values())), expected, atol=1e-4)
        plane.metrics.observe(result.model, result.placement, result.outcome, result.latency_ms / 1000)
    assert plane.pool is not None
    served = {key: count for key, count in plane.pool.served.items() if key.tier == "edge"}
    assert all(count > 0 for count in served.values()), f"least-loaded routing left a worker idle: {served}"
    assert plane.registry is not None
    sample = plane.registry.get_sample_value(
        "continuum_inference_requests_total",
        {"model": MODEL, "placement": "device+edge+cloud", "outcome": "ok"},
    )
    assert sample == 6
    assert (
        plane.registry.get_sample_value("continuum_dataplane_hops_total", {"tier": "edge", "code": "OK"}) == 6
    )
    assert (
        plane.registry.get_sample_value(
            "continuum_tier_worker_queue_depth", {"model": MODEL, "tier": "edge", "site": "edge-a"}
        )
        == 0
    )


async def test_a_device_naming_an_unknown_edge_site_falls_back_to_the_cloud(plane: DataPlane) -> None:
    model = zoo.build(MODEL)
    runner = SegmentRunner(model)
    n = len(runner.cutter.graph.names())
    device = DeviceInference(MODEL, runner, plane.addresses, site="edge-nowhere")
    result = await device.infer(example_inputs(model), ["device"] * 5 + ["edge"] * (n - 5), deadline_s=30.0)
    await device.close()
    assert (result.outcome, result.placement) == ("fallback", "device+cloud")
    assert "edge-nowhere" in result.errors[0]


async def test_tier_workers_profile_themselves_under_their_tier_name(plane: DataPlane) -> None:
    assert plane.pool is not None
    profiles = plane.pool.profiles(runs=1)
    assert len(profiles) == 2
    assert {tier for p in profiles for tier in p["layers"][0]["latency_ms"]} == {"edge", "cloud"}
