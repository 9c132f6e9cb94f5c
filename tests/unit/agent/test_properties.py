"""Properties over generated inputs: commands never crash the decoder, estimates stay within the samples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.probes.estimators import BandwidthEstimator
from agents.session.protocol import CommandRejected, decode_command
from agents.sim.traces import Trace


@given(st.binary(max_size=512))
@settings(max_examples=300)
def test_any_bytes_either_decode_to_a_command_or_are_rejected_with_a_reason(payload: bytes) -> None:
    reason = None
    try:
        command = decode_command(payload)
    except CommandRejected as exc:
        reason = exc.reason
    else:
        assert command.WhichOneof("body") is not None
    assert reason in {None, "undecodable", "protocol_version", "unknown", "invalid_plan"}


samples = st.lists(st.floats(min_value=0.0, max_value=1000.0), min_size=1, max_size=60)


@given(samples, st.floats(min_value=0.01, max_value=5.0))
def test_the_estimate_stays_within_the_range_of_the_samples(values: list[float], step_s: float) -> None:
    estimator = BandwidthEstimator()
    for i, value in enumerate(values):
        estimator.observe(value, i * step_s)
    assert min(values) - 1e-9 <= estimator.estimate <= max(values) + 1e-9


@given(st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=30), st.floats(0, 1e5))
def test_a_trace_always_answers_one_of_its_samples(values: list[float], t: float) -> None:
    import numpy as np

    trace = Trace(np.arange(len(values), dtype=np.float64), np.asarray(values, dtype=np.float64), "gen")
    assert trace.mbps_at(t) in values
