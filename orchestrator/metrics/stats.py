"""Counters and histograms the control loop updates and the metrics collector reads. Pure values.

Histograms keep cumulative bucket counts (Prometheus style) plus a bounded reservoir of recent
samples for percentiles in benchmarks and logs.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

__all__ = ["DECISION_SAMPLES", "Histogram", "LoopStats"]

LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)

DECISION_SAMPLES = 10_000
"""Recent samples a histogram keeps for percentiles (each costs ~32 bytes: a float and its slot); the
buckets count every sample. 100k made the decision-latency window alone grow by ~3 MiB over a soak."""


@dataclass(slots=True)
class Histogram:
    """A fixed-bucket histogram in seconds, with recent samples kept for percentiles."""

    buckets: tuple[float, ...] = LATENCY_BUCKETS_S
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=DECISION_SAMPLES))

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        """Add one sample."""
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1
        self.recent.append(value)

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, cumulative count) pairs ending with +Inf, as Prometheus exposes them."""
        out: list[tuple[str, int]] = []
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=True):
            running += n
            out.append((repr(bound), running))
        out.append(("+Inf", self.count))
        return out

    def percentile(self, q: float) -> float:
        """The q-quantile (0..1) of the recent samples; 0 when there are none."""
        if not self.recent:
            return 0.0
        ordered = sorted(self.recent)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(slots=True)
class LoopStats:
    """What the control loop has done since start, by outcome."""

    outcomes: dict[str, int] = field(default_factory=dict)
    replans: int = 0
    switches: int = 0
    commands: dict[str, int] = field(default_factory=dict)
    publish_failures: int = 0
    decision_latency: Histogram = field(default_factory=Histogram)
    phases: dict[str, Histogram] = field(default_factory=dict)
    steps: int = 0
    errors: int = 0

    def phase(self, name: str, seconds: float) -> None:
        """Record how long one loop phase took."""
        histogram = self.phases.get(name)
        if histogram is None:
            histogram = self.phases[name] = Histogram()
            histogram.recent = deque(maxlen=1000)
        histogram.observe(seconds)

    def add_outcomes(self, outcomes: dict[str, int]) -> None:
        """Fold a shard output's counters in."""
        for key, value in outcomes.items():
            self.outcomes[key] = self.outcomes.get(key, 0) + value
