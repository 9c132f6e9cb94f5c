"""Fuzzing the agent's command handler: malformed commands are counted by reason, never raised,
and nothing a command says can write outside the agent's state directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.plans import PlanStore
from agents.session.bdseq import MemoryBdSeq
from agents.session.device import DeviceIdentity, DeviceSession
from agents.session.protocol import decode_orchestrator_state
from agents.transport.mqtt import Message
from benchmarks.fuzz import OfflineConnection
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2
from tests.fuzz.strategies import commands, mutated

FUZZ = settings(max_examples=300, deadline=None)
REASONS = {"undecodable", "protocol_version", "unknown", "invalid_plan", "expired", "profile_unavailable"}


class _Nothing:
    """Birth and telemetry sources that report nothing (the handler under test does not need them)."""

    def capabilities(self) -> control_pb2.Capabilities:
        return control_pb2.Capabilities()

    def models(self) -> list[control_pb2.ModelInfo]:
        return []

    def fill(self, telemetry: control_pb2.Telemetry, now_s: float) -> None:
        return None


def _session(plans: PlanStore) -> DeviceSession:
    nothing = _Nothing()
    connection = cast(Any, OfflineConnection())
    return DeviceSession(DeviceIdentity("f1", "dev-1"), connection, MemoryBdSeq(), nothing, nothing, plans)


@FUZZ
@given(mutated(commands))
def test_any_command_payload_is_handled_or_rejected_with_a_known_reason(payload: bytes) -> None:
    session = _session(PlanStore())
    session.handle_message(Message(session.topics["cmd"], payload, False, qos=1))
    rejected = {k.split(":", 1)[1] for k in session.counters if k.startswith("commands_rejected:")}
    handled = {k for k in session.counters if k.startswith("commands:")}
    assert rejected or handled, session.counters
    assert rejected <= REASONS, rejected


def _plan_command(model: str) -> bytes:
    command = control_pb2.Command(protocol_version=PROTOCOL_VERSION, command_id="c1")
    command.plan_update.model = model
    command.plan_update.version = 1
    command.plan_update.layers.append("l0")
    command.plan_update.tiers.append("edge")
    return command.SerializeToString()


def test_plan_for_a_path_like_model_name_never_writes_outside_the_plan_cache(tmp_path: Path) -> None:
    plans_dir = tmp_path / "state" / "plans"
    session = _session(PlanStore(plans_dir))
    session.handle_message(Message(session.topics["cmd"], _plan_command("../escaped"), False, qos=1))
    outside = [p for p in tmp_path.rglob("*.pb") if plans_dir not in p.parents]
    assert outside == [], f"a command wrote {outside} outside {plans_dir}"
    assert session.counters["commands_rejected:invalid_plan"] == 1


@pytest.mark.parametrize("model", ["a\x00b", "m" * 300], ids=["nul", "too-long-for-a-file-name"])
def test_plan_with_a_model_name_unusable_as_a_file_is_rejected_not_an_internal_error(
    tmp_path: Path, model: str
) -> None:
    session = _session(PlanStore(tmp_path / "plans"))
    session.handle_message(Message(session.topics["cmd"], _plan_command(model), False, qos=1))
    assert session.counters["commands_rejected:internal_error"] == 0
    assert session.counters["commands_rejected:invalid_plan"] == 1


@FUZZ
@given(st.binary(max_size=256))
def test_orchestrator_state_decoder_never_raises(payload: bytes) -> None:
    state = decode_orchestrator_state(payload)
    assert state is None or isinstance(state, control_pb2.OrchestratorState)


@FUZZ
@given(st.binary(max_size=256), st.sampled_from(["orchestrator", "dev-1/cmd", "dev-2/cmd", "dev-1/state"]))
def test_any_message_on_any_subscribed_topic_is_handled_without_internal_error(
    payload: bytes, suffix: str
) -> None:
    session = _session(PlanStore())
    session.handle_message(Message(f"continuum/v1/f1/{suffix}", payload, False, qos=1))
    assert session.counters["commands_rejected:internal_error"] == 0


def test_multi_megabyte_command_is_rejected_as_oversized_before_decoding() -> None:
    """Payload size limits hold on the device too (a broker without max_packet_size passes anything)."""
    command = control_pb2.Command(protocol_version=PROTOCOL_VERSION, command_id="huge")
    command.plan_update.model = "alexnet"
    command.plan_update.version = 1
    command.plan_update.layers.extend(f"layer-{i:07d}" for i in range(200_000))
    command.plan_update.tiers.extend("edge" for _ in range(200_000))
    payload = command.SerializeToString()
    assert len(payload) > 4 * 1024 * 1024
    session = _session(PlanStore())
    session.handle_message(Message(session.topics["cmd"], payload, False, qos=1))
    assert session.counters["commands_rejected:oversized"] == 1, dict(session.counters)
    assert session.plans.get("alexnet") is None
