"""Operator messages as plain values: the one reading of the operator wire, shared by the console and
`continuum fleet`.

The console builds its frozen view models from these values (tui.convert); the CLI prints its JSON from
them. Values keep what the wire says (an empty state stays empty, an unmeasured latency stays 0, plans
keep the server's order) so that each reader applies its own presentation; the one rule both share is
here: a negative battery means the device has none (None).

Imports `protos` and nothing of the console: `continuum fleet` must run where textual is not installed.
"""

from __future__ import annotations

from typing import TypedDict

from protos.v1 import control_pb2, operator_pb2

__all__ = [
    "ActionValues",
    "AlternativeValues",
    "CapabilitiesValues",
    "DeviceDetailValues",
    "DeviceSummaryValues",
    "EventValues",
    "FiguresValues",
    "FleetChangeValues",
    "LinkValues",
    "PlanValues",
    "TierValues",
    "action_response",
    "device_detail",
    "device_summary",
    "event",
    "fleet_change",
    "plan_view",
    "tier_view",
]


class FiguresValues(TypedDict):
    """Predicted latency, money and device energy of one placement."""

    latency_ms: float
    cost_usd: float
    device_energy_j: float


class AlternativeValues(TypedDict):
    """A placement the planner weighed against the chosen one."""

    name: str
    figures: FiguresValues
    tiers: list[str]
    feasible: bool


class PlanValues(TypedDict):
    """One model's plan on one device; `measured_latency_ms` is 0 when nothing was measured yet."""

    model: str
    version: int
    layers: list[str]
    tiers: list[str]
    predicted: FiguresValues
    compute_ms: dict[str, float]
    transfer_ms: dict[str, float]
    alternatives: list[AlternativeValues]
    reason: str
    pinned: bool
    measured_latency_ms: float
    decided_unix_ms: int
    objective: str


class DeviceSummaryValues(TypedDict):
    """One device as listed; `battery_percent` is None for a device without a battery."""

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
    plans: list[PlanValues]
    uplink_history_mbps: list[float]
    rtt_history_ms: list[float]


class CapabilitiesValues(TypedDict):
    """What the device reported in its birth (power flattened into has_battery and on_ac)."""

    arch: str
    cpu_count: int
    memory_bytes: int
    os: str
    accelerators: list[str]
    execution_providers: list[str]
    has_battery: bool
    on_ac: bool
    device_class: str
    speed_factor: float


class LinkValues(TypedDict):
    """One network path of the device as last estimated."""

    target: str
    rtt_ms: float
    uplink_mbps: float
    downlink_mbps: float
    loss: float
    link_type: str


class EventValues(TypedDict):
    """Something that happened in the fleet."""

    id: int
    unix_ms: int
    kind: str
    device_id: str
    message: str


class DeviceDetailValues(TypedDict):
    """One device in depth: its summary, capabilities, links, plans with alternatives, recent events."""

    summary: DeviceSummaryValues
    capabilities: CapabilitiesValues
    links: list[LinkValues]
    plans: list[PlanValues]
    recent_events: list[EventValues]
    agent_version: str
    bd_seq: int


class TierValues(TypedDict):
    """An edge site or the cloud, with its load and cost."""

    tier: str
    site: str
    workers: int
    capacity: int
    queue_depth: int
    utilisation: float
    cost_per_hour: float
    drained: bool
    requests_by_placement: dict[str, int]


class FleetChangeValues(TypedDict):
    """One change of the fleet watch stream: a device upserted or removed, with the server's counts."""

    upsert: DeviceSummaryValues | None
    removed: str | None
    counts: dict[str, int]
    snapshot_done: bool


class ActionValues(TypedDict):
    """What the orchestrator answered to an operator action."""

    ok: bool
    message: str


def _figures(msg: operator_pb2.Figures) -> FiguresValues:
    return {"latency_ms": msg.latency_ms, "cost_usd": msg.cost_usd, "device_energy_j": msg.device_energy_j}


