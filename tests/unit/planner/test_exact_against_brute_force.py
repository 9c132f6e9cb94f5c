"""The planner's optimum equals brute force over every assignment; its figures equal the oracle's."""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orchestrator.planner import Infeasible, ScenarioError, frontier, parse_scenario, plan
from tests.unit.planner.oracle import brute_force, figures
from tests.unit.planner.strategies import scenario_docs

OBJECTIVE = {"latency": 0, "cost": 1, "energy": 2}


def close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9 * max(scale, 1e-12))


def check(doc: dict[str, Any], data: st.DataObject) -> None:
    candidates = brute_force(doc)
    try:
        scn = parse_scenario(doc)
    except ScenarioError:
        event("rejected: no allowed assignment")
        assert not candidates
        return
    assert candidates, "the planner accepted a scenario with no allowed assignment"
    objective = OBJECTIVE[doc["objective"]["minimize"]]
    for key, column in (("max_latency_ms", 0), ("max_cost_usd", 1)):
        if data.draw(st.booleans(), label=f"limit {key}"):
            pick = data.draw(st.sampled_from(candidates), label="limit from")
            factor = data.draw(st.sampled_from([0.7, 1.0001, 1.5]), label="factor")
            doc["objective"][key] = pick[1][column] * factor
    scn = parse_scenario(doc)
    limits = doc["objective"]

    def meets(f: tuple[float, float, float]) -> bool:
        ok = limits.get("max_latency_ms") is None or f[0] <= limits["max_latency_ms"]
        return ok and (limits.get("max_cost_usd") is None or f[1] <= limits["max_cost_usd"])

    feasible = [c for c in candidates if meets(c[1])]
    event(f"{'limited' if limits.get('max_latency_ms') or limits.get('max_cost_usd') else 'free'}")
    if not feasible:
        event("infeasible")
        with pytest.raises(Infeasible):
            plan(scn)
        return
    best = min(f[objective] for _, f in feasible)
    scale = max(abs(f[objective]) for _, f in candidates)
    result = plan(scn)
    mine = figures(doc, dict(result.assignment))
    assert close(result.latency_ms, mine[0], mine[0])
    assert close(result.cost_usd, mine[1], mine[1])
    assert close(result.device_energy_j, mine[2], mine[2])
    assert close(mine[objective], best, scale), (mine, best, result.assignment)
    assert meets((mine[0] * (1 - 1e-6), mine[1] * (1 - 1e-6), 0.0))
    for tier in ("device", "edge", "cloud"):
        single = next((f for a, f in feasible if set(a.values()) == {tier}), None)
        alternative = result.alternatives[f"{tier}_only"]
        assert (alternative is None) == (single is None)
        if alternative is not None and single is not None:
            assert close(alternative.latency_ms, single[0], single[0])


@settings(
    max_examples=int(os.environ.get("PLANNER_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(doc=scenario_docs(), data=st.data())
def test_chain_plan_is_the_brute_force_optimum(doc: dict[str, Any], data: st.DataObject) -> None:
    check(copy.deepcopy(doc), data)


@settings(
    max_examples=int(os.environ.get("PLANNER_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(doc=scenario_docs(dag=True), data=st.data())
def test_dag_plan_is_the_brute_force_optimum(doc: dict[str, Any], data: st.DataObject) -> None:
    check(copy.deepcopy(doc), data)


@settings(max_examples=int(os.environ.get("PLANNER_EXAMPLES", "60")) // 2, deadline=None)
@given(doc=scenario_docs(dag=True), data=st.data())
def test_dag_milp_alone_is_the_brute_force_optimum(doc: dict[str, Any], data: st.DataObject) -> None:
    """The MILP is the fallback for models with many live activations; check it without the recursion."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontier, "MAX_STATES", -1)
        check(copy.deepcopy(doc), data)
