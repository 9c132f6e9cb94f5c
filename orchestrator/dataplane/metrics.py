"""Prometheus metrics of the data plane, on an injected registry.

`continuum_inference_requests_total{model, placement, outcome}` counts served requests (placement: the tiers
used in order, e.g. `device+edge+cloud`; outcome: ok, fallback, error, lost);
`continuum_inference_latency_seconds{model, placement}` is their end-to-end latency;
`continuum_dataplane_hops_total{tier, code}` and `continuum_dataplane_hop_duration_seconds{tier}` describe the
gateways' side. A collector reports each
tier worker's requests in flight and queue depth at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orchestrator.dataplane.routing import WorkerLoad

__all__ = ["OUTCOMES", "DataPlaneMetrics", "WorkerLoadCollector"]

OUTCOMES = ("ok", "fallback", "error", "lost")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class DataPlaneMetrics:
    """Request counters and latency histograms, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "continuum_inference_requests",
            "Split-inference requests served, by model, placement (tiers used in order) and outcome.",
            ["model", "placement", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "continuum_inference_latency_seconds",
            "End-to-end latency of split-inference requests as seen by the device.",
            ["model", "placement"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

        self.hops = Counter(
            "continuum_dataplane_hops",
            "InferenceHop calls served by the tier gateways, by tier and gRPC status code.",
            ["tier", "code"],
            registry=registry,
        )
        self.hop_seconds = Histogram(
            "continuum_dataplane_hop_duration_seconds",
            "Time a tier gateway spent on one hop, including everything downstream of it.",
            ["tier"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def observe_hop(self, tier: str, code: str, seconds: float) -> None:
        """Count one gateway hop by its status code and time it."""
        self.hops.labels(tier, code).inc()
        self.hop_seconds.labels(tier).observe(seconds)

    def observe(self, model: str, placement: str, outcome: str, latency_s: float) -> None:
        """Count one request; its latency is recorded unless it was lost."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not one of {OUTCOMES}")
        self.requests.labels(model, placement, outcome).inc()
        if outcome != "lost":
            self.latency.labels(model, placement).observe(latency_s)


class WorkerLoadCollector(Collector):
    """Reads the tier workers' loads at scrape time: in flight and queued, by model, tier and site."""

    def __init__(self, loads: Callable[[], Iterable[tuple[tuple[str, str, str], WorkerLoad]]]) -> None:
        self._loads = loads

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge family for requests in flight, one for queue depth, summed per (model, tier, site)."""
        in_flight = GaugeMetricFamily(
            "continuum_tier_worker_requests_in_flight",
            "Stages sent to tier workers and not answered yet.",
            labels=["model", "tier", "site"],
        )
        queued = GaugeMetricFamily(
            "continuum_tier_worker_queue_depth",
            "Stages waiting behind the running ones on tier workers.",
            labels=["model", "tier", "site"],
        )
        totals: dict[tuple[str, str, str], tuple[int, int]] = {}
        for key, load in self._loads():
            running, waiting = totals.get(key, (0, 0))
            totals[key] = (running + load.in_flight, waiting + load.queue_depth)
        for key, (running, waiting) in sorted(totals.items()):
            in_flight.add_metric(list(key), running)
            queued.add_metric(list(key), waiting)
        yield in_flight
        yield queued
