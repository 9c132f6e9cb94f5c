"""The fleet as operators see it: devices, their plans and links, and the tiers.

The operator API (`orchestrator.api.convert`) turns these into its messages field for field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orchestrator.domain.messages import Capabilities, LinkSample

__all__ = ["AlternativeView", "DeviceDetail", "DeviceSummary", "PlanView", "TierView"]


@dataclass(frozen=True, slots=True)
class AlternativeView:
    """A named alternative placement and its figures (None when infeasible)."""

    name: str
    tiers: tuple[str, ...]
    figures: tuple[float, float, float] | None
    """(latency_ms, cost_usd, device_energy_j)."""


@dataclass(frozen=True, slots=True)
class PlanView:
    """A model's current plan on a device."""

    model: str
    version: int
    layers: tuple[str, ...]
    tiers: tuple[str, ...]
    latency_ms: float
    cost_usd: float
    device_energy_j: float
    compute_ms: Mapping[str, float] = field(default_factory=dict)
    transfer_ms: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""
    pinned: bool = False
    measured_latency_ms: float = 0.0
    decided_unix_ms: int = 0
    objective: str = "latency"
    alternatives: tuple[AlternativeView, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """The one-line view of a device: state, edge link, battery, plans without alternatives."""

    id: str
    fleet: str
    state: str
    last_seen_unix_ms: int
    site: str
    link_type: str
    rtt_ms: float
    uplink_mbps: float
    battery_percent: float
    drained: bool
    plans: tuple[PlanView, ...]
    uplink_history_mbps: tuple[float, ...]
    rtt_history_ms: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    """Everything about a device, plans with their alternatives."""

    summary: DeviceSummary
    capabilities: Capabilities
    links: tuple[tuple[str, LinkSample], ...]
    """(target, the path as last reported), in the order the device reported them."""
    plans: tuple[PlanView, ...]
    agent_version: str
    bd_seq: int


@dataclass(frozen=True, slots=True)
class TierView:
    """A tier site with its latest load and drain state."""

    tier: str
    site: str
    workers: int
    capacity: int
    queue_depth: int
    utilisation: float
    cost_per_hour: float
    drained: bool
