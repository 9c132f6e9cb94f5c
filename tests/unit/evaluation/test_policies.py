"""Policies on traces: hand-checked single tiers, an oracle never beaten, adaptive following a drop."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents.sim.traces import load_trace, shipped_trace
from continuum_evaluation.adaptive import AdaptiveSettings
from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.policies import oracle
from continuum_evaluation.request_replay import Replayer
from continuum_evaluation.run import POLICIES, evaluate_trace
from continuum_evaluation.scenario import DOWNLINKS, UPLINKS
from continuum_evaluation.timing import Network
from tests.unit.evaluation.models import chain_model, dag_model, exit_model, scenario


def _two_column(path: Path, rows: list[tuple[float, float]]) -> Path:
    path.write_text("".join(f"{t}\t{mbps}\n" for t, mbps in rows))
    return path


def test_single_tier_policies_match_hand_computation_on_a_constant_trace(tmp_path: Path) -> None:
    trace = load_trace(_two_column(tmp_path / "flat.txt", [(float(t), 8.0) for t in range(60)]))
    doc = scenario(chain_model(), edge_rtt_ms=10.0, cloud_rtt_ms=50.0)
    result = evaluate_trace(
        doc, LinkReplay.from_trace(trace), policies=["device_only", "edge_only", "cloud_only"]
    )
    figures = {name: run.summary() for name, run in result.runs.items()}
    # Device: 20 + 5 + 60 + 40 ms of compute; an x86-class device draws 65 W.
    assert figures["device_only"].mean_ms == pytest.approx(125.0)
    assert figures["device_only"].device_energy_j_per_req == pytest.approx(0.125 * 65.0)
    assert figures["device_only"].cost_usd_per_1k == 0.0
    # Edge: 5 + 150000*8/8000 up, 2 + 0.5 + 6 + 4 on the edge, 5 + 4000*8/8000 back.
    assert figures["edge_only"].mean_ms == pytest.approx(155.0 + 12.5 + 9.0)
    assert figures["edge_only"].p99_ms == pytest.approx(176.5)
    assert figures["edge_only"].cost_usd_per_1k == pytest.approx(1000 * 12.5 / 3.6e6 * 0.5)
    assert figures["edge_only"].device_energy_j_per_req == pytest.approx(2.0 * 0.155)
    # Cloud: 25 + 150 up, 1 + 0.3 + 3 + 2 in the cloud, 25 + 4 back; egress 0.09 USD/GB on the way back.
    assert figures["cloud_only"].mean_ms == pytest.approx(175.0 + 6.3 + 29.0)
    assert figures["cloud_only"].cost_usd_per_1k == pytest.approx(
        1000 * (6.3 / 3.6e6 * 3.0 + 4000 / 1e9 * 0.09)
    )
    assert figures["cloud_only"].device_energy_j_per_req == pytest.approx(2.0 * 0.175)
    assert all(f.switches == 0 for f in figures.values())


def _wild_trace() -> LinkReplay:
    rng = np.random.default_rng(11)
    rates = rng.choice([0.0, 0.05, 0.4, 1.5, 6.0, 25.0], size=120, p=[0.1, 0.15, 0.25, 0.2, 0.2, 0.1])
    return LinkReplay.from_samples(np.arange(120.0) * 0.7, rates)


@pytest.mark.parametrize(
    ("model", "uplink"),
    [
        (chain_model, lambda: LinkReplay.from_trace(shipped_trace("norway_bus_1"))),
        (exit_model, lambda: LinkReplay.from_trace(shipped_trace("norway_train_4"))),
        (dag_model, _wild_trace),
    ],
    ids=["chain-norway-bus", "exits-norway-train", "dag-wild"],
)
def test_oracle_is_never_worse_than_any_policy_per_request_or_on_the_mean(model: Any, uplink: Any) -> None:
    result = evaluate_trace(scenario(model()), uplink(), rate=2.0)
    oracle = result.runs["oracle"].figures.latency_ms
    assert set(result.runs) == set(POLICIES)
    for name, run in result.runs.items():
        assert np.all(oracle <= run.figures.latency_ms + 1e-9), name
        assert oracle.mean() <= run.figures.latency_ms.mean() + 1e-9, name
    # The oracle really uses the future: on these traces it beats the best fixed plan somewhere.
    fixed_best = min(
        result.runs[p].summary().mean_ms for p in ("device_only", "edge_only", "cloud_only", "static_split")
    )
    assert oracle.mean() < fixed_best


def test_step_down_makes_adaptive_switch_after_the_drop_and_stay_switched(tmp_path: Path) -> None:
    rows = [(float(t), 20.0) for t in range(60)] + [(float(t), 0.3) for t in range(60, 180)]
    trace = load_trace(_two_column(tmp_path / "step.txt", rows))
    result = evaluate_trace(
        scenario(chain_model()),
        LinkReplay.from_trace(trace, end="hold"),
        policies=["adaptive", "device_only"],
    )
    run = result.runs["adaptive"]
    start = result.requests.start_s
    plans = [run.plans[i] for i in run.plan_index]
    device_only = ("device",) * 4
    before = {plans[i] for i in np.flatnonzero(start < 60.0)}
    assert len(before) == 1, "one plan while the link is fast"
    assert device_only not in before, "and it offloads"
    first_switch = int(np.flatnonzero(np.diff(run.plan_index))[0]) + 1
    assert start[first_switch] >= 60.0, "no switch before the drop"
    interval = AdaptiveSettings().telemetry_interval_s
    assert start[first_switch] <= 60.0 + 2 * interval + 1.0, "switched within two telemetry intervals"
    assert set(plans[first_switch:]) == {device_only}, "stays on the device once the link is slow"
    assert run.summary().switches == 1


def test_adaptive_defaults_are_the_production_defaults() -> None:
    from agents.dataplane import DeviceInference
    from agents.probes.active import ActiveProbe
    from agents.probes.estimators import BandwidthEstimator
    from agents.probes.sampling import InFlightMeter
    from agents.settings import ProbeSettings, TelemetrySettings
    from orchestrator.settings import ReplanningSettings

    ours = AdaptiveSettings()
    replanning = ReplanningSettings()
    estimator = BandwidthEstimator()
    probes = ProbeSettings()
    device = dataclasses.fields(DeviceInference)
    assert ours.telemetry_interval_s == TelemetrySettings().interval_s
    assert ours.passive_sample_s == next(f.default for f in device if f.name == "passive_window_s")
    assert ours.min_passive_bytes == inspect.signature(InFlightMeter).parameters["min_bytes"].default
    assert ours.probe_bytes == probes.active_bytes
    assert ours.probe_interval_s == probes.active_interval_s
    active = dataclasses.fields(ActiveProbe)
    assert (ours.probe_bytes, ours.probe_interval_s) == tuple(
        next(f.default for f in active if f.name == name) for name in ("nbytes", "interval_s")
    )
    assert (ours.estimator_fast_tau_s, ours.estimator_slow_tau_s, ours.estimator_threshold) == (
        estimator.fast_tau_s,
        estimator.slow_tau_s,
        estimator.threshold,
    )
    assert (ours.relative, ours.absolute_ms, ours.min_dwell_s, ours.confirmations, ours.link_change) == (
        replanning.relative,
        replanning.absolute_ms,
        replanning.min_dwell_s,
        replanning.confirmations,
        replanning.link_change,
    )


@pytest.mark.parametrize(
    ("model", "uplink"),
    [(chain_model, lambda: LinkReplay.from_trace(shipped_trace("norway_bus_1"))), (dag_model, _wild_trace)],
    ids=["chain", "dag"],
)
def test_oracle_candidates_reach_the_exhaustive_optimum_of_every_request(model: Any, uplink: Any) -> None:
    doc = scenario(model())
    link = uplink()
    result = evaluate_trace(doc, link, rate=2.0, policies=["oracle"])
    replayer = Replayer(doc, Network.from_scenario(doc, dict.fromkeys((*UPLINKS, *DOWNLINKS), link)))
    every_plan = itertools.product(("device", "edge", "cloud"), repeat=len(doc["model"]["layers"]))
    exhaustive = oracle(replayer, result.requests, every_plan)
    assert result.runs["oracle"].figures.latency_ms == pytest.approx(exhaustive.figures.latency_ms, rel=1e-12)
