"""Behaviour of plan() and evaluate() beyond optimality: limits, alternatives, queues, relays, errors."""

from __future__ import annotations

import re

import pytest

from orchestrator.planner import Infeasible, ScenarioError, evaluate, parse_scenario, plan
from tests.unit.planner.oracle import figures
from tests.unit.planner.samples import chain_doc, dag_doc


def test_a_slow_uplink_keeps_work_on_the_device_and_a_fast_one_offloads() -> None:
    scn = parse_scenario(chain_doc())
    slow = scn.with_links({"device->edge": {"bandwidth_mbps": 0.5}, "device->cloud": {"bandwidth_mbps": 0.5}})
    fast = scn.with_links({"device->edge": {"bandwidth_mbps": 2000.0, "rtt_ms": 1.0}})
    assert set(plan(slow).assignment.values()) == {"device"}
    assert plan(fast).assignment["b"] != "device"


def test_cost_objective_prefers_free_device_and_breaks_ties_by_latency() -> None:
    doc = chain_doc()
    doc["objective"] = {"minimize": "cost"}
    result = plan(parse_scenario(doc))
    assert result.cost_usd == 0.0
    assert set(result.assignment.values()) == {"device"}


def test_latency_limit_makes_the_planner_pay() -> None:
    doc = chain_doc()
    doc["objective"] = {"minimize": "cost", "max_latency_ms": 60.0}
    result = plan(parse_scenario(doc))
    assert result.latency_ms <= 60.0
    assert result.cost_usd > 0.0


def test_cost_limit_that_nothing_meets_names_max_cost() -> None:
    doc = chain_doc()
    doc["constraints"] = {"pin": {"b": "cloud"}}
    doc["objective"] = {"minimize": "latency", "max_cost_usd": 1e-12}
    with pytest.raises(Infeasible, match=re.escape("objective.max_cost_usd: no plan is that cheap")):
        plan(parse_scenario(doc))


def test_limits_met_alone_but_not_together_name_both() -> None:
    doc = chain_doc()
    fastest = plan(parse_scenario(doc)).latency_ms
    doc["objective"] = {"minimize": "latency", "max_latency_ms": fastest * 1.01, "max_cost_usd": 0.0}
    with pytest.raises(Infeasible, match=re.escape("max_latency_ms and objective.max_cost_usd")):
        plan(parse_scenario(doc))


def test_alternatives_are_none_where_constraints_forbid_them() -> None:
    doc = chain_doc()
    doc["constraints"] = {"pin": {"a": "device"}, "tiers": ["device", "edge"]}
    result = plan(parse_scenario(doc))
    assert result.alternatives["edge_only"] is None
    assert result.alternatives["cloud_only"] is None
    device_only = result.alternatives["device_only"]
    assert device_only is not None
    assert device_only.latency_ms == pytest.approx(75.0)


def test_queue_ms_is_paid_each_time_the_path_enters_a_tier() -> None:
    doc = chain_doc()
    assignment = {"a": "edge", "b": "device", "c": "edge"}
    base = evaluate(parse_scenario(doc), assignment)
    doc["tiers"]["edge"]["queue_ms"] = 7.0
    queued = evaluate(parse_scenario(doc), assignment)
    assert queued.latency_ms == pytest.approx(base.latency_ms + 14.0)
    assert queued.breakdown["queue_ms"]["edge"] == pytest.approx(14.0)
    assert queued.cost_usd == base.cost_usd


def test_missing_device_cloud_link_relays_through_the_edge() -> None:
    doc = chain_doc()
    del doc["links"]["device->cloud"]
    assignment = {"a": "cloud", "b": "cloud", "c": "cloud"}
    result = evaluate(parse_scenario(doc), assignment)
    assert "device->cloud" not in result.breakdown["transfer_ms"]
    hops = result.breakdown["transfer_ms"]
    expected_up = 4.0 + 600000 * 8 / 20000 + 15.0 + 600000 * 8 / 500000
    assert hops["device->edge"] + hops["edge->cloud"] == pytest.approx(expected_up)
    assert result.latency_ms == pytest.approx(figures(doc, assignment)[0])


def test_a_dag_output_is_sent_once_to_each_tier_that_needs_it() -> None:
    doc = dag_doc()
    doc["model"]["layers"].append(
        {"name": "e", "output_bytes": 10.0, "latency_ms": {"device": 1.0, "edge": 0.1}, "inputs": ["b"]}
    )
    assignment = {"a": "device", "b": "device", "c": "edge", "d": "edge", "e": "edge"}
    result = evaluate(parse_scenario(doc), assignment)
    b_once = 4.0 + 800000 * 8 / 20000
    a_to_nothing = 0.0
    sinks_back = 2 * (4.0 + 4000 * 8 / 60000) - 4000 * 8 / 60000 + 10 * 8 / 60000
    assert result.breakdown["transfer_ms"]["device->edge"] == pytest.approx(b_once + a_to_nothing)
    assert result.breakdown["transfer_ms"]["edge->device"] == pytest.approx(sinks_back)
    assert result.latency_ms == pytest.approx(figures(doc, assignment)[0])


def test_evaluate_reports_broken_constraints() -> None:
    doc = chain_doc()
    doc["constraints"] = {"pin": {"a": "device"}}
    doc["objective"] = {"minimize": "latency", "max_latency_ms": 1.0}
    result = evaluate(parse_scenario(doc), {"a": "edge", "b": "edge", "c": "edge"})
    assert not result.feasible
    assert any("may not run on edge" in v for v in result.violations)
    assert any(v.startswith("objective.max_latency_ms") for v in result.violations)


def test_evaluate_refuses_unknown_or_missing_layers() -> None:
    scn = parse_scenario(chain_doc())
    with pytest.raises(ScenarioError, match=re.escape("assignment.zz: unknown layer")):
        evaluate(scn, {"a": "edge", "b": "edge", "c": "edge", "zz": "edge"})
    with pytest.raises(ScenarioError, match="no tier for layer"):
        evaluate(scn, {"a": "edge"})
    with pytest.raises(ScenarioError, match="unknown tier"):
        evaluate(scn, {"a": "edge", "b": "fog", "c": "edge"})


def test_plan_lists_tiers_in_layer_order() -> None:
    result = plan(parse_scenario(dag_doc()))
    assert list(result.assignment) == ["a", "b", "c", "d"]
    assert result.tiers == tuple(result.assignment.values())
    assert result.to_json()["format"] == "continuum.plan/v1"
