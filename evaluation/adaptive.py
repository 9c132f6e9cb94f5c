"""The `adaptive` policy: Continuum's own loop, replayed over a trace with the production code.

The device measures its own transfers (passive: the delivery rate of every request's bytes over its links,
for transfers of at least `min_passive_bytes`) and, when a telemetry interval passed without one, a small
active probe of `probe_bytes`; those samples feed the agent's `BandwidthEstimator` (one for the uplink, one
for the downlink) in time order, as they complete. At every telemetry interval, and at once when the
estimator's change detector fires (the agent publishes early on a change), the orchestrator asks the
production planner for the best plan at the estimated bandwidths and the cost model for the current plan's
latency there, and the orchestrator's `HysteresisPolicy` decides whether to switch. A switch applies to the
requests that arrive after it. Nothing here knows the future of the trace.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from evaluation.placement import Placement, Tiers
from evaluation.policies import PolicyRun
from evaluation.replay import LinkReplay
from evaluation.replayer import Figures, Replayer, Requests
from evaluation.scenario import DOWNLINKS, UPLINKS
from evaluation.timing import Observation

__all__ = ["AdaptiveSettings", "adaptive"]


@dataclass(frozen=True)
class AdaptiveSettings:
    """Knobs of the replayed control loop (defaults: the agent's and orchestrator's)."""

    telemetry_interval_s: float = 1.0
    """How often the agent publishes its estimates (and the orchestrator may replan)."""
    probe_bytes: int = 64 * 1024
    """Size of an active probe, sent when a telemetry interval saw no passive sample."""
    min_passive_bytes: int = 16 * 1024
    """Transfers smaller than this are too short to measure a delivery rate from."""
    estimator_fast_tau_s: float = 0.5
    """Fast EWMA time constant of the change detector."""
    estimator_slow_tau_s: float = 8.0
    """Slow EWMA time constant: the published estimate."""
    estimator_threshold: float = 0.2
    """Relative fast/slow gap that fires the change detector."""
    hysteresis_relative: float = 0.1
    """A new plan must be predicted this much faster (fraction) ..."""
    hysteresis_absolute_ms: float = 2.0
    """... and by at least this many milliseconds ..."""
    hysteresis_min_dwell_s: float = 2.0
    """... and the current plan must have run this long."""


@dataclass
class _Loop:
    placement: Placement
    replayer: Replayer
    settings: AdaptiveSettings

    def __post_init__(self) -> None:
        from agents.probes.estimators import BandwidthEstimator
        from orchestrator.replanning.hysteresis import HysteresisPolicy

        s = self.settings
        self.up = BandwidthEstimator(s.estimator_fast_tau_s, s.estimator_slow_tau_s, s.estimator_threshold)
        self.down = BandwidthEstimator(s.estimator_fast_tau_s, s.estimator_slow_tau_s, s.estimator_threshold)
        self.hysteresis = HysteresisPolicy(
            relative=s.hysteresis_relative,
            absolute_ms=s.hysteresis_absolute_ms,
            min_dwell_s=s.hysteresis_min_dwell_s,
        )
        self.pending: list[tuple[float, int, str, float]] = []
        self.seq = 0
        self.last_switch_s = float("-inf")
        self.last_sample_s = {"up": float("-inf"), "down": float("-inf")}
        self.plan: Tiers = ()
        self.decisions: list[str] = []

    def push(self, obs: Observation) -> None:
        direction = "up" if obs.link in UPLINKS else "down" if obs.link in DOWNLINKS else ""
        if direction and obs.nbytes >= self.settings.min_passive_bytes:
            heapq.heappush(self.pending, (obs.end_s, self.seq, direction, obs.mbps))
            self.seq += 1

    def probe(self, now_s: float) -> None:
        for direction, link in (("up", "device->edge"), ("down", "edge->device")):
            if now_s - self.last_sample_s[direction] < self.settings.telemetry_interval_s:
                continue
            replay: LinkReplay = self.replayer.network.links[link].replay
            end = float(replay.finish_s(now_s, self.settings.probe_bytes))
            self.push(Observation(link, self.settings.probe_bytes, now_s, end))

    def feed_until(self, now_s: float) -> None:
        while self.pending and self.pending[0][0] <= now_s:
            at, _, direction, mbps = heapq.heappop(self.pending)
            estimator = self.up if direction == "up" else self.down
            estimator.observe(mbps, at)
            self.last_sample_s[direction] = at
            if estimator.changed:
                self.decide(at)

    def decide(self, now_s: float) -> None:
        if not (self.up.ready and self.down.ready):
            return
        up, down = max(self.up.estimate, 1e-3), max(self.down.estimate, 1e-3)
        candidate, candidate_ms = self.placement.best(up, down)
        if not self.plan:
            self.plan, self.last_switch_s = candidate, now_s
            return
        if candidate == self.plan:
            return
        current_ms = self.placement.predict(self.plan, up, down)
        decision = self.hysteresis.should_switch(current_ms, candidate_ms, now_s, self.last_switch_s)
        if decision.switch:
            self.plan, self.last_switch_s = candidate, now_s
            self.decisions.append(f"{now_s:.1f}s: {decision.reason}")


def adaptive(
    placement: Placement,
    replayer: Replayer,
    requests: Requests,
    settings: AdaptiveSettings | None = None,
) -> PolicyRun:
    """Replay Continuum's estimator + hysteresis + planner loop over the requests; figures per request."""
    loop = _Loop(placement, replayer, settings or AdaptiveSettings())
    interval = loop.settings.telemetry_interval_s
    loop.probe(0.0)
    loop.feed_until(float("inf"))
    loop.decide(0.0)
    next_tick = interval
    n = len(requests)
    latency, cost, energy = np.zeros(n), np.zeros(n), np.zeros(n)
    index: dict[Tiers, int] = {}
    plan_index = np.zeros(n, dtype=np.int64)
    for i in range(n):
        start = float(requests.start_s[i])
        while next_tick <= start:
            loop.feed_until(next_tick)
            loop.probe(next_tick)
            loop.feed_until(next_tick)
            loop.decide(next_tick)
            next_tick += interval
        loop.feed_until(start)
        latency[i], cost[i], energy[i], seen = replayer.run_one(loop.plan, start, int(requests.finish[i]))
        for obs in seen:
            loop.push(obs)
        plan_index[i] = index.setdefault(loop.plan, len(index))
    plans = tuple(index)
    return PolicyRun("adaptive", Figures(latency, cost, energy), plan_index, plans)
