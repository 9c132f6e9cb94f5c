"""The replay engine integrates a piecewise-constant trace exactly."""

from __future__ import annotations

import numpy as np
import pytest

from continuum_evaluation.link_trace import LinkReplay


def test_constant_link_matches_bytes_over_bandwidth() -> None:
    link = LinkReplay.constant(8.0)
    # 1 MB at 8 Mbps: exactly one second, wherever it starts.
    assert link.finish_s(0.0, 1e6) == pytest.approx(1.0)
    assert link.finish_s(12.25, 1e6) == pytest.approx(13.25)


def test_transfer_spanning_a_step_integrates_both_rates() -> None:
    link = LinkReplay.from_samples([0.0, 1.0, 2.0], [8.0, 2.0, 2.0])
    # From 0.5 s: 0.5 s at 8 Mbps = 4 Mbit, then 1 Mbit more at 2 Mbps = 0.5 s.
    assert link.finish_s(0.5, 5e6 / 8) == pytest.approx(1.5)


def test_zero_bandwidth_stretch_delays_the_transfer_until_the_link_returns() -> None:
    link = LinkReplay.from_samples([0.0, 1.0, 3.0], [4.0, 0.0, 4.0])
    # 4 Mbit from 0.5 s: 2 Mbit by 1 s, nothing in [1, 3), the rest by 3.5 s.
    assert link.finish_s(0.5, 4e6 / 8) == pytest.approx(3.5)
    # Starting inside the outage waits for it to end.
    assert link.finish_s(1.5, 2e6 / 8) == pytest.approx(3.5)


def test_wrap_replays_the_trace_from_its_start() -> None:
    link = LinkReplay.from_samples([0.0, 1.0], [8.0, 0.0])
    # Period 2 s (the last sample holds one median interval); only [0, 1) of each lap carries data.
    assert link.period_s == pytest.approx(2.0)
    assert link.finish_s(0.5, 1e6) == pytest.approx(2.5)
    assert link.mean_mbps == pytest.approx(4.0)


def test_hold_keeps_the_last_value_after_the_end() -> None:
    link = LinkReplay.from_samples([0.0, 1.0], [8.0, 4.0], end="hold")
    # From 1.5 s the last value, 4 Mbps, holds: 3 Mbit take 0.75 s.
    assert link.finish_s(1.5, 3e6 / 8) == pytest.approx(2.25)
    assert link.finish_s(10.0, 4e6 / 8) == pytest.approx(11.0)


def test_vectorised_starts_equal_scalar_starts() -> None:
    rng = np.random.default_rng(7)
    times = np.cumsum(rng.uniform(0.1, 1.5, 40))
    rates = rng.choice([0.0, 0.3, 2.0, 9.0], 40)
    rates[0] = 1.0
    link = LinkReplay.from_samples(times, rates)
    starts = rng.uniform(0.0, 200.0, 25)
    many = link.finish_s(starts, 300_000)
    one_by_one = [float(link.finish_s(s, 300_000)) for s in starts]
    assert many == pytest.approx(one_by_one)


def test_delivered_bits_over_a_transfer_equal_its_size() -> None:
    rng = np.random.default_rng(3)
    link = LinkReplay.from_samples(np.arange(30.0), rng.uniform(0.0, 5.0, 30))
    for start in rng.uniform(0.0, 100.0, 10):
        end = float(link.finish_s(start, 250_000))
        delivered = float(link.bits_until(end) - link.bits_until(start))
        assert delivered == pytest.approx(2e6, rel=1e-9)


@pytest.mark.parametrize(
    ("times", "rates", "end"),
    [([0.0, 1.0], [0.0, 0.0], "wrap"), ([0.0, 1.0], [2.0, 0.0], "hold"), ([1.0, 0.0], [1.0, 1.0], "wrap")],
)
def test_traces_that_cannot_finish_a_transfer_are_refused(
    times: list[float], rates: list[float], end: str
) -> None:
    with pytest.raises(ValueError, match="trace"):
        LinkReplay.from_samples(times, rates, end=end)  # type: ignore[arg-type]
