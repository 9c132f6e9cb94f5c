"""Just enough of a running orchestrator for the operator servicer: one local shard and an event store.

The TLS tests serve the real servicer over real gRPC; what they check is the transport, so the controls
behind it answer every action with a fixed result.
"""

from __future__ import annotations

from orchestrator.domain.views import TierView
from orchestrator.events.store import EventStore
from orchestrator.fleet.sessions import SessionPolicy
from orchestrator.fleet.shard import ActionResult, FleetShard
from orchestrator.fleet.sharding import LocalHandle, ShardedFleet


class ShardControls:
    """A local shard and an event store; actions succeed, site drains find no site."""

    def __init__(self) -> None:
        self.shard = FleetShard(SessionPolicy())
        self.fleet = ShardedFleet([LocalHandle(self.shard)])
        self.events = EventStore()

    async def act(self, method: str, device_id: str, *args: object) -> ActionResult:
        return ActionResult("ok", method)

    async def replan_all(self) -> ActionResult:
        return ActionResult("ok", "replanned")

    async def drain_site(self, site: str, drained: bool) -> ActionResult:
        return ActionResult("not_found", site)

    def tiers(self) -> list[TierView]:
        return []
