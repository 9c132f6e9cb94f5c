"""Ingest: every bad input is refused with a counted reason; ingest keeps going."""

from __future__ import annotations

from orchestrator.ingest.decoding import Inbound, Rejected, decode
from orchestrator.ingest.intake import Intake
from orchestrator.mqtt.connection import Received
from protos.v1 import control_pb2

STATE = "continuum/v1/f1/d1/state"


def good_telemetry() -> bytes:
    return control_pb2.Telemetry(protocol_version=1, seq=3, bd_seq=1).SerializeToString()


def test_telemetry_decodes_into_an_inbound_record() -> None:
    result = decode(STATE, good_telemetry(), 5.0, 1024)
    assert isinstance(result, Inbound)
    assert (result.kind, result.fleet, result.device, result.received_s) == ("state", "f1", "d1", 5.0)


def test_each_kind_of_bad_input_has_its_reason() -> None:
    cases = {
        "undecodable": (STATE, b"\xff\xff\xff"),
        "wrong_topic": ("continuum/v1/f1/d+1/state", good_telemetry()),
        "oversized": (STATE, b"x" * 2048),
        "unknown_version": (STATE, control_pb2.Telemetry(protocol_version=9).SerializeToString()),
    }
    for reason, (topic, payload) in cases.items():
        result = decode(topic, payload, 0.0, 1024)
        assert isinstance(result, Rejected), reason
        assert result.reason == reason


def test_a_birth_naming_another_device_is_refused() -> None:
    payload = control_pb2.DeviceBirth(protocol_version=1, device_id="other").SerializeToString()
    result = decode("continuum/v1/f1/d1/birth", payload, 0.0, 1024)
    assert isinstance(result, Rejected)
    assert result.reason == "wrong_topic"


def test_our_own_topics_and_cleared_births_are_ignored() -> None:
    assert decode("continuum/v1/f1/orchestrator", b"x", 0.0, 1024) is None
    assert decode("continuum/v1/f1/d1/cmd", b"x", 0.0, 1024) is None
    assert decode("continuum/v1/f1/d1/birth", b"", 0.0, 1024) is None


def test_intake_counts_rejections_and_keeps_queueing_good_messages() -> None:
    intake = Intake(max_payload_bytes=1024, limit=10, clock=lambda: 1.0)
    intake.on_message(Received(STATE, b"\xff\xff", False))
    intake.on_message(Received("not/ours", b"", False))
    intake.on_message(Received(STATE, good_telemetry(), False))
    assert intake.rejected == {"undecodable": 1, "wrong_topic": 1}
    assert [i.device for i in intake.take(100)] == ["d1"]


def test_a_full_intake_drops_and_counts() -> None:
    intake = Intake(max_payload_bytes=1024, limit=2, clock=lambda: 1.0)
    for _ in range(5):
        intake.on_message(Received(STATE, good_telemetry(), False))
    assert len(intake) == 2
    assert intake.dropped == 3
