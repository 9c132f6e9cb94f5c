"""When the agent samples bandwidth: in-flight passive samples of its transfers, and the active probe rule.

`ProbeSchedule` is the bounded active probe's rule (agents.probes.active runs it): probe a link only while
it saw no passive sample since the last report, at most once per `min_interval_s` (optionally backing off).

In-flight passive samples: what a sender sees of its own streamed transfer, window by window.

A transfer measured once, when it completes, says nothing while it stalls and then reports a very low rate
just as the link recovers. A chunked stream lets the sender see how many bytes were acknowledged so far;
`InFlightMeter` turns that progress into one sample per window of `window_s` (bytes acknowledged in the
window over its length), so a stalling transfer reports ~0 while it stalls. Pure: no clock, no I/O. The
device's data plane feeds it per acknowledged chunk and on a timer (agents.dataplane.device); the
trace-replay evaluation feeds it the exact bytes delivered at the same window edges (evaluation/adaptive.py),
so production and evaluation sample with the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MIN_PASSIVE_BYTES",
    "PASSIVE_WINDOW_S",
    "PROBE_BYTES",
    "PROBE_INTERVAL_S",
    "PROBE_MAX_INTERVAL_S",
    "InFlightMeter",
    "PassiveSample",
    "ProbeSchedule",
]

PASSIVE_WINDOW_S: float | None = 0.25
"""Default window of in-flight samples; None = one sample per transfer, when it completes."""
MIN_PASSIVE_BYTES = 16 * 1024
"""Transfers smaller than this are too short to measure a rate from: they give no sample."""
PROBE_BYTES = 64 * 1024
"""Default size of one active probe (agents.settings.ProbeSettings.active_bytes)."""
PROBE_INTERVAL_S = 1.0
"""Default shortest wait between two active probes of one link (the first wait of an idle spell)."""
PROBE_MAX_INTERVAL_S = 1.0
"""Default longest wait between two active probes of one idle link: equal to the shortest, i.e. no backoff
(a probe per report while idle, 64 KiB/s). A backoff (e.g. 60 s: 64 KiB a minute once idle for long)
leaves idle paths' estimates stale and measured worse (docs/evaluation.md)."""


@dataclass
class ProbeSchedule:
    """When to actively probe one link: only while it is idle, at most once per `min_interval_s`.

    A link is idle when it saw no PASSIVE sample since the last report (a device that fell back to
    device-only sends nothing, so without probes it would never see its link recover). The first probe of
    an idle spell is due at once (`min_interval_s` after any earlier probe); with `max_interval_s` above
    `min_interval_s` each probe doubles the wait up to it, so a long idle spell costs at most one probe per
    `max_interval_s`. Passive samples (the link is in use again) reset the wait. By default the two are
    equal: no backoff, since stale estimates of idle paths measured worse (docs/evaluation.md).
    """

    min_interval_s: float = PROBE_INTERVAL_S
    max_interval_s: float = PROBE_MAX_INTERVAL_S
    last_probe_s: float | None = None
    wait_s: float = 0.0
    """Current wait after the last probe (0 at the start of an idle spell: only min_interval_s applies)."""

    def due(self, now_s: float, last_passive_s: float, last_report_s: float) -> bool:
        """Whether to probe at `now_s`; `last_passive_s` is the link's latest passive sample (-inf: none)."""
        in_use = last_passive_s >= last_report_s
        if in_use or (self.last_probe_s is not None and last_passive_s > self.last_probe_s):
            self.wait_s = 0.0  # used again: the next idle spell starts with a prompt probe
        if in_use:
            return False
        wait = max(self.wait_s, self.min_interval_s)
        return self.last_probe_s is None or now_s - self.last_probe_s >= wait

    def ran(self, now_s: float) -> None:
        """A probe started at `now_s`: the next one waits twice as long (up to `max_interval_s`)."""
        self.last_probe_s = now_s
        self.wait_s = min(max(self.wait_s * 2.0, self.min_interval_s), self.max_interval_s)


@dataclass(frozen=True)
class PassiveSample:
    """`nbytes` acknowledged over the `seconds` that ended at `at_s`."""

    at_s: float
    nbytes: int
    seconds: float

    @property
    def mbps(self) -> float:
        """The sample's rate in Mbit/s."""
        return self.nbytes * 8 / self.seconds / 1e6 if self.seconds > 0 else 0.0


class InFlightMeter:
    """Samples one transfer of `total_bytes` that started at `start_s`.

    `progress(acked, now)` (cumulative bytes acknowledged by `now`) returns a sample when at least
    `window_s` passed since the last one; call it per acknowledged chunk and on a timer so that a stall
    shows. `finish(now)` (once; later calls return None) returns the last partial window; it is dropped when
    it is shorter than half a window and an earlier sample exists (too short to be a rate). With
    `window_s=None` only `finish` samples, once over the whole transfer. A transfer under `min_bytes` gives
    no sample at all.
    """

    def __init__(
        self,
        start_s: float,
        total_bytes: int,
        window_s: float | None = PASSIVE_WINDOW_S,
        min_bytes: int = MIN_PASSIVE_BYTES,
    ) -> None:
        if window_s is not None and window_s <= 0:
            raise ValueError(f"window_s must be positive or None, got {window_s}")
        self.total_bytes = total_bytes
        self.window_s = window_s
        self.enabled = total_bytes >= min_bytes
        self.edge_s = start_s
        self.edge_bytes = 0
        self.acked = 0
        self.samples = 0
        self.done = False

    def _emit(self, now_s: float) -> PassiveSample:
        sample = PassiveSample(now_s, self.acked - self.edge_bytes, now_s - self.edge_s)
        self.edge_s, self.edge_bytes = now_s, self.acked
        self.samples += 1
        return sample

    def progress(self, acked_bytes: int, now_s: float) -> PassiveSample | None:
        """Record `acked_bytes` acknowledged so far; a sample when a window has elapsed."""
        self.acked = max(self.acked, min(acked_bytes, self.total_bytes))
        if self.done or not self.enabled or self.window_s is None or now_s - self.edge_s < self.window_s:
            return None
        return self._emit(now_s)

    def finish(self, now_s: float) -> PassiveSample | None:
        """The transfer completed at `now_s`: the sample of its last (partial) window, if any."""
        self.acked = self.total_bytes
        if self.done:
            return None
        self.done = True
        if not self.enabled or now_s <= self.edge_s:
            return None
        if self.window_s is not None and self.samples and now_s - self.edge_s < self.window_s / 2:
            return None
        return self._emit(now_s)
