"""Requests over a replayed network: when they arrive, how each one finishes, what a plan costs them.

`PolicyRun` is what a policy did over the requests (figures and the plan each one ran): every policy,
fixed, adaptive or oracle, returns one, and the report reads nothing else.

Requests arrive every ``1 / rate`` seconds over one period of the uplink trace. With early exits, where a
request finishes is a property of its input, not of the plan, so it is drawn once per request (seeded) and
shared by every policy; the per-request figures of two policies are therefore directly comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.paths import PlanPaths, Tiers, plan_paths
from continuum_evaluation.scenario import DOWNLINKS, UPLINKS
from continuum_evaluation.timing import Network, Observation

__all__ = ["Figures", "PolicyRun", "PolicySummary", "Replayer", "Requests", "arrivals"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Requests:
    """Arrival times (s) and the finishing path (index into a plan's paths) of every request."""

    start_s: FloatArray
    finish: IntArray

    def __len__(self) -> int:
        return int(self.start_s.size)


def arrivals(
    duration_s: float, rate: float, finish_probabilities: tuple[float, ...], seed: int = 0
) -> Requests:
    """Requests at a fixed `rate` (per s) over `duration_s`, at least one; finishing paths drawn by seed."""
    if not rate > 0:
        raise ValueError("the request rate must be > 0 requests per second")
    count = max(int(np.floor(duration_s * rate)), 1)
    start = np.arange(count, dtype=np.float64) / rate
    cumulative = np.cumsum(np.asarray(finish_probabilities, dtype=np.float64))
    draws = np.random.default_rng(seed).uniform(0.0, cumulative[-1], count)
    finish = np.minimum(np.searchsorted(cumulative, draws, side="right"), cumulative.size - 1)
    return Requests(start, finish.astype(np.int64))


@dataclass(frozen=True, eq=False)
class Figures:
    """Per-request latency (ms), money (USD) and device energy (J) of one policy."""

    latency_ms: FloatArray
    cost_usd: FloatArray
    energy_j: FloatArray


@dataclass(frozen=True)
class PolicySummary:
    """The headline figures of a policy over a trace (the `--json` object per policy)."""

    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cost_usd_per_1k: float
    device_energy_j_per_req: float
    switches: int

    def to_json(self) -> dict[str, float | int]:
        """Plain JSON figures."""
        return {
            "mean_ms": self.mean_ms,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "cost_usd_per_1k": self.cost_usd_per_1k,
            "device_energy_j_per_req": self.device_energy_j_per_req,
            "switches": self.switches,
        }


@dataclass(frozen=True, eq=False)
class PolicyRun:
    """What one policy did on one trace: per-request figures and the plan each request ran."""

    name: str
    figures: Figures
    plan_index: npt.NDArray[np.int64]
    plans: tuple[Tiers, ...]

    @property
    def switches(self) -> int:
        """How many times consecutive requests ran different plans."""
        return int(np.count_nonzero(np.diff(self.plan_index)))

    def summary(self) -> PolicySummary:
        """Mean and percentiles of latency, cost per 1000 requests, device joules per request."""
        latency = self.figures.latency_ms
        p50, p95, p99 = (float(v) for v in np.percentile(latency, [50, 95, 99]))
        return PolicySummary(
            mean_ms=float(latency.mean()),
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            cost_usd_per_1k=float(self.figures.cost_usd.mean() * 1000.0),
            device_energy_j_per_req=float(self.figures.energy_j.mean()),
            switches=self.switches,
        )


@dataclass(eq=False)
class Replayer:
    """Replays plans (tiers per layer) for requests over a `Network`; plan paths are derived once."""

    doc: Mapping[str, Any]
    network: Network
    _paths: dict[Tiers, PlanPaths] = field(default_factory=dict)

    @classmethod
    def over_traces(cls, doc: Mapping[str, Any], uplink: LinkReplay, downlink: LinkReplay) -> Replayer:
        """The scenario's network with its device links following the traces: `uplink` drives both
        device->edge and device->cloud, `downlink` both ways back, as the planner queries assume."""
        traced = {link: uplink for link in UPLINKS} | {link: downlink for link in DOWNLINKS}
        return cls(doc, Network.from_scenario(doc, traced))

    def paths(self, tiers: Tiers) -> PlanPaths:
        """The finishing paths of a plan (cached)."""
        found = self._paths.get(tiers)
        if found is None:
            found = plan_paths(self.doc, tiers)
            self._paths[tiers] = found
        return found

    def run(self, tiers: Tiers, requests: Requests) -> Figures:
        """Exact figures of every request if all of them ran plan `tiers`."""
        plan = self.paths(tiers)
        n = len(requests)
        latency = np.zeros(n)
        cost = np.zeros(n)
        energy = np.zeros(n)
        for k, path in enumerate(plan.paths):
            mask = requests.finish == k
            if not np.any(mask):
                continue
            out = self.network.run(path, requests.start_s[mask])
            latency[mask] = out.latency_ms
            cost[mask] = out.cost_usd
            energy[mask] = out.energy_j
        return Figures(latency, cost, energy)

    def fixed(self, name: str, tiers: Tiers, requests: Requests) -> PolicyRun:
        """The run of a policy that gives every request the same plan `tiers`."""
        return PolicyRun(name, self.run(tiers, requests), np.zeros(len(requests), dtype=np.int64), (tiers,))

    def run_one(
        self, tiers: Tiers, start_s: float, finish: int
    ) -> tuple[float, float, float, tuple[Observation, ...]]:
        """One request under plan `tiers`: latency, cost, energy and the device's own transfers."""
        out = self.network.run(self.paths(tiers).paths[finish], np.array([start_s]), observe=True)
        return (
            float(out.latency_ms[0]),
            float(out.cost_usd[0]),
            float(out.energy_j[0]),
            out.observations[0],
        )
