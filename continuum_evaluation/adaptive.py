"""The `adaptive` policy: Continuum's own control loop replayed over a trace, with the production code.

Device side, the agent's `LinkMonitor` (agents.probes.network: one `TargetLink` per target, edge and cloud,
each with the `BandwidthEstimator`s and an `RttEstimator`) takes passive samples from the request's own
transfers to and from that target, as `observe_transfer(target, nbytes, seconds, direction, now)`, cut by
the data plane's own `agents.probes.sampling.InFlightMeter`: one sample per `passive_sample_s` window while
the bytes are in flight (the replay hands the meter the exact bytes delivered at each window edge, where the
device sees acknowledged chunks), `None` for one sample per completed transfer. Half-way to each report,
a link that saw no passive sample since the last report gets an active probe of `probe_bytes` when the
agent's rule allows it (`agents.probes.sampling.ProbeSchedule`: `probe_interval_s` after any earlier probe,
the wait doubling with each probe of an idle spell up to `probe_max_interval_s`). Every
`telemetry_interval_s` the agent reports `TargetLink.to_estimate()`. (The agent probes only the uplink to
the broker's tier; the replay probes every idle direction of both targets with the same rule.)

Orchestrator side, exactly the shard's rule (`orchestrator.replanning.trigger.replan_due`: a link's
`changed` flag is set, a candidate is pending, or `FleetReplanner.links_moved`) marks the device; then
`FleetReplanner.replan` (production planner, `plan_fleet`/`evaluate_fleet`, `HysteresisPolicy`,
confirmations) decides. A new plan applies to the requests that arrive after it. Nothing here knows the
future of the trace. The scenario given is already scaled to the device class, so the record's speed
factor is 1.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

import numpy as np

from agents.probes.sampling import (
    MIN_PASSIVE_BYTES,
    PASSIVE_WINDOW_S,
    PROBE_BYTES,
    PROBE_INTERVAL_S,
    PROBE_MAX_INTERVAL_S,
    InFlightMeter,
    ProbeSchedule,
)
from continuum_evaluation.paths import Tiers
from continuum_evaluation.request_replay import Figures, PolicyRun, Replayer, Requests
from continuum_evaluation.timing import Observation

__all__ = ["AdaptiveSettings", "adaptive"]

_TARGET_OF: dict[str, tuple[str, Literal["up", "down"]]] = {
    "device->edge": ("edge", "up"),
    "edge->device": ("edge", "down"),
    "device->cloud": ("cloud", "up"),
    "cloud->device": ("cloud", "down"),
}
_MODEL = "model"


@dataclass(frozen=True)
class AdaptiveSettings:
    """Knobs of the replayed loop; the defaults are the production defaults (a unit test keeps them so)."""

    telemetry_interval_s: float = 1.0
    """Agent: seconds between telemetry reports (agents.settings.TelemetrySettings)."""
    estimator_fast_tau_s: float = 0.5
    """Agent: fast EWMA time constant of the change detector (BandwidthEstimator)."""
    estimator_slow_tau_s: float = 8.0
    """Agent: slow EWMA time constant, the reported estimate."""
    estimator_threshold: float = 0.2
    """Agent: relative fast/slow gap that fires the change detector."""
    passive_sample_s: float | None = PASSIVE_WINDOW_S
    """Agent: one passive sample per window while in flight; None = one per completed transfer."""
    min_passive_bytes: int = MIN_PASSIVE_BYTES
    """Agent: transfers smaller than this are too short to measure a rate from."""
    probe_bytes: int = PROBE_BYTES
    """Agent: size of the active probe sent on a link that saw no sample since the last report."""
    probe_interval_s: float = PROBE_INTERVAL_S
    """Agent: shortest wait between active probes of a link (agents.settings.ProbeSettings)."""
    probe_max_interval_s: float = PROBE_MAX_INTERVAL_S
    """Agent: longest wait; the wait doubles with each probe of an idle spell (ProbeSchedule)."""
    relative: float = 0.10
    """Orchestrator: hysteresis, gain needed as a fraction of the current latency ..."""
    absolute_ms: float = 2.0
    """... and in ms (orchestrator.settings.ReplanningSettings)."""
    min_dwell_s: float = 2.0
    """Orchestrator: minimum time a plan is kept after a switch."""
    confirmations: int = 2
    """Orchestrator: consecutive evaluations a candidate must win."""
    link_change: float = 0.05
    """Orchestrator: relative link movement that triggers a replan."""

    def to_json(self) -> dict[str, Any]:
        """The settings as plain JSON."""
        return asdict(self)

    def with_overrides(self, pairs: Iterable[str]) -> AdaptiveSettings:
        """A copy with `NAME=VALUE` overrides (numbers; `none` clears `passive_sample_s`)."""
        changes: dict[str, Any] = {}
        known = {f.name: f for f in fields(self)}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in known:
                raise ValueError(
                    f"adaptive setting {pair!r}: use NAME=VALUE with NAME one of {', '.join(known)}"
                )
            try:
                if text.strip().lower() == "none" and name == "passive_sample_s":
                    changes[name] = None
                elif isinstance(getattr(self, name), int):
                    changes[name] = int(text)
                else:
                    changes[name] = float(text)
            except ValueError:
                raise ValueError(f"adaptive setting {pair!r}: {text!r} is not a number") from None
        return replace(self, **changes)


class _Loop:
    """The agent's monitor and the orchestrator's replanner for one replayed device."""

    def __init__(self, doc: Any, replayer: Replayer, settings: AdaptiveSettings) -> None:
        from agents.probes.estimators import BandwidthEstimator
        from agents.probes.network import LinkMonitor, TargetLink
        from orchestrator.domain.messages import LinkSample
        from orchestrator.fleet.records import DeviceRecord
        from orchestrator.fleet.sessions import Session
        from orchestrator.replanning.fleet_replanner import FleetReplanner
        from orchestrator.replanning.hysteresis import HysteresisPolicy
        from orchestrator.replanning.replanner import PlanContext
        from orchestrator.replanning.trigger import replan_due

        s = self.settings = settings
        self.replayer = replayer
        self.monitor = LinkMonitor({"edge": "edge:1", "cloud": "cloud:1"})
        for name in ("edge", "cloud"):
            self.monitor.links[name] = TargetLink(
                name,
                uplink=BandwidthEstimator(
                    s.estimator_fast_tau_s, s.estimator_slow_tau_s, s.estimator_threshold
                ),
                downlink=BandwidthEstimator(
                    s.estimator_fast_tau_s, s.estimator_slow_tau_s, s.estimator_threshold
                ),
            )
        self.rtt = {"edge": float(doc["links"]["device->edge"]["rtt_ms"])}
        self.rtt["cloud"] = float(doc["links"]["device->cloud"]["rtt_ms"])
        self.replanner = FleetReplanner(
            {_MODEL: doc},
            HysteresisPolicy(s.relative, s.absolute_ms, s.min_dwell_s),
            confirmations=s.confirmations,
            link_change=s.link_change,
        )
        self.record = DeviceRecord(Session("evaluated", "evaluation"), models=(_MODEL,))
        self.context = PlanContext()
        self.sample_type = LinkSample
        self.replan_due = replan_due
        self.pending: list[tuple[float, int, str, int, float, bool]] = []
        self.seq = 0
        self.last_sample_s: dict[str, float] = {link: float("-inf") for link in _TARGET_OF}
        """Latest PASSIVE sample per link (probes do not count: the rule looks for idle links)."""
        self.schedules = {
            link: ProbeSchedule(s.probe_interval_s, s.probe_max_interval_s) for link in _TARGET_OF
        }

    @property
    def plan(self) -> Tiers:
        """The plan the orchestrator last published for the device (empty before the first)."""
        state = self.record.plans.get(_MODEL)
        return tuple(state.tiers) if state is not None else ()

    def push(self, obs: Observation, probe: bool = False) -> None:
        """Queue the samples the device will take of a transfer (fed when their time comes)."""
        if obs.link not in _TARGET_OF:
            return
        window = self.settings.passive_sample_s
        meter = InFlightMeter(obs.start_s, round(obs.nbytes), window, self.settings.min_passive_bytes)
        if not meter.enabled:
            return
        samples = []
        if window is not None:
            edges = np.arange(obs.start_s + window, obs.end_s, window)
            replay = self.replayer.network.links[obs.link].replay
            acked = (replay.bits_until(edges) - replay.bits_until(obs.start_s)) / 8.0
            samples = [meter.progress(round(float(b)), float(t)) for t, b in zip(edges, acked, strict=True)]
        samples.append(meter.finish(obs.end_s))
        for sample in samples:
            if sample is not None:
                item = (sample.at_s, self.seq, obs.link, sample.nbytes, sample.seconds, probe)
                heapq.heappush(self.pending, item)
                self.seq += 1

    def feed_until(self, now_s: float) -> None:
        """Hand the agent every sample taken up to `now_s`, in time order."""
        while self.pending and self.pending[0][0] <= now_s:
            at, _, link, nbytes, seconds, probe = heapq.heappop(self.pending)
            target, direction = _TARGET_OF[link]
            self.monitor.observe_transfer(target, nbytes, max(seconds, 1e-6), direction, at)
            if not probe:
                self.last_sample_s[link] = at

    def probe(self, now_s: float, since_s: float) -> None:
        """Active probes on the links that saw no passive sample since `since_s` (the last report), as the
        agent's rule allows (`ProbeSchedule`)."""
        for link, schedule in self.schedules.items():
            if schedule.due(now_s, self.last_sample_s[link], since_s):
                schedule.ran(now_s)
                replay = self.replayer.network.links[link].replay
                end = float(replay.finish_s(now_s, self.settings.probe_bytes))
                self.push(Observation(link, self.settings.probe_bytes, now_s, end), probe=True)

    def report(self, now_s: float) -> None:
        """One telemetry report and the shard's replanning rule."""
        links = {}
        changed = False
        for name, target in self.monitor.links.items():
            if not (target.uplink.ready and target.downlink.ready):
                return
            target.rtt.observe(self.rtt[name])
            estimate = target.to_estimate("cellular")
            changed = changed or estimate.changed
            links[name] = self.sample_type(
                estimate.rtt_ms,
                estimate.uplink_mbps,
                estimate.downlink_mbps,
                estimate.loss,
                estimate.link_type,
            )
        self.record.links = links
        first = not self.plan
        if first or self.replan_due(self.record, links, changed, self.replanner):
            self.replanner.replan([self.record], self.context, now_s)