def plan_view(msg: operator_pb2.PlanView) -> PlanValues:
    """A PlanView (alternatives in the server's order)."""
    return {
        "model": msg.model,
        "version": msg.version,
        "layers": list(msg.layers),
        "tiers": list(msg.tiers),
        "predicted": _figures(msg.predicted),
        "compute_ms": dict(msg.compute_ms),
        "transfer_ms": dict(msg.transfer_ms),
        "alternatives": [
            {
                "name": alt.name,
                "figures": _figures(alt.figures),
                "tiers": list(alt.tiers),
                "feasible": alt.feasible,
            }
            for alt in msg.alternatives
        ],
        "reason": msg.reason,
        "pinned": msg.pinned,
        "measured_latency_ms": msg.measured_latency_ms,
        "decided_unix_ms": msg.decided_unix_ms,
        "objective": msg.objective,
    }


def device_summary(msg: operator_pb2.DeviceSummary) -> DeviceSummaryValues:
    """A DeviceSummary; a negative battery (no battery) becomes None."""
    return {
        "id": msg.id,
        "fleet": msg.fleet,
        "state": msg.state,
        "last_seen_unix_ms": msg.last_seen_unix_ms,
        "site": msg.site,
        "link_type": msg.link_type,
        "rtt_ms": msg.rtt_ms,
        "uplink_mbps": msg.uplink_mbps,
        "battery_percent": msg.battery_percent if msg.battery_percent >= 0 else None,
        "drained": msg.drained,
        "plans": [plan_view(p) for p in msg.plans],
        "uplink_history_mbps": list(msg.uplink_history_mbps),
        "rtt_history_ms": list(msg.rtt_history_ms),
    }


def _capabilities(msg: control_pb2.Capabilities) -> CapabilitiesValues:
    return {
        "arch": msg.arch,
        "cpu_count": msg.cpu_count,
        "memory_bytes": msg.memory_bytes,
        "os": msg.os,
        "accelerators": list(msg.accelerators),
        "execution_providers": list(msg.execution_providers),
        "has_battery": msg.power.has_battery,
        "on_ac": msg.power.on_ac,
        "device_class": msg.device_class,
        "speed_factor": msg.speed_factor,
    }


def _link(msg: operator_pb2.LinkView) -> LinkValues:
    return {
        "target": msg.target,
        "rtt_ms": msg.rtt_ms,
        "uplink_mbps": msg.uplink_mbps,
        "downlink_mbps": msg.downlink_mbps,
        "loss": msg.loss,
        "link_type": msg.link_type,
    }


def event(msg: operator_pb2.Event) -> EventValues:
    """An Event."""
    return {
        "id": msg.id,
        "unix_ms": msg.unix_ms,
        "kind": msg.kind,
        "device_id": msg.device_id,
        "message": msg.message,
    }


def device_detail(msg: operator_pb2.DeviceDetail) -> DeviceDetailValues:
    """A DeviceDetail (plans with their alternatives)."""
    return {
        "summary": device_summary(msg.summary),
        "capabilities": _capabilities(msg.capabilities),
        "links": [_link(link) for link in msg.links],
        "plans": [plan_view(p) for p in msg.plans],
        "recent_events": [event(e) for e in msg.recent_events],
        "agent_version": msg.agent_version,
        "bd_seq": msg.bd_seq,
    }


def tier_view(msg: operator_pb2.TierView) -> TierValues:
    """A TierView."""
    return {
        "tier": msg.tier,
        "site": msg.site,
        "workers": msg.workers,
        "capacity": msg.capacity,
        "queue_depth": msg.queue_depth,
        "utilisation": msg.utilisation,
        "cost_per_hour": msg.cost_per_hour,
        "drained": msg.drained,
        "requests_by_placement": dict(msg.requests_by_placement),
    }


def fleet_change(msg: operator_pb2.FleetChange) -> FleetChangeValues:
    """A FleetChange: at most one of `upsert` and `removed` is set (counts may be empty)."""
    kind = msg.WhichOneof("kind")
    return {
        "upsert": device_summary(msg.upsert) if kind == "upsert" else None,
        "removed": msg.removed if kind == "removed" else None,
        "counts": dict(msg.counts.by_state),
        "snapshot_done": msg.snapshot_done,
    }


def action_response(msg: operator_pb2.ActionResponse) -> ActionValues:
    """An ActionResponse."""
    return {"ok": msg.ok, "message": msg.message}
