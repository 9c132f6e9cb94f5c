"""Domain views (`orchestrator.domain.views`) to the operator API's messages. Pure, field for field."""

from __future__ import annotations

from orchestrator.domain.messages import Capabilities
from orchestrator.domain.views import DeviceDetail, DeviceSummary, PlanView, TierView
from orchestrator.events.store import StoredEvent
from protos.v1 import control_pb2, operator_pb2

__all__ = ["capabilities", "detail", "event", "plan_view", "summary", "tier_view"]


def plan_view(plan: PlanView) -> operator_pb2.PlanView:
    """A plan as the operator API shows it."""
    view = operator_pb2.PlanView(
        model=plan.model,
        version=plan.version,
        layers=list(plan.layers),
        tiers=list(plan.tiers),
        predicted=operator_pb2.Figures(
            latency_ms=plan.latency_ms, cost_usd=plan.cost_usd, device_energy_j=plan.device_energy_j
        ),
        compute_ms=dict(plan.compute_ms),
        transfer_ms=dict(plan.transfer_ms),
        reason=plan.reason,
        pinned=plan.pinned,
        measured_latency_ms=plan.measured_latency_ms,
        decided_unix_ms=plan.decided_unix_ms,
        objective=plan.objective,
    )
    for alternative in plan.alternatives:
        alt = view.alternatives.add(name=alternative.name, feasible=alternative.figures is not None)
        alt.tiers.extend(alternative.tiers)
        if alternative.figures is not None:
            alt.figures.latency_ms, alt.figures.cost_usd, alt.figures.device_energy_j = alternative.figures
    return view


def summary(device: DeviceSummary) -> operator_pb2.DeviceSummary:
    """The one-line view of a device."""
    return operator_pb2.DeviceSummary(
        id=device.id,
        fleet=device.fleet,
        state=device.state,
        last_seen_unix_ms=device.last_seen_unix_ms,
        site=device.site,
        link_type=device.link_type,
        rtt_ms=device.rtt_ms,
        uplink_mbps=device.uplink_mbps,
        battery_percent=device.battery_percent,
        drained=device.drained,
        plans=[plan_view(p) for p in device.plans],
        uplink_history_mbps=list(device.uplink_history_mbps),
        rtt_history_ms=list(device.rtt_history_ms),
    )


def capabilities(caps: Capabilities) -> control_pb2.Capabilities:
    """A device's capabilities as it sent them."""
    message = control_pb2.Capabilities(
        arch=caps.arch,
        cpu_count=caps.cpu_count,
        memory_bytes=caps.memory_bytes,
        os=caps.os,
        accelerators=list(caps.accelerators),
        execution_providers=list(caps.execution_providers),
        device_class=caps.device_class,
        speed_factor=caps.speed_factor,
    )
    if caps.power is not None:
        message.power.CopyFrom(
            control_pb2.Power(
                has_battery=caps.power.has_battery,
                battery_percent=caps.power.battery_percent,
                on_ac=caps.power.on_ac,
            )
        )
    return message


def detail(device: DeviceDetail) -> operator_pb2.DeviceDetail:
    """Everything about a device, plans with their alternatives."""
    return operator_pb2.DeviceDetail(
        summary=summary(device.summary),
        capabilities=capabilities(device.capabilities),
        links=[
            operator_pb2.LinkView(
                target=target,
                rtt_ms=link.rtt_ms,
                uplink_mbps=link.uplink_mbps,
                downlink_mbps=link.downlink_mbps,
                loss=link.loss,
                link_type=link.link_type,
            )
            for target, link in device.links
        ],
        plans=[plan_view(p) for p in device.plans],
        agent_version=device.agent_version,
        bd_seq=device.bd_seq,
    )


def tier_view(tier: TierView) -> operator_pb2.TierView:
    """A tier site with its load and drain state."""
    return operator_pb2.TierView(
        tier=tier.tier,
        site=tier.site,
        workers=tier.workers,
        capacity=tier.capacity,
        queue_depth=tier.queue_depth,
        utilisation=tier.utilisation,
        cost_per_hour=tier.cost_per_hour,
        drained=tier.drained,
    )


def event(stored: StoredEvent) -> operator_pb2.Event:
    """One event of the log."""
    return operator_pb2.Event(
        id=stored.id,
        unix_ms=stored.unix_ms,
        kind=stored.kind,
        device_id=stored.device_id,
        message=stored.message,
    )
