"""Exact chain plans under limits: Pareto label setting on the run graph, pruned by Lagrangian bounds.

Minimising one sum along a path subject to upper bounds on two other sums (a resource-constrained
shortest path) is not solved by Lagrangian relaxation alone (there can be a duality gap), so this keeps,
at every node of the run graph (`chain.py`), the partial paths that no other partial path beats on the
objective and the limited quantities at once. It is exact because

* a dominated partial path (no better in any quantity) can be swapped for its dominator in every
  completion: the completion stays feasible and is no worse;
* a partial path is dropped only when a valid lower bound on every completion already breaks a limit or
  exceeds the best complete feasible plan found so far (the incumbent). The bounds are the cheapest
  completion of each quantity alone, and the Lagrangian bound: for any lam >= 0 a completion p from v with
  resource use r(p) <= cap - r has objective >= R_lam(v) - lam * (cap - r), where R_lam(v) is the cheapest
  completion of `objective + lam * resource`.

The multipliers come from a grid of lam solved all at once (backward passes over the graph with a vector
of lam per node); the same passes give feasible plans, the first incumbent. Worst case exponential (the
problem is NP-hard), in practice a few labels per node.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from orchestrator.planner.chain import ChainGraph

__all__ = ["constrained_labels"]

FloatArray = npt.NDArray[np.float64]
Label = tuple[float, float, float, int, int]
GRID = np.concatenate([[0.0], 2.0 ** np.arange(-24, 25)])


def _backward(graph: ChainGraph, base: FloatArray, extra: FloatArray, lams: FloatArray) -> FloatArray:
    """(nodes, len(lams)) cheapest completion of `base + lam * extra` from every node to the sink."""
    best = np.full((graph.nodes, len(lams)), np.inf)
    best[graph.sink] = 0.0
    src, dst = graph.src.tolist(), graph.dst.tolist()
    b, e = base.tolist(), extra.tolist()
    for a in range(len(src) - 1, -1, -1):
        np.minimum(best[src[a]], best[dst[a]] + (b[a] + e[a] * lams), out=best[src[a]])
    return best


def _walk(graph: ChainGraph, out: list[list[int]], weights: FloatArray, rest: FloatArray) -> list[int]:
    """The arcs of a cheapest path under `weights`, given the cheapest completion `rest` of every node."""
    arcs, node = [], graph.source
    dst = graph.dst
    while node != graph.sink:
        arc = min(out[node], key=lambda a: weights[a] + rest[dst[a]])
        arcs.append(arc)
        node = int(dst[arc])
    return arcs


# Over 60 lines: set-up and result extraction around _label_search over the same graph arrays.
def constrained_labels(
    graph: ChainGraph,
    objective: FloatArray,
    latency: FloatArray,
    cost: FloatArray,
    max_latency: float,
    max_cost: float,
    n_layers: int,
) -> tuple[int, ...] | None:
    """The tiers of the path minimising `objective` with latency <= max_latency and cost <= max_cost (inf
    for no limit), all three given per arc; None when no path meets the limits."""
    caps = [max_latency * (1 + 1e-9) + 1e-12, max_cost * (1 + 1e-9) + 1e-18]
    resources = [latency, cost]
    limited = [j for j in (0, 1) if caps[j] < np.inf]
    out: list[list[int]] = [[] for _ in range(graph.nodes)]
    into: list[list[int]] = [[] for _ in range(graph.nodes)]
    for a, (u, v) in enumerate(zip(graph.src.tolist(), graph.dst.tolist(), strict=True)):
        out[u].append(a)
        into[v].append(a)
    obj_rest = _backward(graph, objective, objective * 0.0, np.zeros(1))[:, 0]
    rests = [_backward(graph, r, r * 0.0, np.zeros(1))[:, 0] for r in resources]
    if any(rests[j][graph.source] > caps[j] for j in limited):
        return None
    best_plan: list[int] | None = None
    bound = np.inf
    lagrange: list[tuple[int, FloatArray, FloatArray]] = []
    for j in limited:
        scale = float(np.sum(np.abs(objective))) / max(float(np.sum(np.abs(resources[j]))), 1e-300)
        lams = GRID * scale
        table = _backward(graph, objective, resources[j], lams)
        for _ in range(3):
            k = int(np.argmax(table[graph.source] - lams * caps[j]))
            if k in (0, len(lams) - 1) or lams[k + 1] - lams[k - 1] <= 1e-6 * lams[k]:
                break
            lams = np.linspace(lams[k - 1], lams[k + 1], 25)
            table = _backward(graph, objective, resources[j], lams)
        k = int(np.argmax(table[graph.source] - lams * caps[j]))
        lagrange.append((j, lams, table))

        def feasible(m: int, j: int = j, lams: FloatArray = lams, table: FloatArray = table) -> bool:
            nonlocal bound, best_plan
            arcs = _walk(graph, out, objective + lams[m] * resources[j], table[:, m])
            ok = all(float(np.sum(resources[i][arcs])) <= caps[i] for i in limited)
            value = float(np.sum(objective[arcs]))
            if ok and value < bound:
                bound, best_plan = value, arcs
            return ok

        low, high = 0, len(lams) - 1
        if feasible(high):
            while high - low > 1:
                middle = (low + high) // 2
                if feasible(middle):
                    high = middle
                else:
                    low = middle
        for m in range(max(0, k - 2), min(len(lams), k + 3)):
            feasible(m)
    limit = bound * (1 + 1e-12) + 1e-300 if bound < np.inf else np.inf
    found = _label_search(graph, into, objective, resources, caps, limited, obj_rest, rests, lagrange, limit)
    if found is not None and float(np.sum(objective[found])) <= bound:
        arcs = found
    elif best_plan is not None:
        arcs = best_plan
    else:
        return None
    tiers = [-1] * n_layers
    for arc in arcs:
        if graph.layer[arc] >= 0:
            tiers[int(graph.layer[arc])] = int(graph.tier[arc])
    return tuple(tiers)


# Over 60 lines: the label-setting inner loop stays in one frame: a call per label would cost more than it
# reads.
def _label_search(
    graph: ChainGraph,
    into: list[list[int]],
    objective: FloatArray,
    resources: list[FloatArray],
    caps: list[float],
    limited: list[int],
    obj_rest: FloatArray,
    rests: list[FloatArray],
    lagrange: list[tuple[int, FloatArray, FloatArray]],
    limit: float,
) -> list[int] | None:
    """Labels node by node, as numpy arrays: extend, prune by the bounds, keep the Pareto-minimal ones.
    Returns the arcs of the best label at the sink, or None when every label was pruned."""
    src = graph.src.tolist()
    empty = np.zeros(0)
    values: list[list[FloatArray]] = [[empty, empty, empty] for _ in range(graph.nodes)]
    ids: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64) for _ in range(graph.nodes)]
    values[graph.source] = [np.zeros(1), np.zeros(1), np.zeros(1)]
    ids[graph.source] = np.zeros(1, dtype=np.int64)
    arc_of: list[npt.NDArray[np.int64]] = [np.array([-1])]
    parent_of: list[npt.NDArray[np.int64]] = [np.array([-1])]
    count = 1
    two = len(limited) == 2
    main = limited[0]
    for v in range(graph.nodes):
        if v == graph.source:
            continue
        parts = [a for a in into[v] if len(ids[src[a]])]
        if not parts:
            continue
        o = np.concatenate([values[src[a]][0] + objective[a] for a in parts])
        used = [np.concatenate([values[src[a]][i + 1] + resources[i][a] for a in parts]) for i in (0, 1)]
        parent = np.concatenate([ids[src[a]] for a in parts])
        arc = np.concatenate([np.full(len(ids[src[a]]), a, dtype=np.int64) for a in parts])
        keep = (
            (o + obj_rest[v] <= limit)
            & (used[0] + rests[0][v] <= caps[0])
            & (used[1] + rests[1][v] <= caps[1])
        )
        for j, lams, table in lagrange:
            slack = caps[j] - used[j]
            bound = np.max(table[v][None, :] - np.outer(slack, lams), axis=1)
            keep &= o + bound <= limit
        if not keep.any():
            continue
        o, used, parent, arc = o[keep], [used[0][keep], used[1][keep]], parent[keep], arc[keep]
        order = np.lexsort((used[1], used[0], o))
        o, used, parent, arc = o[order], [used[0][order], used[1][order]], parent[order], arc[order]
        if two:
            chosen: list[int] = []
            for i in range(len(o)):
                if not any(used[0][k] <= used[0][i] and used[1][k] <= used[1][i] for k in chosen):
                    chosen.append(i)
            pick = np.array(chosen, dtype=np.int64)
        else:
            resource = used[main]
            best_before = np.minimum.accumulate(resource)
            mask = np.ones(len(o), dtype=bool)
            mask[1:] = resource[1:] < best_before[:-1]
            pick = np.flatnonzero(mask)
        values[v] = [o[pick], used[0][pick], used[1][pick]]
        ids[v] = np.arange(count, count + len(pick), dtype=np.int64)
        arc_of.append(arc[pick])
        parent_of.append(parent[pick])
        count += len(pick)
    if not len(ids[graph.sink]):
        return None
    arcs_all = np.concatenate(arc_of)
    parents_all = np.concatenate(parent_of)
    ref = int(ids[graph.sink][0])
    arcs: list[int] = []
    while ref > 0:
        arcs.append(int(arcs_all[ref]))
        ref = int(parents_all[ref])
    return arcs
