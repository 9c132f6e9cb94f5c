"""Plans for many devices at once: one model, per-device link states as numpy arrays.

`plan_fleet` on a chain runs the chain's run-graph dynamic programme (see `chain.py`) for every device at
once: the same recursion with arrays of shape (devices,) in place of scalars, so each device's answer is
exactly the one the scalar planner gives for its links. The graph is built once (usage does not depend on
links); only the arcs' weights differ per device, as a (arcs x 12) @ (12 x devices) product. Figures are
then priced per device from the usage of each distinct plan (reference cost model). With limits, devices
whose unconstrained optimum breaks them get Lagrangian bounds, vectorised too, that certify most of them
optimal or infeasible (`batch_limits.py`); the rest are planned one by one with the exact MILP. DAGs run a
dynamic programme over the live activations for all devices at once (`frontier.py`), or, when a model keeps
too many activations live, the exact MILP one distinct link state at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.planner.batch_limits import OPTIMAL, UNRESOLVED, certified_plans
from orchestrator.planner.costmodel import (
    COST,
    ENERGY,
    LATENCY,
    OBJECTIVES,
    TIERS,
    pricing,
)
from orchestrator.planner.errors import ScenarioError
from orchestrator.planner.evaluating import usage_of
from orchestrator.planner.frontier import frontier_paths
from orchestrator.planner.planning import optimise
from orchestrator.planner.scenario import Scenario
from orchestrator.planner.vectorised import (
    LinkArrays,
    link_arrays,
    link_prices,
    price_usage,
    shortest_paths,
    unique_rows,
)

__all__ = ["FleetPlans", "evaluate_fleet", "plan_fleet"]

FloatArray = npt.NDArray[np.float64]
CHUNK = 32768


@dataclass(frozen=True)
class FleetPlans:
    """One plan per device: `tiers[d]` (tier per layer, layer order) and its figures as arrays (devices,).

    `feasible[d]` is False where no plan meets the scenario's limits; `tiers[d]` is then the plan that is
    best for the objective ignoring the limits.
    """

    tiers: list[tuple[str, ...]]
    latency_ms: FloatArray
    cost_usd: FloatArray
    device_energy_j: FloatArray
    feasible: npt.NDArray[np.bool_]


def _links_of(scn: Scenario, d: int, bw: LinkArrays, rtt: LinkArrays) -> Scenario:
    changes = {name: {"bandwidth_mbps": float(a[d])} for name, a in bw.items()}
    for name, a in rtt.items():
        changes.setdefault(name, {})["rtt_ms"] = float(a[d])
    return scn.with_links(changes)


def _one_by_one(
    scn: Scenario, devices: npt.NDArray[np.intp], bw: LinkArrays, rtt: LinkArrays, limits: bool
) -> dict[int, tuple[int, ...] | None]:
    """Exact per-device plans (the scalar planner), solved once per distinct link state."""
    keys = np.column_stack([a[devices] for a in (*bw.values(), *rtt.values())]) if bw or rtt else None
    seen: dict[bytes, tuple[int, ...] | None] = {}
    out: dict[int, tuple[int, ...] | None] = {}
    for k, d in enumerate(devices.tolist()):
        key = keys[k].tobytes() if keys is not None else b""
        if key not in seen:
            caps = (scn.max_latency_ms, scn.max_cost_usd) if limits else (None, None)
            seen[key] = optimise(_links_of(scn, d, bw, rtt), scn.minimize, *caps)
        out[d] = seen[key]
    return out


def plan_fleet(
    scn: Scenario, bandwidth_mbps: Mapping[str, npt.ArrayLike], rtt_ms: Mapping[str, npt.ArrayLike]
) -> FleetPlans:
    """The exact optimal plan for each device's links (arrays of shape (devices,) per link name)."""
    n, bw, rtt = link_arrays(scn, bandwidth_mbps, rtt_ms)
    if n == 0:
        empty = np.zeros(0)
        return FleetPlans([], empty, empty.copy(), empty.copy(), np.zeros(0, dtype=bool))
    column = OBJECTIVES[scn.minimize]
    price = pricing(scn.tiers, scn.links)[:, column].copy()
    price[6:] = 0.0
    found: npt.NDArray[np.int8] | None = None
    if scn.is_chain:
        found, _ = shortest_paths(scn, price, np.vstack(link_prices(scn, n, bw, rtt, column)))
    else:
        found = frontier_paths(scn, price, np.vstack(link_prices(scn, n, bw, rtt, column)))
    if found is not None:
        tiers = found
    else:
        tiers = np.empty((n, len(scn.layers)), dtype=np.int8)
        for d, best in _one_by_one(scn, np.arange(n), bw, rtt, limits=False).items():
            if best is None:
                raise AssertionError("a plan without limits always exists for a parsed scenario")
            tiers[d] = best
    result = evaluate_fleet(scn, bw, rtt, tiers)
    if scn.max_latency_ms is None and scn.max_cost_usd is None:
        return result
    breaking = np.flatnonzero(~result.feasible)
    if not len(breaking):
        return result
    left = breaking
    if scn.is_chain:
        sub_bw = {name: a[breaking] for name, a in bw.items()}
        sub_rtt = {name: a[breaking] for name, a in rtt.items()}
        current = np.vstack(
            [result.latency_ms[breaking], result.cost_usd[breaking], result.device_energy_j[breaking]]
        )
        found, status = certified_plans(scn, len(breaking), sub_bw, sub_rtt, current)
        proven = status == OPTIMAL
        tiers[breaking[proven]] = found[proven]
        left = breaking[status == UNRESOLVED]
    for d, best in _one_by_one(scn, left, bw, rtt, limits=True).items():
        if best is not None:
            tiers[d] = best
    return evaluate_fleet(scn, bw, rtt, tiers)


