"""`plan(scenario)`: the optimal assignment, its figures, the single-tier alternatives, and `Plan`.

Chains go to the run graph (`chain.py`), DAGs to the live-activation recursion (`frontier.py`) or,
when that has too many states or limits bind, the MILP (`dag.py`); all are exact, and the figures are
always re-priced by the reference cost model (`evaluating.py`). Without limits a chain is a shortest path;
with limits the unconstrained optimum is kept when it already meets them (then it is also the constrained
optimum), otherwise Pareto labels with bounds decide (`labels.py`); DAGs with limits use the MILP.
No feasible plan: `Infeasible`, naming the binding limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrator.planner.chain import chain_graph, run_dp
from orchestrator.planner.costmodel import COST, LATENCY, OBJECTIVES, TIERS, pricing
from orchestrator.planner.dag import dag_program, solve_dag
from orchestrator.planner.errors import Infeasible
from orchestrator.planner.evaluating import evaluate_indices
from orchestrator.planner.figures import Figures
from orchestrator.planner.frontier import frontier_plan
from orchestrator.planner.labels import constrained_labels
from orchestrator.planner.scenario import Scenario

__all__ = ["Plan", "objective_price", "optimise", "plan"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Plan:
    """The chosen placement: `assignment` (layer -> tier, topological order), its figures, and what each
    single-tier placement would give (`alternatives`: device_only/edge_only/cloud_only, None if infeasible).
    """

    model: str
    objective: str
    assignment: Mapping[str, str]
    latency_ms: float
    cost_usd: float
    device_energy_j: float
    breakdown: Mapping[str, Mapping[str, float]]
    alternatives: Mapping[str, Figures | None]

    @property
    def tiers(self) -> tuple[str, ...]:
        """The tier of each layer, in layer order (the wire form's parallel list)."""
        return tuple(self.assignment.values())

    def to_json(self) -> dict[str, Any]:
        """The `continuum.plan/v1` document as a JSON-ready dict (json.dumps it to print or send)."""
        return {
            "format": "continuum.plan/v1",
            "assignment": dict(self.assignment),
            "latency_ms": self.latency_ms,
            "cost_usd": self.cost_usd,
            "device_energy_j": self.device_energy_j,
            "breakdown": {key: dict(value) for key, value in self.breakdown.items()},
            "alternatives": {
                key: (None if figures is None else figures.to_json())
                for key, figures in self.alternatives.items()
            },
        }


def objective_price(price: FloatArray, objective: int) -> FloatArray:
    """The objective's price per basis element, plus a latency tie-break far below its resolution.

    Among plans equal in cost or energy the faster one wins; the tie-break weighs latency by 1e-9 of the
    objective's scale, so it never overturns a real difference.
    """
    column = price[:, objective]
    if objective == LATENCY:
        return column
    scale = float(np.max(np.abs(column)))
    latency = price[:, LATENCY]
    lat_scale = float(np.max(np.abs(latency)))
    if lat_scale <= 0:
        return column
    return column + latency * (1e-9 * scale / lat_scale if scale > 0 else 1.0)


def figures_value(figures: Figures, objective: str) -> float:
    """The figure an objective minimises."""
    return {"latency": figures.latency_ms, "cost": figures.cost_usd, "energy": figures.device_energy_j}[
        objective
    ]


def optimise(
    scn: Scenario, objective: str, max_latency_ms: float | None, max_cost_usd: float | None
) -> tuple[int, ...] | None:
    """The exact optimum (tier index per layer) for `objective` under the given limits; None if none."""
    price = pricing(scn.tiers, scn.links)
    vector = objective_price(price, OBJECTIVES[objective])
    limit_cols = [(LATENCY, max_latency_ms), (COST, max_cost_usd)]
    if scn.is_chain:
        best = run_dp(scn, vector)
        if all(limit is None for _, limit in limit_cols):
            return best
        limited = scn.with_objective(objective, max_latency_ms, max_cost_usd)
        if evaluate_indices(limited, best).feasible:
            return best
        graph = chain_graph(scn)
        return constrained_labels(
            graph,
            graph.usage @ vector,
            graph.usage @ price[:, LATENCY],
            graph.usage @ price[:, COST],
            float("inf") if max_latency_ms is None else max_latency_ms,
            float("inf") if max_cost_usd is None else max_cost_usd,
            len(scn.layers),
        )
    quick = frontier_plan(scn, vector)
    if quick is not None and all(limit is None for _, limit in limit_cols):
        return quick
    if (
        quick is not None
        and evaluate_indices(scn.with_objective(objective, max_latency_ms, max_cost_usd), quick).feasible
    ):
        return quick
    program = dag_program(scn)
    limits = [(program.usage @ price[:, col], limit) for col, limit in limit_cols if limit is not None]
    return solve_dag(program, program.usage @ vector, limits)


def _diagnose(scn: Scenario) -> Infeasible:
    latency_cap, cost_cap = scn.max_latency_ms, scn.max_cost_usd
    if latency_cap is not None:
        fastest = evaluate_indices(scn, optimise(scn, "latency", None, None) or ())
        if fastest.latency_ms > latency_cap:
            return Infeasible(
                "objective.max_latency_ms: no plan is that fast; "
                f"the fastest takes {fastest.latency_ms:.4g} ms (limit {latency_cap:.4g} ms); "
                "raise the limit or allow more tiers"
            )
    if cost_cap is not None:
        cheapest = evaluate_indices(scn, optimise(scn, "cost", None, None) or ())
        if cheapest.cost_usd > cost_cap:
            return Infeasible(
                "objective.max_cost_usd: no plan is that cheap; "
                f"the cheapest costs {cheapest.cost_usd:.4g} USD (limit {cost_cap:.4g} USD); "
                "raise the limit or allow cheaper tiers"
            )
    best = optimise(scn, "latency", None, cost_cap)
    within = f"{evaluate_indices(scn, best).latency_ms:.4g} ms" if best is not None else "longer"
    return Infeasible(
        "objective.max_latency_ms and objective.max_cost_usd: each can be met alone but not both; "
        f"within {cost_cap:.4g} USD the fastest plan takes {within} (limit {latency_cap:.4g} ms); relax one"
    )


def _alternatives(scn: Scenario) -> dict[str, Figures | None]:
    out: dict[str, Figures | None] = {}
    for t, tier in enumerate(TIERS):
        figures = None
        if all(t in opts for opts in scn.options):
            figures = evaluate_indices(scn, (t,) * len(scn.layers))
            figures = figures if figures.feasible else None
        out[f"{tier}_only"] = figures
    return out


def plan(scn: Scenario) -> Plan:
    """The exact optimal plan of a scenario; raises Infeasible naming the binding limit when none exists."""
    best = optimise(scn, scn.minimize, scn.max_latency_ms, scn.max_cost_usd)
    if best is None:
        raise _diagnose(scn)
    figures = evaluate_indices(scn, best)
    if not figures.feasible:
        raise _diagnose(scn)
    assignment = {layer.name: TIERS[t] for layer, t in zip(scn.layers, best, strict=True)}
    return Plan(
        model=scn.name,
        objective=scn.minimize,
        assignment=assignment,
        latency_ms=figures.latency_ms,
        cost_usd=figures.cost_usd,
        device_energy_j=figures.device_energy_j,
        breakdown=figures.breakdown,
        alternatives=_alternatives(scn),
    )
