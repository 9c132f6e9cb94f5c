"""Data-plane metrics: counters by model/placement/outcome, latency by placement, loads at scrape time."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from orchestrator.dataplane.metrics import DataPlaneMetrics, WorkerLoadCollector
from orchestrator.dataplane.routing import WorkerLoad


def test_requests_are_counted_by_placement_and_outcome_and_timed() -> None:
    registry = CollectorRegistry()
    metrics = DataPlaneMetrics(registry)
    metrics.observe("resnet18", "device+edge", "ok", 0.040)
    metrics.observe("resnet18", "device+edge", "ok", 0.060)
    metrics.observe("resnet18", "device", "fallback", 0.2)
    metrics.observe("resnet18", "device+edge", "lost", 1.0)
    labels = {"model": "resnet18", "placement": "device+edge"}
    assert registry.get_sample_value("continuum_inference_requests_total", {**labels, "outcome": "ok"}) == 2
    assert registry.get_sample_value("continuum_inference_requests_total", {**labels, "outcome": "lost"}) == 1
    assert registry.get_sample_value("continuum_inference_latency_seconds_count", labels) == 2, (
        "lost is untimed"
    )


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        DataPlaneMetrics(CollectorRegistry()).observe("m", "device", "maybe", 0.1)


def test_worker_loads_are_read_at_scrape_time_and_summed_per_site() -> None:
    loads = [(("m", "edge", "e1"), WorkerLoad(3, 2)), (("m", "edge", "e1"), WorkerLoad(1, 2))]
    registry = CollectorRegistry()
    registry.register(WorkerLoadCollector(lambda: loads))
    labels = {"model": "m", "tier": "edge", "site": "e1"}
    assert registry.get_sample_value("continuum_tier_worker_requests_in_flight", labels) == 4
    assert registry.get_sample_value("continuum_tier_worker_queue_depth", labels) == 1
    loads.clear()
    assert b"continuum_tier_worker_queue_depth{" not in generate_latest(registry)
