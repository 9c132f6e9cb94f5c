"""The fixed policies (single tier, static split: one plan each) and the clairvoyant oracle.

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

import numpy as np

from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.paths import Tiers
from continuum_evaluation.placement import Placement
from continuum_evaluation.request_replay import Figures, PolicyRun, Replayer, Requests

__all__ = ["FIXED", "SINGLE_TIER", "bandwidth_grid", "fixed_plan", "oracle", "oracle_candidates"]

SINGLE_TIER: Mapping[str, str] = {"device_only": "device", "edge_only": "edge", "cloud_only": "cloud"}
"""The single-tier policies and the tier each runs everything on."""
FIXED: tuple[str, ...] = (*SINGLE_TIER, "static_split")
"""The policies that run one plan, chosen before the first request, for every request."""

DAG_GRID = (40, 5)
"""Oracle grid (uplink points, downlink points) for DAG models, whose exact planner solves a MILP per point;
chains use the vectorised planner over a denser default grid."""


def fixed_plan(name: str, placement: Placement, up: LinkReplay, down: LinkReplay) -> Tiers | None:
    """The one plan a fixed policy runs for every request: everything on one tier (`device_only`,
    `edge_only`, `cloud_only`; None when some layer cannot run there) or, for `static_split`, the
    planner's plan at the traces' time-weighted mean bandwidths."""
    if name in SINGLE_TIER:
        return placement.single_tier(SINGLE_TIER[name])
    if name != "static_split":
        raise ValueError(f"{name!r} is not a fixed policy; choose from {', '.join(FIXED)}")
    tiers, _ = placement.best(up.mean_mbps, down.mean_mbps)
    return tiers


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


def oracle_candidates(
    placement: Placement, up: LinkReplay, down: LinkReplay, others: Iterable[PolicyRun]
) -> list[Tiers]:
    """The oracle's candidate set C: the planner's plans over the bandwidth grid, the single-tier plans
    and every plan the `others` ran (which is what makes the oracle never worse than any of them)."""
    if getattr(placement.scenario, "is_chain", True):
        ups, downs = bandwidth_grid(up, down)
    else:
        ups, downs = bandwidth_grid(up, down, DAG_GRID[0], DAG_GRID[1])
    plans: list[Tiers] = placement.best_over(ups, downs)
    for tier in SINGLE_TIER.values():
        whole = placement.single_tier(tier)
        if whole is not None:
            plans.append(whole)
    for run in others:
        plans.extend(run.plans)
    return plans


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
