"""Hostile input generators for `continuum bench fuzz`: ids, topics, protobuf payloads and their mutations.

Each generator takes a seeded `random.Random`, so any input reproduces from (seed, target, index).
Inputs are built structurally first (a valid message with hostile field values: NaN, infinities,
negative numbers, huge strings, hostile ids, wrong protocol versions), then possibly mutated at the
byte level (bit flips, truncation, garbage, random bytes, oversize) to reach the decoders' error paths.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.message import Message

from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2

__all__ = ["HOSTILE_IDS", "MqttCase", "has_nonfinite", "hostile_id", "mqtt_case", "topic", "topic_reason"]

HOSTILE_IDS: tuple[str, ...] = (
    "",
    "/",
    "+",
    "#",
    "a/b",
    "a+",
    "#a",
    "dev\x00ice",
    "x" * 129,
    "y" * 70_000,
    " ",
    "$SYS",
    "..",
    "-lead",
    "dévice",
    "d\n1",
    "d 1",
    "\udcff",
    "orchestrator",
)
HOSTILE_FLOATS: tuple[float, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
    -0.0,
    0.0,
    1e308,
    -1e308,
    5e-324,
    1e-9,
    1.0,
    100.0,
    101.0,
)
HOSTILE_UINTS: tuple[int, ...] = (0, 1, 2, 255, 256, 2**31, 2**32 - 1)
HOSTILE_UINT64: tuple[int, ...] = (0, 1, 2**32, 2**63, 2**64 - 1)
KINDS = ("birth", "state", "death", "cmd")
_PRINTABLE = "abcdefghijklmnopqrstuvwxyz0123456789-_.:/+#$ \x00é"


@dataclass(frozen=True)
class MqttCase:
    """One message as it arrives from the broker."""

    topic: str
    payload: bytes
    retained: bool = False

    def __repr__(self) -> str:
        return f"MqttCase(topic={self.topic[:80]!r}, payload={self.payload[:120]!r}, len={len(self.payload)})"


def hostile_id(rng: random.Random) -> str:
    """A valid id half the time, otherwise one that must be refused (or random text)."""
    roll = rng.random()
    if roll < 0.5:
        return f"dev-{rng.randrange(10_000)}"
    if roll < 0.85:
        return rng.choice(HOSTILE_IDS)
    return "".join(rng.choice(_PRINTABLE) for _ in range(rng.randrange(0, 40)))


def _wire_id(rng: random.Random) -> str:
    """A hostile id that protobuf can carry (string fields refuse lone surrogates at build time)."""
    value = hostile_id(rng)
    return value.encode("utf-8", "replace").decode("utf-8")


def topic(rng: random.Random) -> str:
    """A topic: well formed, with a hostile level, with a wrong prefix/depth/kind, or random text."""
    roll = rng.random()
    fleet, device = hostile_id(rng), hostile_id(rng)
    kind = rng.choice(KINDS) if rng.random() < 0.8 else rng.choice(("", "births", "cmd/x", "+", "#", "STATE"))
    if roll < 0.6:
        return f"continuum/v1/{fleet}/{device}/{kind}"
    if roll < 0.7:
        return f"continuum/v1/{fleet}/orchestrator"
    if roll < 0.85:
        prefix = rng.choice(
            ("continuum/v2", "/continuum/v1", "continuum", "", "continuum/v1/", "$share/g/continuum/v1")
        )
        levels = [prefix, fleet, device, kind] + [device] * rng.randrange(0, 3)
        return "/".join(levels)
    return "".join(rng.choice(_PRINTABLE) for _ in range(rng.randrange(0, 200)))


def topic_reason(message: str) -> str:
    """Bucket an InvalidTopic message into a short reason for counting."""
    for needle, reason in (
        ("is not under", "wrong_prefix"),
        ("levels", "wrong_depth"),
        ("unknown kind", "unknown_kind"),
        ("characters long", "id_too_long"),
        ("is empty", "empty_id"),
        ("reserve", "reserved_character"),
        ("must start with", "bad_id_characters"),
    ):
        if needle in message:
            return reason
    return "other"


def hostile_float(rng: random.Random) -> float:
    """A hostile float half the time (NaN, infinities, extremes), else an ordinary one."""
    return rng.choice(HOSTILE_FLOATS) if rng.random() < 0.5 else rng.uniform(-1e3, 1e4)


def _version(rng: random.Random) -> int:
    return PROTOCOL_VERSION if rng.random() < 0.75 else rng.choice((0, 2, 2**32 - 1))


def _birth(rng: random.Random, device: str) -> control_pb2.DeviceBirth:
    birth = control_pb2.DeviceBirth(
        protocol_version=_version(rng),
        device_id=device if rng.random() < 0.8 else _wire_id(rng),
        fleet=_wire_id(rng),
        bd_seq=rng.choice(HOSTILE_UINT64),
        agent_version="x" * rng.choice((0, 5, 10_000)),
        timestamp_ms=rng.choice((0, -1, 2**63 - 1, 1_700_000_000_000)),
        site=_wire_id(rng),
    )
    caps = birth.capabilities
    caps.cpu_count = rng.choice(HOSTILE_UINTS)
    caps.memory_bytes = rng.choice(HOSTILE_UINT64)
    caps.speed_factor = hostile_float(rng)
    caps.power.battery_percent = hostile_float(rng)
    caps.power.has_battery = rng.random() < 0.5
    for _ in range(rng.choice((0, 1, 3, 300))):
        birth.models.add(name=_wire_id(rng), profile_digest="d")
    return birth


def _telemetry(rng: random.Random) -> control_pb2.Telemetry:
    telemetry = control_pb2.Telemetry(
        protocol_version=_version(rng),
        seq=rng.choice(HOSTILE_UINTS),
        bd_seq=rng.choice(HOSTILE_UINT64),
        timestamp_ms=rng.choice((0, -1, 2**63 - 1)),
        cpu_percent=hostile_float(rng),
        memory_percent=hostile_float(rng),
        temperature_c=hostile_float(rng),
        battery_percent=hostile_float(rng),
        plan_version=rng.choice(HOSTILE_UINT64),
        historical=rng.random() < 0.2,
    )
    for _ in range(rng.choice((0, 1, 2, 50))):
        telemetry.links.add(
            target=rng.choice(("edge", "cloud", "", "moon", "x" * 1000)),
            rtt_ms=hostile_float(rng),
            uplink_mbps=hostile_float(rng),
            downlink_mbps=hostile_float(rng),
            loss=hostile_float(rng),
            link_type=rng.choice(("wifi", "cellular", "", "\x00")),
        )
    for _ in range(rng.choice((0, 1, 20))):
        stats = telemetry.inference[_wire_id(rng)]
        stats.count = rng.choice(HOSTILE_UINT64)
        stats.p99_ms = hostile_float(rng)
    return telemetry


def _death(rng: random.Random) -> control_pb2.DeviceDeath:
    return control_pb2.DeviceDeath(
        protocol_version=_version(rng),
        bd_seq=rng.choice(HOSTILE_UINT64),
        timestamp_ms=rng.choice((0, -1)),
        reason=rng.choice(("will", "shutdown", "", "z" * 5000)),
    )


def command(rng: random.Random) -> control_pb2.Command:
    """A Command with hostile bodies: plans with mismatched layers/tiers, unknown tiers, huge lists."""
    cmd = control_pb2.Command(
        protocol_version=_version(rng), command_id=_wire_id(rng), issued_ms=rng.choice((0, -1, 2**62))
    )
    body = rng.choice(("plan_update", "rebirth", "profile", "drain", "none"))
    if body == "plan_update":
        n = rng.choice((0, 1, 3, 8, 2000))
        plan = cmd.plan_update
        plan.model = rng.choice(("alexnet", "", "no-such-model", _wire_id(rng)))
        plan.version = rng.choice(HOSTILE_UINT64)
        plan.layers.extend(f"l{i}" for i in range(n))
        tiers = ("device", "edge", "cloud", "", "mars")
        plan.tiers.extend(rng.choice(tiers) for _ in range(n + rng.choice((0, 0, 0, -1, 1)) if n else 0))
        plan.predicted_latency_ms = hostile_float(rng)
        plan.fallback_ladder.extend(rng.choice(tiers) for _ in range(rng.choice((0, 3, 100))))
        plan.pinned = rng.random() < 0.2
    elif body == "rebirth":
        cmd.rebirth.reason = _wire_id(rng)
    elif body == "profile":
        cmd.profile.model = _wire_id(rng)
        cmd.profile.runs = rng.choice(HOSTILE_UINTS)
    elif body == "drain":
        cmd.drain.drained = rng.random() < 0.5
    return cmd


def command_payload(rng: random.Random) -> bytes:
    """A hostile Command payload, maybe mutated at the byte level."""
    return _mutate(rng, command(rng).SerializeToString(deterministic=True))


def _mutate(rng: random.Random, data: bytes) -> bytes:
    roll = rng.random()
    if roll < 0.45 or not data:
        return data
    if roll < 0.6:
        raw = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return bytes(raw)
    if roll < 0.7:
        return data[: rng.randrange(len(data))]
    if roll < 0.8:
        return data + rng.randbytes(rng.randrange(1, 32))
    if roll < 0.9:
        return rng.randbytes(rng.randrange(0, 256))
    if roll < 0.95:
        return b"\x0a\xff\xff\xff\xff\x0f" + data  # a length-delimited field claiming 4 GiB
    return data * (70_000 // max(len(data), 1) + 1)  # beyond the payload limit


def payload(rng: random.Random, kind: str, device: str = "dev-1") -> bytes:
    """A hostile payload for a topic kind."""
    message: Message
    if kind == "birth":
        message = _birth(rng, device)
    elif kind == "state":
        message = _telemetry(rng)
    elif kind == "death":
        message = _death(rng)
    elif kind == "cmd":
        message = command(rng)
    else:
        message = control_pb2.OrchestratorState(protocol_version=_version(rng), online=rng.random() < 0.5)
    return _mutate(rng, message.SerializeToString(deterministic=True))


def mqtt_case(rng: random.Random) -> MqttCase:
    """A received message: mostly a well-formed device topic (so payload decoding runs), sometimes not."""
    device = _wire_id(rng) if rng.random() < 0.2 else f"dev-{rng.randrange(100)}"
    kind = rng.choice((*KINDS, "orchestrator"))
    if rng.random() < 0.85:
        name = (
            f"continuum/v1/f1/{device}/{kind}" if kind != "orchestrator" else "continuum/v1/f1/orchestrator"
        )
    else:
        name = topic(rng)
    return MqttCase(name, payload(rng, kind, device), retained=rng.random() < 0.2)


def has_nonfinite(message: object) -> bool:
    """Whether any float field (at any depth) of a decoded message is NaN or infinite: a protobuf message
    or a domain value the orchestrator decoded it into (dataclasses, mappings and tuples of them)."""
    if not isinstance(message, Message):
        return _value_nonfinite(message)
    for _descriptor, value in message.ListFields():
        items: list[object]
        if isinstance(value, (Message, float, int, str, bytes)):
            items = [value]
        elif hasattr(value, "items"):
            items = list(value.values())  # a map field
        else:
            items = list(value)  # a repeated field
        for item in items:
            if isinstance(item, Message) and has_nonfinite(item):
                return True
            if isinstance(item, float) and not math.isfinite(item):
                return True
    return False


def _value_nonfinite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Message):
        return has_nonfinite(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_value_nonfinite(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, Mapping):
        return any(_value_nonfinite(v) for v in value.values())
    if isinstance(value, tuple | list):
        return any(_value_nonfinite(v) for v in value)
    return False


def _big_id(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.005:
        return "d" * 1_000_000
    if roll < 0.1:
        return "d" * rng.choice((129, 10_000))
    return _wire_id(rng)


def operator_call(rng: random.Random) -> tuple[str, Message, bool]:
    """A hostile unary Operator call: (method, request, whether to send the operator token)."""
    from protos.v1 import operator_pb2 as op

    method = rng.choice(
        ("ListDevices", "GetDevice", "ListTiers", "ListEvents", "PinPlan", "UnpinPlan", "DrainDevice",
         "DrainSite", "Replan", "RequestRebirth")
    )  # fmt: skip
    request: Message
    if method == "ListDevices":
        request = op.ListDevicesRequest(fleet=_big_id(rng), state=_wire_id(rng))
    elif method == "GetDevice":
        request = op.GetDeviceRequest(device_id=_big_id(rng))
    elif method == "ListTiers":
        request = op.ListTiersRequest()
    elif method == "ListEvents":
        request = op.ListEventsRequest(
            device_id=_big_id(rng), kind=_wire_id(rng), limit=rng.choice(HOSTILE_UINTS),
            after_id=rng.choice((0, -1, 2**63 - 1, -(2**63))),
        )  # fmt: skip
    elif method == "PinPlan":
        count = rng.choice((0, 1, 11, 11, 11, 5000)) if rng.random() > 0.005 else 2_000_000
        tiers = [rng.choice(("device", "edge", "cloud", "", "mars")) for _ in range(min(count, 50))]
        request = op.PinPlanRequest(
            device_id=_big_id(rng), model=_big_id(rng), tiers=tiers * (count // 50 or 1)
        )
    elif method == "UnpinPlan":
        request = op.UnpinPlanRequest(device_id=_big_id(rng), model=_big_id(rng))
    elif method == "DrainDevice":
        request = op.DrainDeviceRequest(device_id=_big_id(rng), drained=rng.random() < 0.5)
    elif method == "DrainSite":
        request = op.DrainSiteRequest(site=_big_id(rng), drained=rng.random() < 0.5)
    elif method == "Replan":
        request = op.ReplanRequest(device_id=_big_id(rng) if rng.random() < 0.7 else "")
    else:
        request = op.RebirthRequest(device_id=_big_id(rng))
    return method, request, rng.random() < 0.6
