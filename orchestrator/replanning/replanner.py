"""The replanning interface a fleet shard calls: what changed goes in, decisions come out.

`PlanContext` carries what is shared by every device (the tiers' queueing delay, drained sites);
`Replanner` is implemented by `orchestrator.replanning.fleet_replanner.FleetReplanner`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from orchestrator.domain.messages import DevicePlan, LinkSample
from orchestrator.fleet.records import DeviceRecord, PlanState

__all__ = ["PlanContext", "ReplanDecision", "Replanner"]


@dataclass(frozen=True, slots=True)
class PlanContext:
    """Fleet-wide inputs of every plan: queueing delay per (tier, site), drained edge sites."""

    queue_ms: Mapping[tuple[str, str], float] = field(default_factory=dict)
    drained_sites: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ReplanDecision:
    """One (device, model) decision: its message for the log and the plan to publish, if any."""

    record: DeviceRecord
    model: str
    switched: bool
    message: str
    publish: DevicePlan | None


class Replanner(Protocol):
    """Plans (device, model) pairs and applies hysteresis; mutates the records' PlanState."""

    expiry_s: int

    def links_moved(self, planned: Mapping[str, LinkSample], now: Mapping[str, LinkSample]) -> bool:
        """Whether links moved enough since the last plan to replan."""
        ...

    def replan(
        self, records: Sequence[DeviceRecord], context: PlanContext, now_s: float
    ) -> list[ReplanDecision]:
        """Replan these devices' models; returns one decision per (device, model) considered."""
        ...

    def explain(self, record: DeviceRecord) -> None:
        """Fill the plans' time breakdowns (on demand: costly)."""
        ...

    def update(self, plan: PlanState, model: str, mode: str) -> DevicePlan:
        """The plan to send the device for a PlanState ("device", "no_edge" or "all" tiers allowed)."""
        ...

    def pin(
        self, record: DeviceRecord, model: str, tiers: tuple[str, ...], pinned: bool
    ) -> tuple[str, str] | None:
        """Pin (tiers, or the current plan when empty) or unpin; returns (status, message) on error."""
        ...
