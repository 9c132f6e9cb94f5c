"""Profile corrections: EWMA factors follow measurements; sustained deviation is drift."""

from __future__ import annotations

import pytest

from agents.dataplane.corrections import ProfileCorrections


def test_factor_starts_at_one_and_moves_towards_the_measured_ratio() -> None:
    corrections = ProfileCorrections(alpha=0.5)
    assert corrections.factor("edge") == 1.0
    corrections.observe("edge", predicted_ms=10.0, measured_ms=20.0)
    assert corrections.factor("edge") == pytest.approx(2.0)
    corrections.observe("edge", predicted_ms=10.0, measured_ms=10.0)
    assert corrections.factor("edge") == pytest.approx(1.5)
    assert corrections.corrected("edge", 4.0) == pytest.approx(6.0)


def test_drift_needs_enough_samples_beyond_the_ratio() -> None:
    corrections = ProfileCorrections(alpha=0.5, drift_ratio=1.5, min_samples=3)
    for _ in range(2):
        corrections.observe("cloud", 10.0, 30.0)
    assert corrections.drifted() == ()
    corrections.observe("cloud", 10.0, 30.0)
    (drift,) = corrections.drifted()
    assert drift.key == "cloud"
    assert "3.00x" in drift.reason


def test_a_faster_than_profiled_tier_is_drift_too() -> None:
    corrections = ProfileCorrections(min_samples=1)
    corrections.observe("device", 10.0, 2.0)
    assert [d.key for d in corrections.drifted()] == ["device"]


def test_within_tolerance_is_not_drift_and_reset_forgets() -> None:
    corrections = ProfileCorrections(min_samples=1)
    corrections.observe("edge", 10.0, 12.0)
    assert corrections.drifted() == ()
    corrections.reset("edge")
    assert corrections.factor("edge") == 1.0


def test_zero_predictions_and_bad_measurements_are_ignored() -> None:
    corrections = ProfileCorrections()
    corrections.observe("edge", 0.0, 5.0)
    corrections.observe("edge", 5.0, float("nan"))
    assert corrections.factor("edge") == 1.0
