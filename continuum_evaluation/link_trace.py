"""Exact transfer times over a bandwidth trace: the trace is a piecewise-constant link, integrated.

A trace of samples ``(t_i, mbps_i)`` is read as a step function: ``mbps_i`` holds from ``t_i`` until
``t_{i+1}``; the last sample holds for the median sample interval, which gives the trace a period ``P``.
Times are shifted so the first sample is at 0. Sending ``B`` bytes from time ``t`` finishes at the earliest
``t'`` with ``bits(t') - bits(t) = 8 B``, where ``bits`` is the integral of the bandwidth: exact, with
zero-bandwidth stretches simply delaying the transfer until the link comes back.

Past the end of the trace, ``end="wrap"`` (the default) replays it from the start again, so a long run sees
the same network statistics; ``end="hold"`` keeps the last value for ever. A trace that delivers nothing
per period (wrap) or ends at zero (hold) cannot finish a transfer and is refused at construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["EndPolicy", "LinkReplay", "TraceLike"]

EndPolicy = Literal["wrap", "hold"]
FloatArray = npt.NDArray[np.float64]


class TraceLike(Protocol):
    """What the replay needs of a trace: sample times (s) and bandwidth (Mbps), same length."""

    @property
    def times_s(self) -> npt.NDArray[np.floating]:
        """Sample times in seconds, non-decreasing."""
        ...

    @property
    def mbps(self) -> npt.NDArray[np.floating]:
        """Bandwidth of each sample in Mbit/s."""
        ...


@dataclass(frozen=True, eq=False)
class LinkReplay:
    """A bandwidth trace as an integrable link; `finish_s` says when a transfer started at `t` ends."""

    starts_s: FloatArray
    """Start of each constant stretch, from 0, non-decreasing."""
    bits_per_s: FloatArray
    """Bandwidth of each stretch in bit/s."""
    period_s: float
    """Length of the trace: the last start plus the last stretch's length."""
    end: EndPolicy = "wrap"
    """What comes after the trace: replay it from the start (`wrap`) or keep the last value (`hold`)."""

    def __post_init__(self) -> None:
        cum = np.concatenate(([0.0], np.cumsum(self.bits_per_s * np.diff(self._bounds()))))
        object.__setattr__(self, "_cum", cum)
        if self.end == "wrap" and cum[-1] <= 0.0:
            raise ValueError("the trace delivers no data at all: give a trace with some bandwidth")
        if self.end == "hold" and self.bits_per_s[-1] <= 0.0:
            raise ValueError("with end='hold' the trace must not end at zero bandwidth; use end='wrap'")

    @classmethod
    def from_samples(cls, times_s: npt.ArrayLike, mbps: npt.ArrayLike, end: EndPolicy = "wrap") -> LinkReplay:
        """Build from raw samples; checks they are finite, non-negative and in time order."""
        times = np.asarray(times_s, dtype=np.float64)
        rates = np.asarray(mbps, dtype=np.float64)
        if times.ndim != 1 or times.shape != rates.shape or times.size == 0:
            raise ValueError("a trace needs equally long, non-empty 1-D times and bandwidths")
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(rates))):
            raise ValueError("the trace has non-finite times or bandwidths")
        if np.any(rates < 0.0):
            raise ValueError("the trace has negative bandwidth")
        steps = np.diff(times)
        if np.any(steps < 0.0):
            raise ValueError("the trace's times go backwards: sort the samples by time")
        positive = steps[steps > 0.0]
        last = float(np.median(positive)) if positive.size else 1.0
        starts = times - times[0]
        return cls(starts, rates * 1e6, float(starts[-1] + last), end)

    @classmethod
    def from_trace(cls, trace: TraceLike, end: EndPolicy = "wrap") -> LinkReplay:
        """Build from a loaded trace (`agents.sim.traces.Trace`); its `duration_s` sets the period."""
        replay = cls.from_samples(trace.times_s, trace.mbps, end)
        duration = float(getattr(trace, "duration_s", 0.0) or 0.0)
        span = float(trace.times_s[-1] - trace.times_s[0])
        if duration > span:
            return cls(replay.starts_s, replay.bits_per_s, duration, end)
        return replay

    @classmethod
    def constant(cls, mbps: float, period_s: float = 1.0) -> LinkReplay:
        """A link of constant bandwidth: what the cost model assumes."""
        return cls(np.zeros(1), np.full(1, mbps * 1e6), period_s, "wrap")

    @property
    def mean_mbps(self) -> float:
        """Time-weighted mean bandwidth over one period (what a static plan would be sized for)."""
        return float(self._cum_bits[-1] / self.period_s / 1e6)

    @property
    def _cum_bits(self) -> FloatArray:
        cum: FloatArray = self.__dict__["_cum"]
        return cum

    def _bounds(self) -> FloatArray:
        return np.append(self.starts_s, self.period_s)

    def mbps_at(self, t_s: npt.ArrayLike) -> FloatArray:
        """The bandwidth in force at time(s) `t_s` (after the end: wrapped or held)."""
        t = np.asarray(t_s, dtype=np.float64)
        t = np.mod(t, self.period_s) if self.end == "wrap" else np.minimum(t, self.starts_s[-1])
        idx = np.searchsorted(self.starts_s, t, side="right") - 1
        return np.asarray(self.bits_per_s[np.maximum(idx, 0)] / 1e6, dtype=np.float64)

    def bits_until(self, t_s: npt.ArrayLike) -> FloatArray:
        """Bits the link delivers from time 0 until `t_s` (t >= 0): the integral of the bandwidth."""
        t = np.asarray(t_s, dtype=np.float64)
        cum = self._cum_bits
        total = cum[-1]
        if self.end == "wrap":
            laps = np.floor(t / self.period_s)
            rest = t - laps * self.period_s
            return np.asarray(laps * total + self._within(rest), dtype=np.float64)
        inside = self._within(np.minimum(t, self.period_s))
        after = np.maximum(t - self.period_s, 0.0) * self.bits_per_s[-1]
        return np.asarray(inside + after, dtype=np.float64)

    def _within(self, t: FloatArray) -> FloatArray:
        idx = np.clip(np.searchsorted(self.starts_s, t, side="right") - 1, 0, self.starts_s.size - 1)
        return np.asarray(
            self._cum_bits[idx] + self.bits_per_s[idx] * (t - self.starts_s[idx]), dtype=np.float64
        )

    def time_of_bits(self, bits: npt.ArrayLike) -> FloatArray:
        """The earliest time at which the link has delivered `bits` since time 0 (inverse of bits_until)."""
        b = np.asarray(bits, dtype=np.float64)
        cum = self._cum_bits
        total = cum[-1]
        if self.end == "wrap":
            laps = np.maximum(np.ceil(b / total) - 1.0, 0.0)
            rest = b - laps * total
            return np.asarray(laps * self.period_s + self._inverse_within(rest), dtype=np.float64)
        beyond = b > total
        inside = self._inverse_within(np.minimum(b, total))
        extra = np.where(beyond, (b - total) / self.bits_per_s[-1], 0.0)
        return np.asarray(np.where(beyond, self.period_s + extra, inside), dtype=np.float64)

    def _inverse_within(self, rest: FloatArray) -> FloatArray:
        cum = self._cum_bits
        idx = np.clip(np.searchsorted(cum, rest, side="left") - 1, 0, self.starts_s.size - 1)
        rate = self.bits_per_s[idx]
        fill = np.divide(rest - cum[idx], rate, out=np.zeros_like(rest, dtype=np.float64), where=rate > 0)
        return np.asarray(self.starts_s[idx] + fill, dtype=np.float64)

    def finish_s(self, start_s: npt.ArrayLike, nbytes: float) -> FloatArray:
        """When sending `nbytes` from `start_s` (s, >= 0) completes: exact integration of the trace."""
        start = np.asarray(start_s, dtype=np.float64)
        if nbytes <= 0:
            return start.astype(np.float64)
        end = self.time_of_bits(self.bits_until(start) + 8.0 * float(nbytes))
        return np.asarray(np.maximum(end, start), dtype=np.float64)
