"""Fuzzing the planner's scenario parser: any JSON-ish mapping is a Scenario or a ScenarioError, and an
accepted scenario plans to finite figures (or is Infeasible) — never another exception, never NaN."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_scenarios import BASE_SCENARIO
from orchestrator.planner import Infeasible, ScenarioError, parse_scenario, plan

FUZZ = settings(max_examples=300, deadline=None)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(("conv1", "relu1", "fc", "edge", "device", "cloud", "device->edge", "latency")),
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def scenario_docs(draw: st.DrawFn) -> dict[str, Any]:
    """The valid base scenario with 1-3 values (at any depth) replaced, or keys deleted."""
    doc: dict[str, Any] = copy.deepcopy(BASE_SCENARIO)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:]))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return doc


def _check(doc: dict[str, Any]) -> None:
    try:
        scenario = parse_scenario(doc)
    except ScenarioError:
        return
    try:
        result = plan(scenario)
    except Infeasible:
        return
    figures = (result.latency_ms, result.cost_usd, result.device_energy_j)
    assert all(math.isfinite(v) and v >= 0 for v in figures), figures


@FUZZ
@given(scenario_docs())
def test_any_mutated_scenario_is_a_plan_or_a_scenario_error(doc: dict[str, Any]) -> None:
    _check(doc)


@FUZZ
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_arbitrary_mappings_raise_scenario_error(doc: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError):
        parse_scenario(doc)


def _with(path: tuple[Any, ...], value: object) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(BASE_SCENARIO)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("links", "edge->device", "bandwidth_mbps"), 5e-324),
        (("links", "edge->cloud", "bandwidth_mbps"), 5e-324),
        (("tiers", "device", "cost_per_hour"), 1e308),
        (("model", "input_bytes"), 1e308),
    ],
    ids=["subnormal-downlink", "subnormal-edge-cloud", "huge-price", "huge-input"],
)
def test_extreme_but_finite_numbers_give_finite_figures_or_a_scenario_error(
    path: tuple[Any, ...], value: float
) -> None:
    """Found by `continuum bench fuzz`: such scenarios were accepted and planned to NaN or inf figures."""
    _check(_with(path, value))
