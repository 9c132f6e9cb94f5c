"""Protobuf -> view model conversion. Pure; the only tui module besides the client that reads protos."""

from __future__ import annotations

from protos.v1 import control_pb2, operator_pb2
from tui.models import (
    ActionResult,
    AlternativeInfo,
    CapabilitiesInfo,
    DeviceDetail,
    DeviceRow,
    EventInfo,
    FigureSet,
    FleetUpdate,
    LinkInfo,
    PlanInfo,
    TierRow,
)

__all__ = [
    "action_result",
    "device_detail",
    "device_row",
    "event_info",
    "fleet_update",
    "plan_info",
    "tier_row",
]


def _figures(msg: operator_pb2.Figures) -> FigureSet:
    return FigureSet(latency_ms=msg.latency_ms, cost_usd=msg.cost_usd, energy_j=msg.device_energy_j)


def plan_info(msg: operator_pb2.PlanView) -> PlanInfo:
    """A PlanView as a frozen PlanInfo; a measured latency of 0 means nothing measured yet (None)."""
    return PlanInfo(
        model=msg.model,
        version=msg.version,
        layers=tuple(msg.layers),
        tiers=tuple(msg.tiers),
        predicted=_figures(msg.predicted),
        compute_ms=dict(msg.compute_ms),
        transfer_ms=dict(msg.transfer_ms),
        alternatives=tuple(
            AlternativeInfo(
                name=alt.name, figures=_figures(alt.figures), tiers=tuple(alt.tiers), feasible=alt.feasible
            )
            for alt in msg.alternatives
        ),
        reason=msg.reason,
        pinned=msg.pinned,
        measured_latency_ms=msg.measured_latency_ms if msg.measured_latency_ms > 0 else None,
        decided_unix_ms=msg.decided_unix_ms,
        objective=msg.objective,
    )


def device_row(msg: operator_pb2.DeviceSummary) -> DeviceRow:
    """A DeviceSummary as a DeviceRow; a negative battery (no battery) becomes None, plans go by model name
    (so the fleet table's plan column always shows the same model)."""
    return DeviceRow(
        id=msg.id,
        fleet=msg.fleet,
        state=msg.state or "unknown",
        last_seen_unix_ms=msg.last_seen_unix_ms,
        site=msg.site,
        link_type=msg.link_type or "unknown",
        rtt_ms=msg.rtt_ms,
        uplink_mbps=msg.uplink_mbps,
        battery_percent=msg.battery_percent if msg.battery_percent >= 0 else None,
        drained=msg.drained,
        plans=tuple(plan_info(p) for p in sorted(msg.plans, key=lambda p: p.model)),
        uplink_history_mbps=tuple(msg.uplink_history_mbps),
        rtt_history_ms=tuple(msg.rtt_history_ms),
    )


def _capabilities(msg: control_pb2.Capabilities) -> CapabilitiesInfo:
    return CapabilitiesInfo(
        arch=msg.arch,
        cpu_count=msg.cpu_count,
        memory_bytes=msg.memory_bytes,
        os=msg.os,
        accelerators=tuple(msg.accelerators),
        execution_providers=tuple(msg.execution_providers),
        has_battery=msg.power.has_battery,
        on_ac=msg.power.on_ac,
        device_class=msg.device_class,
        speed_factor=msg.speed_factor,
    )


def event_info(msg: operator_pb2.Event) -> EventInfo:
    """An Event as an EventInfo."""
    return EventInfo(
        id=msg.id, unix_ms=msg.unix_ms, kind=msg.kind, device_id=msg.device_id, message=msg.message
    )


def device_detail(msg: operator_pb2.DeviceDetail) -> DeviceDetail:
    """A DeviceDetail message as the device screen's model (plans with their alternatives)."""
    return DeviceDetail(
        row=device_row(msg.summary),
        capabilities=_capabilities(msg.capabilities),
        links=tuple(
            LinkInfo(
                target=link.target,
                rtt_ms=link.rtt_ms,
                uplink_mbps=link.uplink_mbps,
                downlink_mbps=link.downlink_mbps,
                loss=link.loss,
                link_type=link.link_type,
            )
            for link in msg.links
        ),
        plans=tuple(plan_info(p) for p in sorted(msg.plans, key=lambda p: p.model)),
        events=tuple(event_info(e) for e in msg.recent_events),
        agent_version=msg.agent_version,
        bd_seq=msg.bd_seq,
    )


def tier_row(msg: operator_pb2.TierView) -> TierRow:
    """A TierView as a TierRow."""
    return TierRow(
        tier=msg.tier,
        site=msg.site,
        workers=msg.workers,
        capacity=msg.capacity,
        queue_depth=msg.queue_depth,
        utilisation=msg.utilisation,
        cost_per_hour=msg.cost_per_hour,
        drained=msg.drained,
        requests_by_placement=dict(msg.requests_by_placement),
    )


def fleet_update(msg: operator_pb2.FleetChange) -> FleetUpdate:
    """A FleetChange as a FleetUpdate (counts may be empty when the server sends none)."""
    kind = msg.WhichOneof("kind")
    return FleetUpdate(
        upsert=device_row(msg.upsert) if kind == "upsert" else None,
        removed=msg.removed if kind == "removed" else None,
        counts=dict(msg.counts.by_state),
        snapshot_done=msg.snapshot_done,
    )


def action_result(msg: operator_pb2.ActionResponse) -> ActionResult:
    """An ActionResponse as an ActionResult."""
    return ActionResult(ok=msg.ok, message=msg.message)
