"""Pure link estimators: bandwidth (EWMA with change detection), RTT, loss, latency quantiles.

No clocks and no I/O: every observation carries its own timestamp, so the same code runs on a device,
in the simulated fleet (driven by a trace) and in tests (driven by recorded sample series).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BandwidthEstimator",
    "LatencyQuantiles",
    "LossEstimator",
    "RttEstimator",
    "latency_quantiles",
]


def _alpha(dt_s: float, tau_s: float) -> float:
    """EWMA weight of a new sample `dt_s` after the previous one, for time constant `tau_s`."""
    if dt_s <= 0:
        return 1.0 - math.exp(-1e-3 / tau_s)
    return 1.0 - math.exp(-dt_s / tau_s)


class BandwidthEstimator:
    """EWMA bandwidth with change detection, so a sudden drop shows within one or two samples.

    Two time-based EWMAs run side by side: a slow one (the published `estimate`, time constant
    `slow_tau_s`) and a fast one (`fast_tau_s`). When they differ by more than `threshold` (relative to the
    slow one) the detector fires: `changed` becomes true for that observation and the slow average snaps to
    the fast one, so the estimate follows a step at once instead of creeping towards it. With the defaults
    and one sample a second, a drop of 30 % or more fires on the first sample after it.
    """

    def __init__(
        self,
        fast_tau_s: float = 0.5,
        slow_tau_s: float = 8.0,
        threshold: float = 0.2,
        floor_mbps: float = 0.01,
    ) -> None:
        if not 0 < fast_tau_s < slow_tau_s:
            raise ValueError("need 0 < fast_tau_s < slow_tau_s")
        if threshold <= 0:
            raise ValueError("threshold must be > 0 (a relative change such as 0.25)")
        self.fast_tau_s = fast_tau_s
        self.slow_tau_s = slow_tau_s
        self.threshold = threshold
        self.floor_mbps = floor_mbps
        self._fast = 0.0
        self._slow = 0.0
        self._last_s: float | None = None
        self._changed = False
        self.samples = 0
        self.changes = 0

    def observe(self, mbps: float, now_s: float) -> None:
        """Add one throughput sample (Mbps) measured at `now_s` seconds."""
        if not math.isfinite(mbps) or mbps < 0:
            raise ValueError(f"bandwidth sample must be finite and >= 0, got {mbps!r}")
        self.samples += 1
        if self._last_s is None:
            self._fast = self._slow = mbps
            self._last_s = now_s
            self._changed = False
            return
        dt = now_s - self._last_s
        self._last_s = max(now_s, self._last_s)
        self._fast += _alpha(dt, self.fast_tau_s) * (mbps - self._fast)
        self._slow += _alpha(dt, self.slow_tau_s) * (mbps - self._slow)
        reference = max(self._slow, self.floor_mbps)
        self._changed = abs(self._fast - self._slow) / reference > self.threshold
        if self._changed:
            self.changes += 1
            self._slow = self._fast

    @property
    def estimate(self) -> float:
        """The smoothed bandwidth in Mbps (0.0 before any sample)."""
        return self._slow

    @property
    def changed(self) -> bool:
        """Whether the most recent observation fired the change detector."""
        return self._changed

    @property
    def ready(self) -> bool:
        """Whether at least one sample has been seen."""
        return self.samples > 0


class RttEstimator:
    """Smoothed RTT as TCP computes it (RFC 6298: SRTT with gain 1/8, RTTVAR with gain 1/4)."""

    def __init__(self, gain: float = 0.125, var_gain: float = 0.25) -> None:
        self.gain = gain
        self.var_gain = var_gain
        self._srtt: float | None = None
        self._rttvar = 0.0

    def observe(self, rtt_ms: float) -> None:
        """Add one RTT sample in milliseconds."""
        if not math.isfinite(rtt_ms) or rtt_ms < 0:
            raise ValueError(f"RTT sample must be finite and >= 0, got {rtt_ms!r}")
        if self._srtt is None:
            self._srtt = rtt_ms
            self._rttvar = rtt_ms / 2
            return
        self._rttvar += self.var_gain * (abs(self._srtt - rtt_ms) - self._rttvar)
        self._srtt += self.gain * (rtt_ms - self._srtt)

    @property
    def estimate(self) -> float:
        """Smoothed RTT in ms (0.0 before any sample)."""
        return self._srtt or 0.0

    @property
    def variation(self) -> float:
        """RTT variation in ms."""
        return self._rttvar


class LossEstimator:
    """Fraction of failed probes over the last `window` probes."""

    def __init__(self, window: int = 20) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self._outcomes: deque[bool] = deque(maxlen=window)

    def observe(self, ok: bool) -> None:
        """Record one probe outcome."""
        self._outcomes.append(ok)

    @property
    def estimate(self) -> float:
        """Loss in 0..1 (0.0 before any probe)."""
        if not self._outcomes:
            return 0.0
        return sum(1 for ok in self._outcomes if not ok) / len(self._outcomes)


@dataclass(frozen=True, slots=True)
class LatencyQuantiles:
    """p50, p95 and p99 of a batch of latencies, in ms."""

    p50_ms: float
    p95_ms: float
    p99_ms: float


def latency_quantiles(samples_ms: Sequence[float]) -> LatencyQuantiles:
    """Nearest-rank quantiles of `samples_ms` (all zero for an empty batch)."""
    if not samples_ms:
        return LatencyQuantiles(0.0, 0.0, 0.0)
    ordered = sorted(samples_ms)

    def rank(q: float) -> float:
        return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])

    return LatencyQuantiles(rank(0.50), rank(0.95), rank(0.99))
