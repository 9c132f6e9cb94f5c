"""When a device's report calls for replanning: one rule, for the shard and the evaluation's replay. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.domain.messages import LinkSample
from orchestrator.fleet.records import DeviceRecord
from orchestrator.replanning.replanner import Replanner

__all__ = ["replan_due"]


def replan_due(
    record: DeviceRecord, links: Mapping[str, LinkSample], link_changed: bool, replanner: Replanner
) -> bool:
    """Replan when a candidate plan waits for confirmation, a link's change detector fired, or the links
    moved past the replanner's bound since the device was last planned."""
    pending = any(plan.pending is not None for plan in record.plans.values())
    return pending or link_changed or replanner.links_moved(record.planned_links, links)
