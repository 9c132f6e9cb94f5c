"""The fixed policies (single tier, static split) and the clairvoyant oracle, with their summaries.

The oracle, for each request, replays every candidate plan exactly on the trace (the same `Replayer`
arithmetic every policy is scored with) and keeps the fastest. Why it is never worse than any other policy,
per request and therefore on the mean and every percentile: each policy's latency for request i is
``replay(plan_i, i)`` for the plan it ran, and the oracle's is ``min over c in C of replay(c, i)``; the
candidate set C is built to contain every plan any other policy ran in this evaluation (single-tier, static,
all of adaptive's), so the minimum is at most ``replay(plan_i, i)``. C also holds every plan the production
planner returns over a dense grid of device-link bandwidths spanning the trace (and single-tier plans): a
request whose transfers see an effectively constant bandwidth b gets the planner's optimum for b, which
the grid contains to within its spacing. Latency is the oracle's objective; its cost and energy are those
of the plan it picked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.paths import Tiers
from continuum_evaluation.placement import Placement
from continuum_evaluation.request_replay import Figures, Replayer, Requests

__all__ = [
    "SINGLE_TIER",
    "PolicyRun",
    "PolicySummary",
    "bandwidth_grid",
    "oracle",
    "single_tier",
    "static_split",
]

SINGLE_TIER: Mapping[str, str] = {"device_only": "device", "edge_only": "edge", "cloud_only": "cloud"}
"""The single-tier policies and the tier each runs everything on."""


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


def fixed(name: str, tiers: Tiers, replayer: Replayer, requests: Requests) -> PolicyRun:
    """A policy that runs one plan for every request."""
    return PolicyRun(name, replayer.run(tiers, requests), np.zeros(len(requests), dtype=np.int64), (tiers,))


def single_tier(name: str, placement: Placement, replayer: Replayer, requests: Requests) -> PolicyRun | None:
    """`device_only`, `edge_only` or `cloud_only`; None when the model cannot run wholly on that tier."""
    tiers = placement.single_tier(SINGLE_TIER[name])
    return None if tiers is None else fixed(name, tiers, replayer, requests)


def static_split(
    placement: Placement, replayer: Replayer, requests: Requests, up: LinkReplay, down: LinkReplay
) -> PolicyRun:
    """The planner's plan for the traces' time-weighted mean bandwidths, kept for the whole run."""
    tiers, _ = placement.best(up.mean_mbps, down.mean_mbps)
    return fixed("static_split", tiers, replayer, requests)


def bandwidth_grid(
    up: LinkReplay, down: LinkReplay, points: int = 96, down_points: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """Log-spaced (uplink, downlink) pairs covering both traces' ranges and beyond, for the oracle."""

    def span(link: LinkReplay, n: int) -> np.ndarray:
        rates = link.bits_per_s / 1e6
        positive = rates[rates > 0]
        low = float(positive.min()) if positive.size else 0.01
        high = float(rates.max())
        return np.geomspace(max(low / 4.0, 1e-3), max(high * 4.0, low), n)

    if down is up:
        grid = span(up, points)
        return grid, grid
    ups, downs = np.meshgrid(span(up, points), span(down, down_points))
    return ups.ravel(), downs.ravel()


def oracle(
    replayer: Replayer,
    requests: Requests,
    candidates: Iterable[Tiers],
) -> PolicyRun:
    """Per request, the fastest of `candidates` replayed exactly on the trace (clairvoyant)."""
    plans = tuple(dict.fromkeys(candidates))
    if not plans:
        raise ValueError("the oracle needs at least one candidate plan")
    runs = [replayer.run(tiers, requests) for tiers in plans]
    latency = np.vstack([r.latency_ms for r in runs])
    best = np.argmin(latency, axis=0)
    columns = np.arange(len(requests))
    figures = Figures(
        latency[best, columns],
        np.vstack([r.cost_usd for r in runs])[best, columns],
        np.vstack([r.energy_j for r in runs])[best, columns],
    )
    return PolicyRun("oracle", figures, best.astype(np.int64), plans)
