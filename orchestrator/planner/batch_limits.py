"""Fleet plans under `max_latency_ms` / `max_cost_usd`: Lagrangian bounds with a certificate of optimality.

For the devices whose unconstrained optimum breaks a limit, the vectorised run-graph shortest path is
solved again for a grid of multipliers `lam`, minimising `objective + lam . (latency, cost)`. Each solution
gives, per device, a lower bound `D(lam) - lam . limits` on the constrained optimum (weak duality: for the
optimal feasible plan the penalty term is <= 0), and a candidate plan that, where it meets the limits, is an
upper bound. Where the best upper bound meets the best lower bound (relative 1e-9) the candidate is the
exact optimum, certified. Where the smallest achievable latency (or cost) already exceeds its limit, no plan
is feasible, also certified. Everything else (a duality gap) is left to the exact per-device MILP.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from orchestrator.planner.costmodel import COST, LATENCY, OBJECTIVES, pricing
from orchestrator.planner.evaluating import usage_of
from orchestrator.planner.scenario import Scenario
from orchestrator.planner.vectorised import LinkArrays, link_prices, price_usage, shortest_paths, unique_rows

__all__ = ["INFEASIBLE", "OPTIMAL", "UNRESOLVED", "certified_plans"]

FloatArray = npt.NDArray[np.float64]
UNRESOLVED, OPTIMAL, INFEASIBLE = 0, 1, 2
GRID_ONE = [2.0**k for k in range(-10, 11)]
GRID_TWO = [0.0, 2.0**-6, 2.0**-3, 1.0, 2.0**3, 2.0**6]


def _figures(
    scn: Scenario, tiers: npt.NDArray[np.int8], m: int, bw: LinkArrays, rtt: LinkArrays
) -> FloatArray:
    plans, inverse = unique_rows(tiers)
    usage = np.vstack([usage_of(scn, tuple(int(t) for t in row)) for row in plans])
    return price_usage(scn, usage, inverse, m, bw, rtt)


# Over 60 lines: one certification pass over the batch whose steps share the per-device arrays.
def certified_plans(
    scn: Scenario, m: int, bw: LinkArrays, rtt: LinkArrays, current: FloatArray
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """For m devices (their link arrays) and their current (3, m) figures: (tiers, status per device).

    status OPTIMAL: `tiers` is the exact constrained optimum; INFEASIBLE: no plan meets the limits;
    UNRESOLVED: the bounds did not meet, solve that device exactly by other means.
    """
    objective = OBJECTIVES[scn.minimize]
    limits = [
        (col, cap)
        for col, cap in ((LATENCY, scn.max_latency_ms), (COST, scn.max_cost_usd))
        if cap is not None
    ]
    base = pricing(scn.tiers, scn.links)
    base[6:] = 0.0
    links = np.stack([np.vstack(link_prices(scn, m, bw, rtt, col)) for col in range(3)])

    def solve(coefs: FloatArray) -> tuple[npt.NDArray[np.int8], FloatArray]:
        return shortest_paths(scn, base @ coefs, np.tensordot(coefs, links, axes=1))

    status = np.full(m, UNRESOLVED, dtype=np.int8)
    best_tiers = np.full((m, len(scn.layers)), -1, dtype=np.int8)
    upper = np.full(m, np.inf)
    lower = np.full(m, -np.inf)

    def consider(tiers: npt.NDArray[np.int8]) -> FloatArray:
        figures = _figures(scn, tiers, m, bw, rtt)
        ok = np.ones(m, dtype=bool)
        for col, cap in limits:
            ok &= figures[col] <= cap * (1 + 1e-6) + 1e-15
        better = ok & (figures[objective] < upper)
        upper[better] = figures[objective][better]
        best_tiers[better] = tiers[better]
        return figures

    scales = []
    for col, cap in limits:
        unit = np.zeros(3)
        unit[col] = 1.0
        tiers, least = solve(unit)
        status[least > cap * (1 + 1e-6) + 1e-15] = INFEASIBLE
        extreme = consider(tiers)
        # The multiplier where trading this limit's quantity for objective breaks even, device by device.
        gain = current[col] - extreme[col]
        price = (extreme[objective] - current[objective]) / np.where(gain > 0, gain, np.inf)
        usable = price[np.isfinite(price) & (price > 0)]
        fallback = max(float(np.median(np.abs(current[objective]))), 1e-300) / max(cap, 1e-300)
        scales.append(float(np.median(usable)) if len(usable) else fallback)
    grid = GRID_ONE if len(limits) == 1 else GRID_TWO
    for steps in itertools.product(grid, repeat=len(limits)):
        if not any(steps):
            continue
        coefs = np.zeros(3)
        coefs[objective] = 1.0
        penalty = 0.0
        for (col, cap), step, scale in zip(limits, steps, scales, strict=True):
            coefs[col] += step * scale
            penalty += step * scale * cap
        tiers, value = solve(coefs)
        np.maximum(lower, value - penalty, out=lower)
        consider(tiers)
    tolerance = 1e-9 * np.maximum(np.abs(upper), np.abs(lower)) + 1e-15
    proven = np.isfinite(upper) & (upper <= lower + tolerance) & (status == UNRESOLVED)
    status[proven] = OPTIMAL
    return best_tiers, status