def evaluate_fleet(
    scn: Scenario,
    bandwidth_mbps: Mapping[str, npt.ArrayLike],
    rtt_ms: Mapping[str, npt.ArrayLike],
    tiers: Sequence[Sequence[str]] | npt.NDArray[np.int8],
) -> FleetPlans:
    """Figures of GIVEN plans (one per device) under each device's links; feasible = meets the constraints."""
    n, bw, rtt = link_arrays(scn, bandwidth_mbps, rtt_ms)
    if isinstance(tiers, np.ndarray):
        codes = tiers.astype(np.int8)
    else:
        lookup = {name: t for t, name in enumerate(TIERS)}
        try:
            codes = np.array([[lookup[name] for name in row] for row in tiers], dtype=np.int8)
        except KeyError as exc:
            raise ScenarioError(f"tiers: unknown tier {exc} (tiers are {', '.join(TIERS)})") from None
    if codes.shape != (n, len(scn.layers)) and not (n == 1 and codes.shape[1:] == (len(scn.layers),)):
        raise ScenarioError(f"tiers: expected {n} plans of {len(scn.layers)} layers, got shape {codes.shape}")
    n = codes.shape[0] if n == 1 and not (bw or rtt) else n
    plans, inverse = unique_rows(codes)
    usage = np.vstack([usage_of(scn, tuple(int(t) for t in row)) for row in plans])
    figures = price_usage(scn, usage, inverse, n, bw, rtt)
    allowed = np.array([all(int(t) in scn.options[i] for i, t in enumerate(row)) for row in plans])
    feasible = allowed[inverse].copy()
    if scn.max_latency_ms is not None:
        feasible &= figures[LATENCY] <= scn.max_latency_ms * (1 + 1e-6) + 1e-9
    if scn.max_cost_usd is not None:
        feasible &= figures[COST] <= scn.max_cost_usd * (1 + 1e-6) + 1e-15
    names = [tuple(TIERS[int(t)] for t in row) for row in plans]
    return FleetPlans([names[u] for u in inverse], figures[LATENCY], figures[COST], figures[ENERGY], feasible)
