"""Operator-plane views of a device record (protobuf messages of operator.proto). Pure conversion."""

from __future__ import annotations

from orchestrator.fleet.records import DeviceRecord, PlanState
from protos.v1 import control_pb2, operator_pb2

__all__ = ["detail", "plan_view", "summary"]


def plan_view(
    model: str, plan: PlanState, with_alternatives: bool, objective: str = "latency"
) -> operator_pb2.PlanView:
    """A model's current plan as the operator API shows it."""
    view = operator_pb2.PlanView(
        model=model,
        version=plan.version,
        layers=list(plan.layers),
        tiers=list(plan.tiers),
        predicted=operator_pb2.Figures(
            latency_ms=plan.latency_ms, cost_usd=plan.cost_usd, device_energy_j=plan.energy_j
        ),
        compute_ms=plan.compute_ms,
        transfer_ms=plan.transfer_ms,
        reason=plan.reason,
        pinned=plan.pinned,
        measured_latency_ms=plan.measured_latency_ms,
        decided_unix_ms=plan.decided_ms,
        objective=objective,
    )
    if with_alternatives:
        for name, figures in plan.alternatives.items():
            alt = view.alternatives.add(name=name, feasible=figures is not None)
            alt.tiers.extend(plan.alternative_tiers.get(name, ()))
            if figures is not None:
                alt.figures.latency_ms, alt.figures.cost_usd, alt.figures.device_energy_j = figures
    return view


def summary(record: DeviceRecord) -> operator_pb2.DeviceSummary:
    """The one-line view of a device: state, links, battery, plans without alternatives."""
    session = record.session
    edge = record.links.get("edge")
    return operator_pb2.DeviceSummary(
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
        plans=[plan_view(m, p, False) for m, p in record.plans.items() if p.version],
        uplink_history_mbps=list(record.uplink_history),
        rtt_history_ms=list(record.rtt_history),
    )


def detail(record: DeviceRecord) -> operator_pb2.DeviceDetail:
    """Everything about a device, plans with their alternatives."""
    capabilities = control_pb2.Capabilities()
    capabilities.ParseFromString(record.capabilities)
    return operator_pb2.DeviceDetail(
        summary=summary(record),
        capabilities=capabilities,
        links=[
            operator_pb2.LinkView(
                target=target,
                rtt_ms=s.rtt_ms,
                uplink_mbps=s.uplink_mbps,
                downlink_mbps=s.downlink_mbps,
                loss=s.loss,
                link_type=s.link_type,
            )
            for target, s in record.links.items()
        ],
        plans=[plan_view(m, p, True) for m, p in record.plans.items() if p.version],
        agent_version=record.agent_version,
        bd_seq=record.session.bd_seq or 0,
    )
