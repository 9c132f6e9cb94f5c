"""On a constant-bandwidth trace the replay reproduces the planner's cost model exactly."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.request_replay import Replayer
from continuum_evaluation.scenario import DOWNLINKS, UPLINKS
from continuum_evaluation.timing import Network
from orchestrator import planner
from tests.unit.evaluation.models import chain_model, dag_model, exit_model, scenario

TIERS = ("device", "edge", "cloud")


def _constant_replayer(doc: dict[str, Any], up: float, down: float) -> Replayer:
    traced = {link: LinkReplay.constant(up) for link in UPLINKS} | {
        link: LinkReplay.constant(down) for link in DOWNLINKS
    }
    return Replayer(doc, Network.from_scenario(doc, traced))


def _planner_figures(doc: dict[str, Any], tiers: tuple[str, ...], up: float, down: float) -> Any:
    links = {name: {"bandwidth_mbps": up, "rtt_ms": doc["links"][name]["rtt_ms"]} for name in UPLINKS}
    links |= {name: {"bandwidth_mbps": down, "rtt_ms": doc["links"][name]["rtt_ms"]} for name in DOWNLINKS}
    scn = planner.parse_scenario(doc).with_links(links)
    names = [layer["name"] for layer in doc["model"]["layers"]]
    return planner.evaluate(scn, dict(zip(names, tiers, strict=True)))


@pytest.mark.parametrize("model", [chain_model, exit_model, dag_model], ids=["chain", "exits", "dag"])
def test_constant_trace_replay_equals_the_cost_model_for_every_assignment(model: Any) -> None:
    doc = scenario(model())
    replayer = _constant_replayer(doc, up=3.0, down=12.0)
    n = len(doc["model"]["layers"])
    for tiers in itertools.product(TIERS, repeat=n):
        expected = _planner_figures(doc, tiers, 3.0, 12.0)
        out = replayer.network.expected(replayer.paths(tiers), np.array([0.0, 7.3]))
        assert out.latency_ms == pytest.approx([expected.latency_ms] * 2, rel=1e-9), tiers
        assert out.cost_usd == pytest.approx([expected.cost_usd] * 2, rel=1e-9, abs=1e-15), tiers
        assert out.energy_j == pytest.approx([expected.device_energy_j] * 2, rel=1e-9), tiers
