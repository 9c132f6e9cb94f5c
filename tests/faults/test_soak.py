"""`continuum bench soak` in small (CI): a simulated fleet against a real Mosquitto and the real
orchestrator process; at this light load nothing may be lost and every figure must be measured."""

from __future__ import annotations

import pytest

from benchmarks.soak import render, run_soak

pytestmark = [pytest.mark.contract, pytest.mark.slow]


def test_small_soak_loses_nothing_and_measures_rss_and_decisions() -> None:
    report = run_soak(devices=30, duration_s=12.0)
    assert report.online_peak == 30
    assert report.telemetry_sent >= 30 * 8
    assert (report.telemetry_lost, report.births_lost) == (0, 0), render(report)
    assert report.orchestrator_deaths >= 30
    assert report.orchestrator_disconnects == 0
    assert report.rejected == 0
    assert report.dropped_queue_full == 0
    assert report.rss_start_bytes > 0
    assert report.rss_end_bytes > 0
    assert len(report.samples) >= 5
