"""Pure protocol pieces: seq wrapping, command validation, orchestrator state, bdSeq persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.session.bdseq import FileBdSeq, MemoryBdSeq
from agents.session.protocol import (
    CommandRejected,
    SessionState,
    decode_command,
    decode_orchestrator_state,
    encode_death,
)
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2 as pb


def test_seq_runs_0_to_255_then_wraps() -> None:
    state = SessionState(bd_seq=3)
    seqs = [state.next_seq() for _ in range(258)]
    assert seqs[:3] == [0, 1, 2]
    assert seqs[255] == 255
    assert seqs[256:] == [0, 1]


def test_death_payload_carries_bdseq_and_reason() -> None:
    death = pb.DeviceDeath.FromString(encode_death(7, 1234, "will"))
    assert (death.bd_seq, death.timestamp_ms, death.reason) == (7, 1234, "will")
    assert death.protocol_version == PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xff\xff", "undecodable"),
        (pb.Command(protocol_version=PROTOCOL_VERSION).SerializeToString(), "unknown"),
        (
            pb.Command(protocol_version=PROTOCOL_VERSION + 1, rebirth=pb.Rebirth()).SerializeToString(),
            "protocol_version",
        ),
        (
            pb.Command(
                protocol_version=PROTOCOL_VERSION,
                plan_update=pb.PlanUpdate(model="m", layers=["a"], tiers=["moon"]),
            ).SerializeToString(),
            "invalid_plan",
        ),
        (
            pb.Command(
                protocol_version=PROTOCOL_VERSION, plan_update=pb.PlanUpdate(layers=["a"], tiers=["edge"])
            ).SerializeToString(),
            "invalid_plan",
        ),
    ],
)
def test_bad_commands_are_rejected_with_a_bounded_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(CommandRejected) as caught:
        decode_command(payload)
    assert caught.value.reason == reason


def test_a_valid_plan_update_decodes() -> None:
    plan = pb.PlanUpdate(
        model="m", version=2, layers=["a", "b"], tiers=["device", "cloud"], fallback_ladder=["edge"]
    )
    payload = pb.Command(protocol_version=PROTOCOL_VERSION, plan_update=plan).SerializeToString()
    assert decode_command(payload).plan_update.version == 2


def test_orchestrator_state_empty_means_cleared() -> None:
    assert decode_orchestrator_state(b"") is None
    assert decode_orchestrator_state(b"\xff\xff") is None
    online = pb.OrchestratorState(protocol_version=1, online=True, instance="a").SerializeToString()
    state = decode_orchestrator_state(online)
    assert state is not None
    assert state.online


def test_file_bdseq_grows_across_instances_and_starts_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "state" / "bdseq"
    first = FileBdSeq(path)
    assert first.current() is None
    assert [first.next(), first.next()] == [0, 1]
    assert FileBdSeq(path).next() == 2
    assert path.read_text().strip() == "2"


def test_corrupt_bdseq_file_restarts_from_zero(tmp_path: Path) -> None:
    path = tmp_path / "bdseq"
    path.write_text("garbage")
    assert FileBdSeq(path).next() == 0


def test_memory_bdseq_counts_from_its_start() -> None:
    source = MemoryBdSeq(100)
    assert [source.next(), source.next()] == [100, 101]


@pytest.mark.parametrize("model", ["../escaped", "a/b", "a\x00b", "m" * 300, ""])
def test_a_plan_whose_model_name_is_not_a_safe_file_name_is_invalid(model: str) -> None:
    plan = pb.PlanUpdate(model=model, version=1, layers=["a"], tiers=["edge"])
    payload = pb.Command(protocol_version=PROTOCOL_VERSION, plan_update=plan).SerializeToString()
    with pytest.raises(CommandRejected) as caught:
        decode_command(payload)
    assert caught.value.reason == "invalid_plan"
