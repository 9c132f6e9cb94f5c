"""The planner: exact placement of one model's layers on device, edge and cloud. Pure: no I/O beyond
`load_scenario`, no clocks, no Ray.

Public API (the contract in the project brief; see docs/planner.md and SCENARIO.md):

* `parse_scenario(doc) -> Scenario` validates a loaded `continuum.scenario/v1` mapping; `load_scenario(path)`
  reads JSON or YAML. Bad input raises `ScenarioError` naming the path, e.g.
  `model.layers[3].latency_ms.edge: must be >= 0`.
* `Scenario` is frozen; `scenario.with_links({"device->edge": {"bandwidth_mbps": 12.0, "rtt_ms": 9.0}})`
  returns a copy with those link fields replaced (the rest kept); `with_objective(...)` likewise. Tiers may
  set the opt-in `queue_ms` (default 0): expected queueing paid each time a request's path enters the tier.
* `plan(scenario) -> Plan`: the exact optimum for `objective.minimize` (latency, cost or energy) under
  `max_latency_ms` / `max_cost_usd`, over ALL tier assignments; raises `Infeasible` (a ScenarioError)
  naming the binding limit. `Plan` has `assignment` (layer -> tier, topological order), `latency_ms`,
  `cost_usd`, `device_energy_j`, `breakdown`, `alternatives` (device_only/edge_only/cloud_only -> Figures,
  or None when infeasible) and `to_json()` (the continuum.plan/v1 document as a dict).
* `evaluate(scenario, assignment) -> Figures`: the cost model's figures of a given assignment, with the
  constraints it breaks in `violations`.
* `plan_fleet(scenario, bandwidth_mbps, rtt_ms) -> FleetPlans` and `evaluate_fleet(scenario, bandwidth_mbps,
  rtt_ms, tiers)`: the same for many devices at once, link states as numpy arrays of shape (devices,) per link
  name (links not given keep the scenario's values). Exact per device; vectorised for chains.

How it is exact: chains are a shortest path over a graph of runs (segments, exits, pins, allowed tiers;
limits by Pareto labels with Lagrangian bounds on that graph); DAGs a dynamic programme over the live
activations, or a MILP with pair variables under binding limits; argued in `chain.py`, `labels.py`,
`frontier.py` and `dag.py`, and checked against brute force over every assignment in tests/unit/planner.
"""

from __future__ import annotations

from orchestrator.planner.batch import FleetPlans, evaluate_fleet, plan_fleet
from orchestrator.planner.costmodel import LINKS, TIERS, LinkSpec, TierSpec
from orchestrator.planner.errors import Infeasible, ScenarioError
from orchestrator.planner.evaluating import evaluate
from orchestrator.planner.figures import Figures
from orchestrator.planner.loading import load_scenario
from orchestrator.planner.planning import Plan, plan
from orchestrator.planner.scenario import Scenario, parse_scenario

__all__ = [
    "LINKS",
    "TIERS",
    "Figures",
    "FleetPlans",
    "Infeasible",
    "LinkSpec",
    "Plan",
    "Scenario",
    "ScenarioError",
    "TierSpec",
    "evaluate",
    "evaluate_fleet",
    "load_scenario",
    "parse_scenario",
    "plan",
    "plan_fleet",
]
