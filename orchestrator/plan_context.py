"""The fleet-wide inputs of every plan, derived from the tiers' load and the drained edge sites. Pure."""

from __future__ import annotations

from orchestrator.replanning.replanner import PlanContext
from orchestrator.tier_load import TierLoads

__all__ = ["QUEUE_MOVE_MS", "plan_context"]

QUEUE_MOVE_MS = 0.5
"""A site's queueing delay must move this much before the fleet is replanned for it."""


def plan_context(loads: TierLoads) -> PlanContext:
    """Queueing delay per (tier, site) from the latest load (reported, else configured), drained sites."""
    queue: dict[tuple[str, str], float] = {}
    for t in loads.configured:
        load = loads.load(t.tier, t.site)
        queue[(t.tier, t.site)] = load.queue_depth * t.service_ms / max(1, load.capacity)
    return PlanContext(queue_ms=queue, drained_sites=frozenset(loads.drained_sites))
