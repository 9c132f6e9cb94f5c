"""Operator views of a device record (`orchestrator.domain.views`). Pure conversion."""

from __future__ import annotations

from orchestrator.domain.views import AlternativeView, DeviceDetail, DeviceSummary, PlanView
from orchestrator.fleet.records import DeviceRecord, PlanState

__all__ = ["detail", "plan_view", "summary"]


def plan_view(model: str, plan: PlanState, with_alternatives: bool, objective: str = "latency") -> PlanView:
    """A model's current plan as the operator API shows it."""
    alternatives: tuple[AlternativeView, ...] = ()
    if with_alternatives:
        alternatives = tuple(
            AlternativeView(name, tuple(plan.alternative_tiers.get(name, ())), figures)
            for name, figures in plan.alternatives.items()
        )
    return PlanView(
        model=model,
        version=plan.version,
        layers=plan.layers,
        tiers=plan.tiers,
        latency_ms=plan.latency_ms,
        cost_usd=plan.cost_usd,
        device_energy_j=plan.energy_j,
        compute_ms=dict(plan.compute_ms),
        transfer_ms=dict(plan.transfer_ms),
        reason=plan.reason,
        pinned=plan.pinned,
        measured_latency_ms=plan.measured_latency_ms,
        decided_unix_ms=plan.decided_ms,
        objective=objective,
        alternatives=alternatives,
    )


def summary(record: DeviceRecord) -> DeviceSummary:
    """The one-line view of a device: state, links, battery, plans without alternatives."""
    session = record.session
    edge = record.links.get("edge")
    return DeviceSummary(
        id=session.device_id,
        fleet=session.fleet,
        state=session.state,
        last_seen_unix_ms=int(session.last_seen_s * 1000),
        site=record.site,
        link_type=edge.link_type if edge else "",
        rtt_ms=edge.rtt_ms if edge else 0.0,
        uplink_mbps=edge.uplink_mbps if edge else 0.0,
        battery_percent=record.battery_percent,
        drained=record.drained,
        plans=tuple(plan_view(m, p, False) for m, p in record.plans.items() if p.version),
        uplink_history_mbps=tuple(record.uplink_history),
        rtt_history_ms=tuple(record.rtt_history),
    )


def detail(record: DeviceRecord) -> DeviceDetail:
    """Everything about a device, plans with their alternatives."""
    return DeviceDetail(
        summary=summary(record),
        capabilities=record.capabilities,
        links=tuple(record.links.items()),
        plans=tuple(plan_view(m, p, True) for m, p in record.plans.items() if p.version),
        agent_version=record.agent_version,
        bd_seq=record.session.bd_seq or 0,
    )
