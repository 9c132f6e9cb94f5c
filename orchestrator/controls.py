"""The operator's actions on the running fleet (the gRPC API and the data plane call these).

Each action runs on the shards and hands what they produced to the control loop to publish and log;
before the loop runs (startup), the output is dropped, as nothing can be published yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord, ShardOutput
from orchestrator.fleet.shard import ActionResult
from orchestrator.fleet.sharding import ShardedFleet
from orchestrator.plan_context import QUEUE_MOVE_MS, plan_context
from orchestrator.tier_load import TierLoad, TierLoads

__all__ = ["FleetControls"]


class FleetControls:
    """Device actions, fleet replans, site drains and tier load, each dispatched through the loop."""

    def __init__(
        self,
        fleet: ShardedFleet,
        events: EventStore,
        loads: TierLoads,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.fleet = fleet
        self.events = events
        self.loads = loads
        self.dispatch: Callable[[ShardOutput], None] = lambda out: None
        """The control loop's dispatch, once it runs."""
        self._clock = clock

    async def act(self, method: str, device_id: str, *args: object) -> ActionResult:
        """Run a device action on its shard and dispatch the commands it produced."""
        result, out = await self.fleet.act(method, device_id, *args, self._clock())
        self.dispatch(out)
        return result

    async def replan_all(self) -> ActionResult:
        """Replan every device."""
        result, out = await self.fleet.replan_all(self._clock())
        self.dispatch(out)
        return result

    async def drain_site(self, site: str, drained: bool) -> ActionResult:
        """Drain or undrain an edge site and replan the fleet around it."""
        if site not in self.loads.edge_sites():
            return ActionResult(
                "not_found", f"no edge site {site!r}; known: " + ", ".join(self.loads.edge_sites())
            )
        drained_sites = self.loads.drained_sites
        (drained_sites.add if drained else drained_sites.discard)(site)
        word = "drained" if drained else "undrained"
        self.events.append([EventRecord(int(self._clock() * 1000), "action", "", f"site {site} {word}")])
        await self.apply_context()
        return ActionResult("ok", f"edge site {site} {word}")

    async def report_tier_load(
        self,
        tier: str,
        site: str,
        workers: int,
        capacity: int,
        queue_depth: int,
        utilisation: float | None = None,
    ) -> None:
        """The data plane reports a site's load; plans are redone when its queueing delay moved."""
        if not self.loads.knows(tier, site):
            raise KeyError(f"no configured {tier} site {site!r}; add it under `tiers`")
        before = plan_context(self.loads).queue_ms
        self.loads.report(tier, site, TierLoad(workers, capacity, queue_depth, utilisation))
        after = plan_context(self.loads).queue_ms
        if abs(after[(tier, site)] - before[(tier, site)]) >= QUEUE_MOVE_MS:
            await self.apply_context()

    async def apply_context(self) -> None:
        """Hand every shard the current plan context (they replan their online devices)."""
        self.dispatch(await self.fleet.set_context(plan_context(self.loads), self._clock()))
