"""On chains too long for brute force, the bounded label search finds what the unbounded one finds."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.planner import parse_scenario
from orchestrator.planner.chain import ChainGraph, chain_graph
from orchestrator.planner.costmodel import COST, LATENCY, OBJECTIVES, pricing
from orchestrator.planner.evaluating import evaluate_indices
from orchestrator.planner.labels import _backward, _label_search, constrained_labels
from orchestrator.planner.planning import objective_price, optimise
from tests.unit.planner.samples import chain_doc


def long_chain(seed: int, n: int, minimize: str) -> dict[str, Any]:
    """A chain of n layers with random latencies, sizes and an exit or two."""
    rng = np.random.default_rng(seed)
    doc = chain_doc()
    layers = []
    for i in range(n):
        device = float(rng.uniform(0.5, 40.0))
        layers.append(
            {
                "name": f"l{i}",
                "output_bytes": float(rng.choice([4e3, 5e4, 2e5, 8e5])),
                "latency_ms": {"device": device, "edge": device / rng.uniform(5, 40), "cloud": device / 60},
            }
        )
    doc["model"]["layers"] = layers
    doc["model"]["exits"] = [{"after": f"l{n // 3}", "exit_rate": 0.3, "output_bytes": 100.0}]
    doc["objective"] = {"minimize": minimize}
    return doc


def _tiers(graph: ChainGraph, arcs: list[int], n: int) -> tuple[int, ...]:
    tiers = [-1] * n
    for arc in arcs:
        if graph.layer[arc] >= 0:
            tiers[int(graph.layer[arc])] = int(graph.tier[arc])
    return tuple(tiers)


@settings(max_examples=int(os.environ.get("PLANNER_LABEL_EXAMPLES", "30")), deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(8, 30),
    minimize=st.sampled_from(["cost", "energy"]),
    which=st.sampled_from(["latency", "cost", "both"]),
    tightness=st.floats(0.05, 0.95),
)
def test_bounds_never_prune_the_optimum(
    seed: int, n: int, minimize: str, which: str, tightness: float
) -> None:
    scn = parse_scenario(long_chain(seed, n, minimize))
    graph = chain_graph(scn)
    price = pricing(scn.tiers, scn.links)
    objective = graph.usage @ objective_price(price, OBJECTIVES[minimize])
    latency, cost = graph.usage @ price[:, LATENCY], graph.usage @ price[:, COST]
    fast = evaluate_indices(scn, optimise(scn, "latency", None, None) or ())
    cheap = evaluate_indices(scn, optimise(scn, "cost", None, None) or ())
    caps = [
        fast.latency_ms + tightness * (cheap.latency_ms - fast.latency_ms) if which != "cost" else np.inf,
        cheap.cost_usd + tightness * (fast.cost_usd - cheap.cost_usd) if which != "latency" else np.inf,
    ]
    bounded = constrained_labels(graph, objective, latency, cost, caps[0], caps[1], n)
    into: list[list[int]] = [[] for _ in range(graph.nodes)]
    for a, v in enumerate(graph.dst.tolist()):
        into[v].append(a)
    tolerant = [c * (1 + 1e-9) + 1e-12 if c < np.inf else np.inf for c in caps]
    limited = [j for j in (0, 1) if caps[j] < np.inf]
    rests = [_backward(graph, r, r * 0.0, np.zeros(1))[:, 0] for r in (latency, cost)]
    no_bound = np.full(graph.nodes, -np.inf)
    plain = _label_search(
        graph, into, objective, [latency, cost], tolerant, limited, no_bound, rests, [], np.inf
    )
    assert (bounded is None) == (plain is None)
    if bounded is None or plain is None:
        return
    key = {"cost": "cost_usd", "energy": "device_energy_j"}[minimize]
    reference = getattr(evaluate_indices(scn, _tiers(graph, plain, n)), key)
    assert getattr(evaluate_indices(scn, bounded), key) <= reference * (1 + 1e-7) + 1e-15
