"""Domain values to the bytes the orchestrator publishes: device commands and its retained state. Pure.

The counterpart of `orchestrator.ingest.decoding`. Commands are encoded here, when the control loop
publishes them, rather than in the shard, so that the shard (maybe in a Ray actor) never sees protobuf.
"""

from __future__ import annotations

from orchestrator.domain.commands import Command, Drain, Rebirth
from orchestrator.domain.messages import DevicePlan
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2

__all__ = ["encode_command", "orchestrator_state", "plan_update"]


def plan_update(plan: DevicePlan) -> control_pb2.PlanUpdate:
    """A domain plan as the PlanUpdate message."""
    return control_pb2.PlanUpdate(
        model=plan.model,
        version=plan.version,
        layers=list(plan.layers),
        tiers=list(plan.tiers),
        predicted_latency_ms=plan.predicted_latency_ms,
        predicted_cost_usd=plan.predicted_cost_usd,
        predicted_energy_j=plan.predicted_energy_j,
        reason=plan.reason,
        fallback_ladder=list(plan.fallback_ladder),
        pinned=plan.pinned,
    )


def encode_command(command: Command) -> bytes:
    """The serialised Command for a device's cmd topic."""
    message = control_pb2.Command(
        protocol_version=PROTOCOL_VERSION, command_id=command.command_id, issued_ms=command.issued_ms
    )
    body = command.body
    if isinstance(body, DevicePlan):
        message.plan_update.CopyFrom(plan_update(body))
    elif isinstance(body, Rebirth):
        message.rebirth.reason = body.reason
        message.rebirth.SetInParent()
    elif isinstance(body, Drain):
        message.drain.drained = body.drained
        message.drain.SetInParent()
    return message.SerializeToString()


def orchestrator_state(online: bool, instance: str, timestamp_ms: int) -> bytes:
    """The retained OrchestratorState payload (online or offline) for `continuum/v1/<fleet>/orchestrator`."""
    return control_pb2.OrchestratorState(
        protocol_version=PROTOCOL_VERSION, online=online, timestamp_ms=timestamp_ms, instance=instance
    ).SerializeToString()
