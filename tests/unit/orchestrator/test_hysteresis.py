"""Hysteresis: relative and absolute margins, dwell time, infeasible current plans."""

from __future__ import annotations

import pytest

from orchestrator.replanning.hysteresis import HysteresisPolicy

POLICY = HysteresisPolicy(relative=0.1, absolute_ms=5.0, min_dwell_s=10.0)


def test_a_gain_beating_both_margins_switches() -> None:
    decision = POLICY.should_switch(100.0, 80.0, now_s=50.0, last_switch_s=None)
    assert decision.switch
    assert "beats" in decision.reason


def test_a_gain_below_the_relative_margin_does_not_switch() -> None:
    decision = POLICY.should_switch(100.0, 92.0, now_s=50.0, last_switch_s=None)
    assert not decision.switch
    assert "hysteresis bound" in decision.reason


def test_a_gain_below_the_absolute_margin_does_not_switch() -> None:
    decision = POLICY.should_switch(20.0, 16.0, now_s=50.0, last_switch_s=None)
    assert not decision.switch


def test_a_worse_candidate_never_switches() -> None:
    assert not POLICY.should_switch(50.0, 60.0, now_s=50.0, last_switch_s=None).switch


def test_min_dwell_holds_a_recent_plan() -> None:
    held = POLICY.should_switch(100.0, 50.0, now_s=55.0, last_switch_s=50.0)
    assert not held.switch
    assert "dwell" in held.reason
    assert POLICY.should_switch(100.0, 50.0, now_s=60.0, last_switch_s=50.0).switch


def test_an_infeasible_current_plan_is_always_left() -> None:
    assert POLICY.should_switch(float("inf"), 500.0, now_s=1.0, last_switch_s=0.5).switch


def test_negative_margins_are_refused() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        HysteresisPolicy(relative=-0.1)
