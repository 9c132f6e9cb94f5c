"""plan_fleet gives every device the plan the scalar planner gives it; evaluate_fleet prices given plans."""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.planner import ScenarioError, evaluate, evaluate_fleet, parse_scenario, plan, plan_fleet
from tests.unit.planner.samples import chain_doc, dag_doc
from tests.unit.planner.strategies import scenario_docs

OBJECTIVE = {"latency": "latency_ms", "cost": "cost_usd", "energy": "device_energy_j"}


def _links(seed: int, devices: int, names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    bandwidth = {name: rng.uniform(0.5, 300.0, devices) for name in names}
    rtt = {name: rng.uniform(0.0, 80.0, devices) for name in names}
    return bandwidth, rtt


def _one(bandwidth: dict[str, Any], rtt: dict[str, Any], d: int) -> dict[str, dict[str, float]]:
    return {
        name: {"bandwidth_mbps": float(bandwidth[name][d]), "rtt_ms": float(rtt[name][d])}
        for name in bandwidth
    }


def _check(doc: dict[str, Any], seed: int, devices: int = 12, limit: float | None = None) -> None:
    try:
        scn = parse_scenario(doc)
    except ScenarioError:
        return
    bandwidth, rtt = _links(seed, devices, sorted(scn.links))
    if limit is not None:
        free = plan_fleet(scn, bandwidth, rtt)
        scn = scn.with_objective(scn.minimize, max_latency_ms=float(np.quantile(free.latency_ms, limit)))
    fleet = plan_fleet(scn, bandwidth, rtt)
    key = OBJECTIVE[scn.minimize]
    for d in range(devices):
        mine = scn.with_links(_one(bandwidth, rtt, d))
        try:
            alone = plan(mine)
        except ScenarioError:
            assert not fleet.feasible[d]
            continue
        assert getattr(fleet, key)[d] == pytest.approx(getattr(alone, key), rel=1e-6, abs=1e-12)
        figures = evaluate(mine, dict(zip(scn.layer_names, fleet.tiers[d], strict=True)))
        assert fleet.latency_ms[d] == pytest.approx(figures.latency_ms, rel=1e-9)
        assert fleet.cost_usd[d] == pytest.approx(figures.cost_usd, rel=1e-9, abs=1e-18)
        assert fleet.device_energy_j[d] == pytest.approx(figures.device_energy_j, rel=1e-9, abs=1e-15)
        assert fleet.feasible[d]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=scenario_docs(), seed=st.integers(0, 1000))
def test_fleet_chain_plans_equal_scalar_plans(doc: dict[str, Any], seed: int) -> None:
    _check(copy.deepcopy(doc), seed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=scenario_docs(), seed=st.integers(0, 1000), quantile=st.sampled_from([0.0, 0.3, 0.7]))
def test_fleet_chain_plans_under_a_latency_limit_equal_scalar_plans(
    doc: dict[str, Any], seed: int, quantile: float
) -> None:
    _check(copy.deepcopy(doc), seed, devices=16, limit=quantile)


@settings(
    max_examples=int(os.environ.get("PLANNER_FLEET_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(doc=scenario_docs(dag=True, max_layers=6), seed=st.integers(0, 1000))
def test_fleet_dag_plans_equal_scalar_plans(doc: dict[str, Any], seed: int) -> None:
    _check(copy.deepcopy(doc), seed, devices=6)


def test_fleet_respects_limits_device_by_device() -> None:
    doc = chain_doc()
    doc["objective"] = {"minimize": "cost", "max_latency_ms": 90.0}
    scn = parse_scenario(doc)
    bandwidth = {"device->edge": np.array([0.2, 5.0, 50.0, 500.0])}
    fleet = plan_fleet(scn, bandwidth, {})
    for d in range(4):
        try:
            alone = plan(
                scn.with_links({"device->edge": {"bandwidth_mbps": float(bandwidth["device->edge"][d])}})
            )
        except ScenarioError:
            assert not fleet.feasible[d]
            continue
        assert fleet.feasible[d]
        assert fleet.cost_usd[d] == pytest.approx(alone.cost_usd, rel=1e-6, abs=1e-15)
        assert fleet.latency_ms[d] <= 90.0 * (1 + 1e-6)


def test_evaluate_fleet_prices_given_plans_per_device() -> None:
    scn = parse_scenario(dag_doc())
    plans = [("device", "edge", "edge", "edge"), ("edge", "edge", "cloud", "device"), ("device",) * 4]
    bandwidth = {"device->edge": np.array([1.0, 10.0, 100.0])}
    rtt = {"edge->cloud": np.array([5.0, 50.0, 0.0])}
    result = evaluate_fleet(scn, bandwidth, rtt, plans)
    for d, tiers in enumerate(plans):
        links = {
            "device->edge": {"bandwidth_mbps": float(bandwidth["device->edge"][d])},
            "edge->cloud": {"rtt_ms": float(rtt["edge->cloud"][d])},
        }
        figures = evaluate(scn.with_links(links), dict(zip(scn.layer_names, tiers, strict=True)))
        assert result.latency_ms[d] == pytest.approx(figures.latency_ms, rel=1e-12)
        assert result.device_energy_j[d] == pytest.approx(figures.device_energy_j, rel=1e-12)
    assert result.tiers == plans


@pytest.mark.parametrize(
    ("bandwidth", "message"),
    [
        ({"device->edge": np.array([1.0, 0.0])}, r"bandwidth_mbps.device->edge\[1\]: must be finite and > 0"),
        ({"device->edge": np.array([1.0, np.nan])}, r"bandwidth_mbps.device->edge\[1\]"),
        ({"device->edge": np.array([5e-324, 1.0])}, r"bandwidth_mbps.device->edge\[0\]"),
        ({"device->fog": np.array([1.0])}, "bandwidth_mbps.device->fog: unknown link"),
        ({"device->edge": np.ones(2), "edge->device": np.ones(3)}, "arrays differ in length"),
    ],
)
def test_fleet_link_arrays_are_validated(bandwidth: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        plan_fleet(parse_scenario(chain_doc()), bandwidth, {})


def test_fleet_refuses_links_the_scenario_lacks() -> None:
    doc = chain_doc()
    del doc["links"]["device->cloud"]
    with pytest.raises(ScenarioError, match="the scenario has no such link"):
        plan_fleet(parse_scenario(doc), {"device->cloud": np.ones(2)}, {})


def test_an_empty_fleet_has_no_plans() -> None:
    fleet = plan_fleet(parse_scenario(chain_doc()), {"device->edge": np.zeros(0)}, {})
    assert fleet.tiers == []
    assert fleet.latency_ms.shape == (0,)
