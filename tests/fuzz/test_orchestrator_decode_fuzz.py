"""Fuzzing the orchestrator's MQTT decoder: every input is an Inbound, a counted Rejected, or ignored."""

from __future__ import annotations

import math
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.fuzzgen import has_nonfinite
from orchestrator.ingest.decoding import Inbound, Rejected, RejectReason, decode
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2
from tests.fuzz.strategies import births, commands, deaths, mutated, telemetry, topics

FUZZ = settings(max_examples=300, deadline=None)
LIMIT = 4096
REASONS = set(get_args(RejectReason))
KIND_MESSAGES = {"birth": births, "state": telemetry, "death": deaths, "cmd": commands}


@st.composite
def received(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(KIND_MESSAGES)))
    topic = draw(st.one_of(st.just(f"continuum/v1/f1/dev-1/{kind}"), topics))
    return topic, draw(mutated(KIND_MESSAGES[kind]))


@FUZZ
@given(received(), st.booleans())
def test_decode_returns_inbound_rejected_or_none_for_any_input(
    case: tuple[str, bytes], retained: bool
) -> None:
    topic, payload = case
    result = decode(topic, payload, 12.5, LIMIT, retained)
    assert result is None or isinstance(result, Inbound | Rejected)
    if isinstance(result, Rejected):
        assert result.reason in REASONS
    if isinstance(result, Inbound):
        sent = {
            "birth": control_pb2.DeviceBirth,
            "state": control_pb2.Telemetry,
            "death": control_pb2.DeviceDeath,
        }
        assert sent[result.kind].FromString(payload).protocol_version == PROTOCOL_VERSION
        assert topic == f"continuum/v1/{result.fleet}/{result.device}/{result.kind}"


@FUZZ
@given(
    st.builds(
        lambda head, extra: (head * (LIMIT // len(head) + 2))[: LIMIT + extra],
        st.binary(min_size=1, max_size=32),
        st.integers(1, 100),
    )
)
def test_payload_over_the_limit_is_rejected_as_oversized(payload: bytes) -> None:
    result = decode("continuum/v1/f1/dev-1/state", payload, 0.0, LIMIT)
    assert isinstance(result, Rejected)
    assert result.reason == "oversized"


@FUZZ
@given(telemetry)
def test_telemetry_with_non_finite_numbers_is_rejected_not_accepted(message: control_pb2.Telemetry) -> None:
    """NaN or infinite link estimates must never reach placement: the decoder refuses them, counted."""
    message.protocol_version = PROTOCOL_VERSION
    result = decode("continuum/v1/f1/dev-1/state", message.SerializeToString(), 0.0, 1 << 20)
    if isinstance(result, Inbound):
        assert not has_nonfinite(result.message), "decode accepted telemetry carrying NaN/inf numbers"


def test_nan_uplink_is_rejected() -> None:
    message = control_pb2.Telemetry(protocol_version=PROTOCOL_VERSION, seq=1, bd_seq=1)
    message.links.add(target="edge", rtt_ms=8.0, uplink_mbps=math.nan, downlink_mbps=20.0)
    result = decode("continuum/v1/f1/dev-1/state", message.SerializeToString(), 0.0, 1 << 20)
    assert isinstance(result, Rejected), f"NaN uplink accepted: {result}"
