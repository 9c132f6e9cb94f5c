"""Pure encoding and decoding of the control-plane messages one device sends and receives.

The session state (bdSeq of the current connection, the 0..255 telemetry sequence) lives in `SessionState`;
command payloads are decoded and validated here so that anything malformed becomes a `CommandRejected`
with a short, bounded reason that the caller counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from protos import PROTOCOL_VERSION
from protos.topics import InvalidId, validate_id
from protos.v1 import control_pb2 as pb

__all__ = [
    "MAX_COMMAND_BYTES",
    "CommandRejected",
    "SessionState",
    "decode_command",
    "decode_orchestrator_state",
    "encode_death",
]

SEQ_MODULO = 256
TIERS = frozenset({"device", "edge", "cloud"})
MAX_COMMAND_BYTES = 1024 * 1024
"""Default largest command payload the agent decodes (1 MiB: a plan for any zoo model is under 1 KiB).
Larger payloads are rejected as "oversized" before parsing, because a broker without `max_packet_size`
forwards anything and parsing a multi-megabyte message costs a small device memory and CPU."""


@dataclass
class SessionState:
    """One MQTT session of one device: its bdSeq and the next telemetry sequence number."""

    bd_seq: int
    seq: int = field(default=0)

    def next_seq(self) -> int:
        """The seq for the next telemetry message: 0, 1, ..., 255, 0, ..."""
        value = self.seq
        self.seq = (value + 1) % SEQ_MODULO
        return value


class CommandRejected(Exception):
    """A command the agent will not run; `reason` is a short label (a bounded set) for counting."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def encode_death(bd_seq: int, timestamp_ms: int, reason: str) -> bytes:
    """The DeviceDeath payload for the last will ("will") or a clean stop ("shutdown")."""
    death = pb.DeviceDeath(
        protocol_version=PROTOCOL_VERSION, bd_seq=bd_seq, timestamp_ms=timestamp_ms, reason=reason
    )
    return death.SerializeToString()


def decode_command(payload: bytes, max_bytes: int = MAX_COMMAND_BYTES) -> pb.Command:
    """Parse and validate a Command; raises CommandRejected with reason "oversized" (more than
    `max_bytes`, checked before parsing), "undecodable", "protocol_version", "unknown" (no body we know)
    or "invalid_plan"."""
    if len(payload) > max_bytes:
        raise CommandRejected("oversized", f"{len(payload)} bytes, this agent accepts at most {max_bytes}")
    command = pb.Command()
    try:
        command.ParseFromString(payload)
    except DecodeError as exc:
        raise CommandRejected("undecodable", str(exc)) from exc
    if command.protocol_version != PROTOCOL_VERSION:
        raise CommandRejected("protocol_version", f"got {command.protocol_version}, speak {PROTOCOL_VERSION}")
    body = command.WhichOneof("body")
    if body is None:
        raise CommandRejected("unknown", "no command body this agent understands")
    if body == "plan_update":
        _validate_plan(command.plan_update)
    return command


def _validate_plan(plan: pb.PlanUpdate) -> None:
    try:
        validate_id(plan.model, "model name")  # it becomes a file name in the plan cache
    except InvalidId as exc:
        raise CommandRejected("invalid_plan", str(exc)) from exc
    if len(plan.layers) != len(plan.tiers):
        raise CommandRejected("invalid_plan", f"{len(plan.layers)} layers but {len(plan.tiers)} tiers")
    unknown = set(plan.tiers) - TIERS
    if unknown:
        raise CommandRejected("invalid_plan", f"unknown tiers {sorted(unknown)}")
    bad_ladder = set(plan.fallback_ladder) - TIERS
    if bad_ladder:
        raise CommandRejected("invalid_plan", f"unknown fallback tiers {sorted(bad_ladder)}")


def decode_orchestrator_state(payload: bytes) -> pb.OrchestratorState | None:
    """The retained orchestrator state, or None when the payload is empty (cleared) or unreadable."""
    if not payload:
        return None
    state = pb.OrchestratorState()
    try:
        state.ParseFromString(payload)
    except DecodeError:
        return None
    return state
