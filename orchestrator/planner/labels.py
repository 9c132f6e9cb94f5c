"""Exact chain plans under limits: Pareto label setting on the run graph, with bounds.

Minimising one sum along a path subject to upper bounds on two other sums (a resource-constrained
shortest path) is not solved by Lagrangian relaxation in general (a duality gap), so this keeps, at every
node of the run graph (`chain.py`), the partial paths that no other partial path beats on the objective,
latency and cost at once. It is exact because

* a dominated partial path (no better in any of the three, worse in one) can be swapped for its dominator
  in every completion: the completion stays feasible and is no worse;
* a partial path is dropped only when even the best completion of each quantity (computed backwards from
  the sink, each separately) breaks a limit, or cannot beat the best complete feasible plan found so far.

Worst case exponential (the problem is NP-hard), in practice a few labels per node: the bounds prune most.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from orchestrator.planner.chain import ChainGraph

__all__ = ["constrained_labels"]

FloatArray = npt.NDArray[np.float64]
Label = tuple[float, float, float, int, int]


def _to_sink(graph: ChainGraph, weights: list[float]) -> list[float]:
    best = [float("inf")] * graph.nodes
    best[graph.sink] = 0.0
    src, dst = graph.src.tolist(), graph.dst.tolist()
    for a in range(len(src) - 1, -1, -1):
        value = best[dst[a]] + weights[a]
        if value < best[src[a]]:
            best[src[a]] = value
    return best


def constrained_labels(
    graph: ChainGraph,
    objective: FloatArray,
    latency: FloatArray,
    cost: FloatArray,
    max_latency: float,
    max_cost: float,
    incumbent: float,
    n_layers: int,
) -> tuple[int, ...] | None:
    """The path minimising `objective` with latency <= max_latency and cost <= max_cost (use inf for no
    limit), given an `incumbent` objective value of a known feasible plan (inf if none); None if none beats
    or equals it and meets the limits."""
    obj_w, lat_w, cost_w = objective.tolist(), latency.tolist(), cost.tolist()
    obj_rest, lat_rest, cost_rest = _to_sink(graph, obj_w), _to_sink(graph, lat_w), _to_sink(graph, cost_w)
    lat_cap = max_latency * (1 + 1e-9) + 1e-12
    cost_cap = max_cost * (1 + 1e-9) + 1e-18
    bound = incumbent * (1 + 1e-12) + 1e-300 if incumbent < float("inf") else float("inf")
    latency_limited = max_latency < float("inf")
    two_limits = latency_limited and max_cost < float("inf")
    src, dst = graph.src.tolist(), graph.dst.tolist()
    into: list[list[int]] = [[] for _ in range(graph.nodes)]
    for a, v in enumerate(dst):
        into[v].append(a)
    store: list[Label] = [(0.0, 0.0, 0.0, -1, -1)]
    labels: list[list[int]] = [[] for _ in range(graph.nodes)]
    labels[graph.source] = [0]
    for v in range(graph.nodes):
        if v == graph.source:
            continue
        candidates: list[Label] = []
        for a in into[v]:
            w_obj, w_lat, w_cost = obj_w[a], lat_w[a], cost_w[a]
            for ref in labels[src[a]]:
                o, lt, c, _, _ = store[ref]
                o, lt, c = o + w_obj, lt + w_lat, c + w_cost
                if lt + lat_rest[v] > lat_cap or c + cost_rest[v] > cost_cap or o + obj_rest[v] > bound:
                    continue
                candidates.append((o, lt, c, a, ref))
        candidates.sort()
        kept: list[Label] = []
        if two_limits:
            for cand in candidates:
                if not any(k[1] <= cand[1] and k[2] <= cand[2] for k in kept):
                    kept.append(cand)
        else:
            least = float("inf")
            for cand in candidates:
                resource = cand[1] if latency_limited else cand[2]
                if resource < least:
                    kept.append(cand)
                    least = resource
        refs = []
        for cand in kept:
            store.append(cand)
            refs.append(len(store) - 1)
        labels[v] = refs
        if v == graph.sink and kept:
            bound = min(bound, kept[0][0])
    if not labels[graph.sink]:
        return None
    ref = labels[graph.sink][0]
    tiers = [-1] * n_layers
    while ref > 0:
        _, _, _, arc, parent = store[ref]
        if graph.layer[arc] >= 0:
            tiers[int(graph.layer[arc])] = int(graph.tier[arc])
        ref = parent
    return tuple(tiers)
