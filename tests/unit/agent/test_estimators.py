"""The pure link estimators on recorded and synthetic sample series."""

from __future__ import annotations

import math

import pytest

from agents.probes.estimators import (
    BandwidthEstimator,
    LossEstimator,
    RttEstimator,
    latency_quantiles,
)
from agents.sim.traces import shipped_trace


def feed(estimator: BandwidthEstimator, values: list[float], start_s: float = 0.0) -> list[bool]:
    fired = []
    for i, value in enumerate(values):
        estimator.observe(value, start_s + i)
        fired.append(estimator.changed)
    return fired


@pytest.mark.parametrize("drop", [0.3, 0.5, 0.9])
def test_a_sudden_drop_fires_the_detector_within_two_samples(drop: float) -> None:
    estimator = BandwidthEstimator()
    feed(estimator, [10.0] * 20)
    fired = feed(estimator, [10.0 * (1 - drop)] * 2, start_s=20)
    assert any(fired)
    assert estimator.estimate == pytest.approx(10.0 * (1 - drop), rel=0.2)


def test_a_steady_link_never_fires_and_converges() -> None:
    estimator = BandwidthEstimator()
    fired = feed(estimator, [5.0, 5.2, 4.9, 5.1] * 10)
    assert not any(fired)
    assert estimator.estimate == pytest.approx(5.0, rel=0.05)


def test_a_single_outlier_is_smoothed_not_followed() -> None:
    estimator = BandwidthEstimator()
    feed(estimator, [10.0] * 20)
    feed(estimator, [11.5], start_s=20)
    assert estimator.estimate < 10.5


def test_recorded_norway_bus_trace_is_tracked_and_fires_on_its_big_changes() -> None:
    trace = shipped_trace("norway_bus_1")
    estimator = BandwidthEstimator()
    errors = []
    for t, mbps in zip(trace.times_s, trace.mbps, strict=True):
        estimator.observe(float(mbps), float(t))
        errors.append(abs(estimator.estimate - mbps) / max(mbps, 0.1))
    assert 0 < estimator.changes < len(trace) / 2
    median_error = sorted(errors)[len(errors) // 2]
    assert median_error < 0.3


def test_first_sample_initialises_without_firing() -> None:
    estimator = BandwidthEstimator()
    assert not estimator.ready
    estimator.observe(3.0, 100.0)
    assert estimator.ready
    assert estimator.estimate == 3.0
    assert not estimator.changed


def test_invalid_samples_and_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        BandwidthEstimator().observe(math.nan, 0.0)
    with pytest.raises(ValueError, match="fast_tau_s"):
        BandwidthEstimator(fast_tau_s=10, slow_tau_s=1)


def test_rtt_smoothing_follows_rfc6298() -> None:
    rtt = RttEstimator()
    rtt.observe(100.0)
    assert rtt.estimate == 100.0
    rtt.observe(20.0)
    assert rtt.estimate == pytest.approx(90.0)


def test_loss_is_the_failed_fraction_of_the_window() -> None:
    loss = LossEstimator(window=4)
    for ok in (True, False, True, True, False, False):
        loss.observe(ok)
    assert loss.estimate == pytest.approx(0.5)


def test_latency_quantiles_use_nearest_rank() -> None:
    q = latency_quantiles([float(v) for v in range(1, 101)])
    assert (q.p50_ms, q.p95_ms, q.p99_ms) == (50.0, 95.0, 99.0)
    assert latency_quantiles([]).p99_ms == 0.0


def test_active_probe_arithmetic_subtracts_one_rtt() -> None:
    from agents.probes.active import uplink_mbps

    assert uplink_mbps(1_250_000, 1.1, 0.1) == pytest.approx(10.0)
    assert uplink_mbps(1_250_000, 1.0, 5.0) == pytest.approx(100.0)  # RTT larger than elapsed: floor at 10 %
