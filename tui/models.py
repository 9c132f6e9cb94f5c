"""Frozen view models: what the screens show, converted once from the wire at the client boundary.

Screens never see protobuf messages or gRPC types; they see these values, which makes the rendering
logic testable with plain data and keeps the wire format free to evolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ActionResult",
    "AlternativeInfo",
    "CapabilitiesInfo",
    "DeviceDetail",
    "DeviceRow",
    "EventInfo",
    "FigureSet",
    "FleetUpdate",
    "LinkInfo",
    "PlanInfo",
    "TierRow",
]


@dataclass(frozen=True, slots=True)
class FigureSet:
    """Predicted latency, money and device energy of one placement."""

    latency_ms: float
    cost_usd: float
    energy_j: float


@dataclass(frozen=True, slots=True)
class AlternativeInfo:
    """A placement the planner weighed against the chosen one (device_only, edge_only, ...)."""

    name: str
    figures: FigureSet
    tiers: tuple[str, ...]
    feasible: bool


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """The placement of one model on one device, with the figures and the reason it won."""

    model: str
    version: int
    layers: tuple[str, ...]
    tiers: tuple[str, ...]
    predicted: FigureSet
    compute_ms: Mapping[str, float]
    transfer_ms: Mapping[str, float]
    alternatives: tuple[AlternativeInfo, ...]
    reason: str
    pinned: bool
    measured_latency_ms: float | None
    decided_unix_ms: int
    objective: str


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device as the fleet table shows it."""

    id: str
    fleet: str
    state: str
    last_seen_unix_ms: int
    site: str
    link_type: str
    rtt_ms: float
    uplink_mbps: float
    battery_percent: float | None
    drained: bool
    plans: tuple[PlanInfo, ...]
    uplink_history_mbps: tuple[float, ...]
    rtt_history_ms: tuple[float, ...]

    @property
    def tiers_used(self) -> frozenset[str]:
        """Every tier any of the device's current plans runs a layer on."""
        return frozenset(t for plan in self.plans for t in plan.tiers)


@dataclass(frozen=True, slots=True)
class CapabilitiesInfo:
    """What the device reported it can do in its birth."""

    arch: str
    cpu_count: int
    memory_bytes: int
    os: str
    accelerators: tuple[str, ...]
    execution_providers: tuple[str, ...]
    has_battery: bool
    on_ac: bool
    device_class: str
    speed_factor: float


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """One network path of the device as last estimated."""

    target: str
    rtt_ms: float
    uplink_mbps: float
    downlink_mbps: float
    loss: float
    link_type: str


@dataclass(frozen=True, slots=True)
class EventInfo:
    """Something that happened in the fleet: a birth, a death, a replan and why, an error, an action."""

    id: int
    unix_ms: int
    kind: str
    device_id: str
    message: str


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    """Everything the device screen shows about one device."""

    row: DeviceRow
    capabilities: CapabilitiesInfo
    links: tuple[LinkInfo, ...]
    plans: tuple[PlanInfo, ...]
    events: tuple[EventInfo, ...]
    agent_version: str
    bd_seq: int


@dataclass(frozen=True, slots=True)
class TierRow:
    """An edge site or the cloud, with its load and cost."""

    tier: str
    site: str
    workers: int
    capacity: int
    queue_depth: int
    utilisation: float
    cost_per_hour: float
    drained: bool
    requests_by_placement: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FleetUpdate:
    """One change from the fleet watch stream: a device upserted or removed, with the server's counts."""

    upsert: DeviceRow | None
    removed: str | None
    counts: Mapping[str, int]
    snapshot_done: bool


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the orchestrator answered to an operator action."""

    ok: bool
    message: str
