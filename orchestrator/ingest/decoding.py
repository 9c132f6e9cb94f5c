"""Turn a received MQTT message into a domain `Inbound`, or a rejection with a reason. Pure.

Everything a device can send arrives here first; nothing it sends may stop ingest, so every
failure becomes a `Rejected` with a bounded reason (used as a metric label).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from orchestrator.domain.messages import (
    Birth,
    Capabilities,
    Death,
    DevicePlan,
    Inbound,
    LinkSample,
    Power,
    TelemetryReport,
)
from protos import PROTOCOL_VERSION
from protos.topics import DeviceTopic, InvalidTopic, OrchestratorTopic, parse_topic
from protos.v1 import control_pb2

__all__ = ["Inbound", "RejectReason", "Rejected", "decode", "device_plan"]

RejectReason = Literal[
    "undecodable", "wrong_topic", "oversized", "unknown_version", "unexpected_kind", "non_finite"
]


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input that was refused, and why (one of a few reasons, for counting)."""

    reason: RejectReason
    topic: str
    detail: str


_TYPES = {
    "birth": control_pb2.DeviceBirth,
    "state": control_pb2.Telemetry,
    "death": control_pb2.DeviceDeath,
}


def _first_non_finite(message: Message, prefix: str = "") -> str | None:
    """The path of the first NaN or infinite float field at any depth, or None if all are finite.

    Protobuf doubles happily carry NaN/inf; one in a link estimate would poison placement
    (every comparison with NaN is false), so such a message is refused whole.
    """
    for field, value in message.ListFields():
        if field.type not in _CHECKED_TYPES:
            continue
        if hasattr(value, "values"):
            items = list(value.values())  # a map field
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        # The path is spelled only on a finding: this runs for every telemetry message.
        for index, item in enumerate(items):
            if isinstance(item, float):
                if not math.isfinite(item):
                    return f"{prefix}{field.name}"
            elif isinstance(item, Message):
                found = _first_non_finite(item, f"{prefix}{field.name}[{index}].")
                if found is not None:
                    return found
    return None


_CHECKED_TYPES = frozenset(
    {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_MESSAGE}
)


@lru_cache(maxsize=1 << 18)
def _parse(topic: str) -> DeviceTopic | OrchestratorTopic:
    """parse_topic, remembered: a fleet reuses the same few topics per device."""
    return parse_topic(topic)


def decode(
    topic: str, payload: bytes, received_s: float, max_bytes: int, retained: bool = False
) -> Inbound | Rejected | None:
    """Decode one message. Returns None for messages that are ours to ignore (orchestrator state, cmd)."""
    if len(payload) > max_bytes:
        return Rejected("oversized", topic, f"{len(payload)} bytes > {max_bytes}")
    try:
        parsed = _parse(topic)
    except InvalidTopic as exc:
        return Rejected("wrong_topic", topic, str(exc))
    if not isinstance(parsed, DeviceTopic):
        return None
    if parsed.kind == "cmd":
        return None
    if not payload and parsed.kind == "birth":
        return None  # a cleared retained birth
    message_type = _TYPES[parsed.kind]
    message = message_type()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        return Rejected("undecodable", topic, f"not a {message_type.__name__}: {exc}")
    if message.protocol_version != PROTOCOL_VERSION:
        return Rejected(
            "unknown_version",
            topic,
            f"protocol_version {message.protocol_version}, we speak {PROTOCOL_VERSION}",
        )
    if (
        isinstance(message, control_pb2.DeviceBirth)
        and message.device_id
        and message.device_id != parsed.device
    ):
        return Rejected("wrong_topic", topic, f"birth names device {message.device_id!r}")
    bad = _first_non_finite(message)
    if bad is not None:
        return Rejected("non_finite", topic, f"{bad} is NaN or infinite; send finite numbers")
    return Inbound(parsed.kind, parsed.fleet, parsed.device, _domain(message), received_s, retained)


def device_plan(update: control_pb2.PlanUpdate) -> DevicePlan:
    """A PlanUpdate (sent, or held by a device) as a domain value."""
    return DevicePlan(
        model=update.model,
        version=update.version,
        layers=tuple(update.layers),
        tiers=tuple(update.tiers),
        predicted_latency_ms=update.predicted_latency_ms,
        predicted_cost_usd=update.predicted_cost_usd,
        predicted_energy_j=update.predicted_energy_j,
        reason=update.reason,
        fallback_ladder=tuple(update.fallback_ladder),
        pinned=update.pinned,
    )


def _capabilities(caps: control_pb2.Capabilities) -> Capabilities:
    power = caps.power
    return Capabilities(
        arch=caps.arch,
        cpu_count=caps.cpu_count,
        memory_bytes=caps.memory_bytes,
        os=caps.os,
        accelerators=tuple(caps.accelerators),
        execution_providers=tuple(caps.execution_providers),
        power=Power(power.has_battery, power.battery_percent, power.on_ac)
        if caps.HasField("power")
        else None,
        device_class=caps.device_class,
        speed_factor=caps.speed_factor,
    )


def _domain(
    message: control_pb2.DeviceBirth | control_pb2.Telemetry | control_pb2.DeviceDeath,
) -> Birth | TelemetryReport | Death:
    if isinstance(message, control_pb2.Telemetry):
        return TelemetryReport(
            bd_seq=message.bd_seq,
            seq=message.seq,
            historical=message.historical,
            links={
                link.target: LinkSample(
                    link.rtt_ms, link.uplink_mbps, link.downlink_mbps, link.loss, link.link_type
                )
                for link in message.links
            },
            link_changed=any(link.changed for link in message.links),
            cpu_percent=message.cpu_percent,
            battery_percent=message.battery_percent,
            on_ac=message.on_ac,
            measured_p50_ms={name: s.p50_ms for name, s in message.inference.items() if s.count},
        )
    if isinstance(message, control_pb2.DeviceBirth):
        return Birth(
            bd_seq=message.bd_seq,
            site=message.site,
            agent_version=message.agent_version,
            capabilities=_capabilities(message.capabilities),
            models=tuple(m.name for m in message.models),
            plans=tuple(device_plan(p) for p in message.plans),
        )
    return Death(message.bd_seq)
