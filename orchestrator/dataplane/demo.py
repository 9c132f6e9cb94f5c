"""The data plane as a service of `continuum demo`: tier workers and gateways, tier load fed into plans.

`demo_services(context)` returns one `DataPlaneService`. Its sites are the demo orchestrator's (the edge
site `context.site` and the cloud site `CLOUD_SITE`), so the load it reports with
`orchestrator.report_tier_load(...)` lands on the tiers the orchestrator plans with. Its metrics
(`continuum_inference_requests_total`, latency histograms, hop counters, worker queues) go on the
orchestrator's /metrics registry. Devices are not part of it: the demo's composition root runs the
device-side request loops (agents) against `service.plane.addresses`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from orchestrator.dataplane.routing import WorkerLoad
from orchestrator.dataplane.services import DataPlane, DataPlaneSettings
from orchestrator.services import DemoContext, Service

__all__ = ["CLOUD_SITE", "DEMO_MODELS", "DataPlaneService", "demo_services", "demo_sites", "site_loads"]

log = logging.getLogger(__name__)

DEMO_MODELS: tuple[str, ...] = ("mobilenetv2", "resnet18")
"""Models the demo serves (and the demo orchestrator plans for): the two lightest CNNs of the zoo."""
CLOUD_SITE = "cloud"
"""The cloud site name of the demo orchestrator's tiers."""


def demo_sites(context: DemoContext) -> list[tuple[str, str]]:
    """(tier, site) pairs the demo's workers serve: the demo's edge site and the cloud."""
    return [("edge", context.site), ("cloud", CLOUD_SITE)]


def site_loads(loads: Mapping[tuple[str, str, str], WorkerLoad]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (tier, site), the figures `report_tier_load` takes, from per-(model, tier, site) worker loads:
    workers, capacity (stages run at once), queue depth (stages waiting) and utilisation (in flight /
    capacity, capped at 1)."""
    sums: dict[tuple[str, str], list[int]] = {}
    for (_model, tier, site), load in loads.items():
        entry = sums.setdefault((tier, site), [0, 0, 0, 0])
        entry[0] += 1
        entry[1] += load.max_concurrency
        entry[2] += load.queue_depth
        entry[3] += load.in_flight
    return {
        key: {
            "workers": workers,
            "capacity": capacity,
            "queue_depth": queued,
            "utilisation": min(1.0, in_flight / capacity) if capacity else 0.0,
        }
        for key, (workers, capacity, queued, in_flight) in sums.items()
    }


class DataPlaneService:
    """Workers + gateways for the demo, reporting tier load to the orchestrator every `report_s`."""

    name = "data plane"

    def __init__(self, context: DemoContext, models: tuple[str, ...] = DEMO_MODELS, report_s: float = 1.0):
        self.context = context
        self.report_s = report_s
        edge = tuple(site for tier, site in demo_sites(context) if tier == "edge")
        cloud = tuple(site for tier, site in demo_sites(context) if tier == "cloud")
        self.settings = DataPlaneSettings(models=models, edge_sites=edge, cloud_sites=cloud)
        self.plane: DataPlane | None = None
        self._reporter: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start workers and gateways on the orchestrator's metrics registry; begin reporting load."""
        orchestrator: Any = self.context.extras.get("orchestrator")
        registry = getattr(orchestrator, "metrics_registry", None)
        plane = DataPlane(self.settings, registry)
        await plane.start()
        self.plane = plane
        self.context.extras["dataplane"] = plane
        if orchestrator is not None and hasattr(orchestrator, "report_tier_load"):
            self._reporter = asyncio.create_task(self._report(orchestrator), name="dataplane-load")

    async def _report(self, orchestrator: Any) -> None:
        while self.plane is not None and self.plane.pool is not None:
            loads = self.plane.pool.loads()
            keyed = {(k.model, k.tier, k.site): v for k, v in loads.items()}
            for (tier, site), figures in site_loads(keyed).items():
                try:
                    await orchestrator.report_tier_load(tier, site, **figures)
                except KeyError as exc:  # a site the orchestrator does not plan with: say so once
                    log.warning("tier load not reported: %s", exc)
                    return
            await asyncio.sleep(self.report_s)

    async def stop(self) -> None:
        """Stop reporting, then the gateways (graceful) and the workers."""
        if self._reporter is not None:
            self._reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reporter
            self._reporter = None
        if self.plane is not None:
            plane, self.plane = self.plane, None
            self.context.extras.pop("dataplane", None)
            await plane.stop()

    def describe(self) -> str:
        """Where the gateways listen and what they serve."""
        addresses = self.plane.addresses if self.plane else {}
        where = ", ".join(f"{tier} {addr}" for tier, addr in sorted(addresses.items())) or "not started"
        return f"data plane: {', '.join(self.settings.models)} on Ray tier workers; gateways {where}"


def demo_services(context: DemoContext) -> list[Service]:
    """The data plane's services for `continuum demo` (the seam in orchestrator/services.py)."""
    return [DataPlaneService(context)]
