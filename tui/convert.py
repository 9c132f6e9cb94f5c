"""Plain operator values -> the console's frozen view models. Pure.

Where the console's presentation differs from the wire, it is decided here: an empty state or link type
shows as "unknown", an unmeasured latency (0) as None, plans are ordered by model name (so the fleet
table's plan column always shows the same model).
"""

from __future__ import annotations

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
from tui.operator_values import (
    ActionValues,
    CapabilitiesValues,
    DeviceDetailValues,
    DeviceSummaryValues,
    EventValues,
    FiguresValues,
    FleetChangeValues,
    PlanValues,
    TierValues,
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


def _figures(values: FiguresValues) -> FigureSet:
    return FigureSet(
        latency_ms=values["latency_ms"], cost_usd=values["cost_usd"], energy_j=values["device_energy_j"]
    )


def _by_model(plans: list[PlanValues]) -> tuple[PlanInfo, ...]:
    return tuple(plan_info(p) for p in sorted(plans, key=lambda p: p["model"]))


def plan_info(values: PlanValues) -> PlanInfo:
    """A plan as a frozen PlanInfo; a measured latency of 0 means nothing measured yet (None)."""
    measured = values["measured_latency_ms"]
    return PlanInfo(
        model=values["model"],
        version=values["version"],
        layers=tuple(values["layers"]),
        tiers=tuple(values["tiers"]),
        predicted=_figures(values["predicted"]),
        compute_ms=values["compute_ms"],
        transfer_ms=values["transfer_ms"],
        alternatives=tuple(
            AlternativeInfo(
                name=alt["name"],
                figures=_figures(alt["figures"]),
                tiers=tuple(alt["tiers"]),
                feasible=alt["feasible"],
            )
            for alt in values["alternatives"]
        ),
        reason=values["reason"],
        pinned=values["pinned"],
        measured_latency_ms=measured if measured > 0 else None,
        decided_unix_ms=values["decided_unix_ms"],
        objective=values["objective"],
    )


def device_row(values: DeviceSummaryValues) -> DeviceRow:
    """A device summary as a DeviceRow."""
    return DeviceRow(
        id=values["id"],
        fleet=values["fleet"],
        state=values["state"] or "unknown",
        last_seen_unix_ms=values["last_seen_unix_ms"],
        site=values["site"],
        link_type=values["link_type"] or "unknown",
        rtt_ms=values["rtt_ms"],
        uplink_mbps=values["uplink_mbps"],
        battery_percent=values["battery_percent"],
        drained=values["drained"],
        plans=_by_model(values["plans"]),
        uplink_history_mbps=tuple(values["uplink_history_mbps"]),
        rtt_history_ms=tuple(values["rtt_history_ms"]),
    )


def _capabilities(values: CapabilitiesValues) -> CapabilitiesInfo:
    return CapabilitiesInfo(
        arch=values["arch"],
        cpu_count=values["cpu_count"],
        memory_bytes=values["memory_bytes"],
        os=values["os"],
        accelerators=tuple(values["accelerators"]),
        execution_providers=tuple(values["execution_providers"]),
        has_battery=values["has_battery"],
        on_ac=values["on_ac"],
        device_class=values["device_class"],
        speed_factor=values["speed_factor"],
    )


def event_info(values: EventValues) -> EventInfo:
    """An event as an EventInfo."""
    return EventInfo(
        id=values["id"],
        unix_ms=values["unix_ms"],
        kind=values["kind"],
        device_id=values["device_id"],
        message=values["message"],
    )


def device_detail(values: DeviceDetailValues) -> DeviceDetail:
    """A device detail as the device screen's model (plans with their alternatives)."""
    return DeviceDetail(
        row=device_row(values["summary"]),
        capabilities=_capabilities(values["capabilities"]),
        links=tuple(LinkInfo(**link) for link in values["links"]),
        plans=_by_model(values["plans"]),
        events=tuple(event_info(e) for e in values["recent_events"]),
        agent_version=values["agent_version"],
        bd_seq=values["bd_seq"],
    )


def tier_row(values: TierValues) -> TierRow:
    """A tier as a TierRow."""
    return TierRow(**values)


def fleet_update(values: FleetChangeValues) -> FleetUpdate:
    """A fleet change as a FleetUpdate (counts may be empty when the server sends none)."""
    upsert = values["upsert"]
    return FleetUpdate(
        upsert=device_row(upsert) if upsert is not None else None,
        removed=values["removed"],
        counts=values["counts"],
        snapshot_done=values["snapshot_done"],
    )


def action_result(values: ActionValues) -> ActionResult:
    """An action's answer as an ActionResult."""
    return ActionResult(ok=values["ok"], message=values["message"])
