"""Turn a received MQTT message into a typed inbound record, or a rejection with a reason. Pure.

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

from protos import PROTOCOL_VERSION
from protos.topics import DeviceTopic, InvalidTopic, OrchestratorTopic, parse_topic
from protos.v1 import control_pb2

__all__ = ["Inbound", "RejectReason", "Rejected", "decode"]

RejectReason = Literal[
    "undecodable", "wrong_topic", "oversized", "unknown_version", "unexpected_kind", "non_finite"
]


@dataclass(frozen=True, slots=True)
class Inbound:
    """A decoded birth, telemetry or death of one device, with when it was received."""

    kind: Literal["birth", "state", "death"]
    fleet: str
    device: str
    message: control_pb2.DeviceBirth | control_pb2.Telemetry | control_pb2.DeviceDeath
    received_s: float
    retained: bool = False


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
    return Inbound(parsed.kind, parsed.fleet, parsed.device, message, received_s, retained)
