"""Replaying a plan's path over the links: latency, cost, device energy and what the device observed.

Each `Send` occupies its link from the moment it starts until its bytes are through (integrated over the
link's trace by `LinkReplay`), then pays half the link's RTT of propagation; each `Compute` adds its time.
On a constant link that is exactly the cost model's ``rtt_ms / 2 + B * 8 / (bandwidth_mbps * 1000)``.
The device draws `tx_power_w` for the whole of each of its sends, propagation included, as the cost
model counts it. Requests do not contend with one another for a link: each sees the trace as if alone
(the rate only sets when requests sample the network), which keeps per-request comparisons exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.paths import Compute, FinishPath, PlanPaths, Send

__all__ = ["Link", "Network", "Observation", "Outcome", "PathCosts"]

FloatArray = npt.NDArray[np.float64]
DEVICE = "device"


@dataclass(frozen=True)
class Link:
    """A directed link: its bandwidth over time, RTT and egress price."""

    replay: LinkReplay
    rtt_ms: float
    cost_per_gb: float = 0.0


@dataclass(frozen=True)
class Observation:
    """A device-side transfer the agent could measure passively: `nbytes` over `link` in [start_s, end_s]."""

    link: str
    nbytes: float
    start_s: float
    end_s: float

    @property
    def mbps(self) -> float:
        """The delivery rate the device saw (bytes over the time they took to go through)."""
        return self.nbytes * 8.0 / max(self.end_s - self.start_s, 1e-9) / 1e6


@dataclass(frozen=True)
class Outcome:
    """Per-request figures for a batch of requests that all ran the same finishing path."""

    latency_ms: FloatArray
    cost_usd: FloatArray
    energy_j: FloatArray
    observations: tuple[tuple[Observation, ...], ...] = ()


@dataclass(frozen=True)
class PathCosts:
    """The bandwidth-independent part of a finishing path: compute money, egress money, compute joules."""

    cost_usd: float
    compute_energy_j: float


@dataclass(frozen=True)
class Network:
    """The links a replay uses and the tiers' prices and device power, read from a scenario document."""

    links: Mapping[str, Link]
    cost_per_hour: Mapping[str, float]
    power_w: float
    tx_power_w: float
    _cache: dict[FinishPath, PathCosts] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_scenario(cls, doc: Mapping[str, Any], traced: Mapping[str, LinkReplay]) -> Network:
        """Links from the scenario at their fixed bandwidth, except those in `traced` which follow a trace."""
        links = {}
        for name, spec in doc["links"].items():
            replay = traced.get(name) or LinkReplay.constant(float(spec["bandwidth_mbps"]))
            links[name] = Link(replay, float(spec.get("rtt_ms", 0.0)), float(spec.get("cost_per_gb", 0.0)))
        tiers = doc["tiers"]
        device = tiers.get(DEVICE, {})
        return cls(
            links=links,
            cost_per_hour={name: float(t.get("cost_per_hour", 0.0)) for name, t in tiers.items()},
            power_w=float(device.get("power_w", 0.0)),
            tx_power_w=float(device.get("tx_power_w", 0.0)),
        )

    def link(self, send: Send) -> Link:
        """The link a send uses; a clear error when the scenario lacks it."""
        try:
            return self.links[send.link]
        except KeyError:
            raise ValueError(f"the scenario has no link {send.link!r} that the plan needs") from None

    def run(self, path: FinishPath, start_s: npt.ArrayLike, observe: bool = False) -> Outcome:
        """Replay `path` for requests starting at `start_s` (array): exact per-request figures."""
        t0 = np.atleast_1d(np.asarray(start_s, dtype=np.float64))
        t = t0.copy()
        tx_s = np.zeros_like(t0)
        seen: list[list[Observation]] = [[] for _ in range(t0.size)] if observe else []
        for step in path.steps:
            if isinstance(step, Compute):
                t = t + step.ms / 1000.0
                continue
            link = self.link(step)
            done = link.replay.finish_s(t, step.nbytes)
            if step.src == DEVICE:
                tx_s = tx_s + (done - t) + link.rtt_ms / 2000.0
            if observe and DEVICE in (step.src, step.dst):
                for k in range(t0.size):
                    seen[k].append(Observation(step.link, step.nbytes, float(t[k]), float(done[k])))
            t = done + link.rtt_ms / 2000.0
        costs = self.costs(path)
        return Outcome(
            latency_ms=(t - t0) * 1000.0,
            cost_usd=np.full_like(t0, costs.cost_usd),
            energy_j=costs.compute_energy_j + self.tx_power_w * tx_s,
            observations=tuple(tuple(s) for s in seen),
        )

    def costs(self, path: FinishPath) -> PathCosts:
        """Money and compute energy of a path: they do not depend on the bandwidth, so they are cached."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        usd = 0.0
        joules = 0.0
        for step in path.steps:
            if isinstance(step, Compute):
                usd += step.ms / 3.6e6 * self.cost_per_hour.get(step.tier, 0.0)
                if step.tier == DEVICE:
                    joules += step.ms / 1000.0 * self.power_w
            else:
                usd += step.nbytes / 1e9 * self.link(step).cost_per_gb
        result = PathCosts(usd, joules)
        self._cache[path] = result
        return result

    def expected(self, plan: PlanPaths, start_s: npt.ArrayLike) -> Outcome:
        """Figures averaged over the plan's finishing paths (the cost model's expectation), per request."""
        t0 = np.atleast_1d(np.asarray(start_s, dtype=np.float64))
        latency = np.zeros_like(t0)
        cost = np.zeros_like(t0)
        energy = np.zeros_like(t0)
        for path in plan.paths:
            out = self.run(path, t0)
            latency += path.probability * out.latency_ms
            cost += path.probability * out.cost_usd
            energy += path.probability * out.energy_j
        return Outcome(latency, cost, energy)