def adaptive(
    doc: Any,
    replayer: Replayer,
    requests: Requests,
    settings: AdaptiveSettings | None = None,
) -> PolicyRun:
    """Replay Continuum's estimator + replanner loop over the requests; figures per request.

    At time 0 the agent probes every link once and reports, so the first request already has a plan.
    Probes are considered half-way between reports, so their result is in by the next report.
    """
    loop = _Loop(doc, replayer, settings or AdaptiveSettings())
    interval = loop.settings.telemetry_interval_s
    loop.probe(0.0, 0.0)
    loop.feed_until(float("inf"))
    loop.report(0.0)
    next_report = interval
    n = len(requests)
    latency, cost, energy = np.zeros(n), np.zeros(n), np.zeros(n)
    index: dict[Tiers, int] = {}
    plan_index = np.zeros(n, dtype=np.int64)
    next_probe = interval / 2.0
    for i in range(n):
        start = float(requests.start_s[i])
        while min(next_probe, next_report) <= start:
            if next_probe < next_report:
                loop.feed_until(next_probe)
                loop.probe(next_probe, next_report - interval)
                next_probe += interval
            else:
                loop.feed_until(next_report)
                loop.report(next_report)
                next_report += interval
        loop.feed_until(start)
        latency[i], cost[i], energy[i], seen = replayer.run_one(loop.plan, start, int(requests.finish[i]))
        for obs in seen:
            loop.push(obs)
        plan_index[i] = index.setdefault(loop.plan, len(index))
    return PolicyRun("adaptive", Figures(latency, cost, energy), plan_index, tuple(index))
