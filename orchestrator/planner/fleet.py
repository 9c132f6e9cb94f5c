"""Plans for many devices at once: one model, per-device link states as numpy arrays.

`plan_fleet` on a chain runs the chain's run-graph dynamic programme (see `chain.py`) for every device at
once: the same recursion with arrays of shape (devices,) in place of scalars, so each device's answer is
exactly the one the scalar planner gives for its links. The graph is built once (usage does not depend on
links); only the arcs' weights differ per device, as a (arcs x 12) @ (12 x devices) product. Figures are
then priced per device from the usage of each distinct plan (reference cost model). With limits, devices
whose unconstrained optimum breaks them are re-planned one by one with the exact MILP. DAGs are solved one
distinct link state at a time with the exact MILP (correct, not fast).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.planner.chain import ChainGraph, chain_graph
from orchestrator.planner.costmodel import (
    COST,
    ENERGY,
    LATENCY,
    LINKS,
    OBJECTIVES,
    TIERS,
    bytes_index,
    msgs_index,
    pricing,
)
from orchestrator.planner.errors import ScenarioError
from orchestrator.planner.evaluating import usage_of
from orchestrator.planner.planning import optimise
from orchestrator.planner.scenario import Scenario

__all__ = ["FleetPlans", "evaluate_fleet", "plan_fleet"]

FloatArray = npt.NDArray[np.float64]
CHUNK = 32768


@dataclass(frozen=True)
class FleetPlans:
    """One plan per device: `tiers[d]` (tier per layer, layer order) and its figures as arrays (devices,).

    `feasible[d]` is False where no plan meets the scenario's limits; `tiers[d]` is then the plan that is
    best for the objective ignoring the limits.
    """

    tiers: list[tuple[str, ...]]
    latency_ms: FloatArray
    cost_usd: FloatArray
    device_energy_j: FloatArray
    feasible: npt.NDArray[np.bool_]


def _link_arrays(
    scn: Scenario, bandwidth_mbps: Mapping[str, npt.ArrayLike], rtt_ms: Mapping[str, npt.ArrayLike]
) -> tuple[int, dict[str, FloatArray], dict[str, FloatArray]]:
    sizes = set()
    out: list[dict[str, FloatArray]] = [{}, {}]
    for which, (field, given) in enumerate((("bandwidth_mbps", bandwidth_mbps), ("rtt_ms", rtt_ms))):
        for name, values in given.items():
            if name not in LINKS:
                raise ScenarioError(f"{field}.{name}: unknown link (links are {', '.join(LINKS)})")
            if name not in scn.links:
                raise ScenarioError(
                    f"{field}.{name}: the scenario has no such link; add it to the scenario first"
                )
            array = np.asarray(values, dtype=np.float64)
            if array.ndim != 1:
                raise ScenarioError(f"{field}.{name}: must be a 1-D array (one value per device)")
            bad = ~np.isfinite(array) | ((array <= 0) if which == 0 else (array < 0))
            if bad.any():
                rule = "> 0" if which == 0 else ">= 0"
                raise ScenarioError(f"{field}.{name}[{int(np.argmax(bad))}]: must be finite and {rule}")
            sizes.add(len(array))
            out[which][name] = array
    if len(sizes) > 1:
        raise ScenarioError(f"bandwidth_mbps/rtt_ms: arrays differ in length ({sorted(sizes)})")
    return (sizes.pop() if sizes else 1), out[0], out[1]


def _link_prices(
    scn: Scenario, n: int, bw: Mapping[str, FloatArray], rtt: Mapping[str, FloatArray], column: int
) -> tuple[FloatArray, FloatArray]:
    """Per-device prices of the 12 link basis elements for `column`: (per-msg rows, per-byte rows)."""
    device = scn.tiers.get("device")
    tx_w = (device.tx_power_w if device else 0.0) / 1000.0
    per_msg = np.zeros((6, n))
    per_byte = np.zeros((6, n))
    for k, name in enumerate(LINKS):
        link = scn.links.get(name)
        if link is None:
            continue
        half_rtt = (rtt[name] if name in rtt else np.full(n, link.rtt_ms)) / 2.0
        byte_ms = 8.0 / ((bw[name] if name in bw else np.full(n, link.bandwidth_mbps)) * 1000.0)
        if column == LATENCY:
            per_msg[k], per_byte[k] = half_rtt, byte_ms
        elif column == ENERGY and name.startswith("device->"):
            per_msg[k], per_byte[k] = tx_w * half_rtt, tx_w * byte_ms
        elif column == COST:
            per_byte[k] = link.cost_per_gb / 1e9
    return per_msg, per_byte


def _price_usage(
    scn: Scenario,
    usage: FloatArray,
    which: npt.NDArray[np.intp],
    n: int,
    bw: Mapping[str, FloatArray],
    rtt: Mapping[str, FloatArray],
) -> FloatArray:
    """(3, devices) figures of plan usages `usage[which[d]]` under each device's links."""
    price = pricing(scn.tiers, scn.links)
    fixed = usage.copy()
    fixed[:, 6:] = 0.0
    out = np.empty((3, n))
    for column in (LATENCY, COST, ENERGY):
        per_msg, per_byte = _link_prices(scn, n, bw, rtt, column)
        total = (fixed @ price[:, column])[which]
        for k in range(6):
            total += usage[which, msgs_index(k)] * per_msg[k] + usage[which, bytes_index(k)] * per_byte[k]
        out[column] = total
    return out


def _chain_dp(
    graph: ChainGraph,
    weights_fixed: FloatArray,
    link_usage: FloatArray,
    link_price: FloatArray,
    n_layers: int,
) -> npt.NDArray[np.int8]:
    """The run-graph shortest path for a block of devices at once; returns tier indices (devices, layers)."""
    devices = link_price.shape[1]
    into: list[list[int]] = [[] for _ in range(graph.nodes)]
    last_use = [-1] * graph.nodes
    for a, (u, v) in enumerate(zip(graph.src.tolist(), graph.dst.tolist(), strict=True)):
        into[v].append(a)
        last_use[u] = max(last_use[u], v)
    src = graph.src.tolist()
    varying = np.any(link_usage != 0.0, axis=1).tolist()
    dist: dict[int, FloatArray] = {graph.source: np.zeros(devices)}
    choice = np.zeros((graph.nodes, devices), dtype=np.int32)
    for v in range(graph.nodes):
        arcs = into[v]
        if not arcs:
            continue
        best: FloatArray | None = None
        for a in arcs:
            if src[a] not in dist:
                continue
            cand = dist[src[a]] + weights_fixed[a]
            if varying[a]:
                cand += link_usage[a] @ link_price
            if best is None:
                best = cand
                choice[v] = a
            else:
                better = cand < best
                np.minimum(best, cand, out=best)
                choice[v][better] = a
        if best is not None:
            dist[v] = best
        for u in {src[a] for a in arcs}:
            if last_use[u] == v:
                dist.pop(u, None)
    cols = np.arange(devices)
    tiers = np.full((devices, n_layers), -1, dtype=np.int8)
    stay = len(graph.src)
    choice[graph.source] = stay
    arc_src = np.append(graph.src, graph.source)
    arc_layer = np.append(graph.layer, -1)
    arc_tier = np.append(graph.tier, -1)
    node = np.full(devices, graph.sink)
    while (node != graph.source).any():
        arc = choice[node, cols]
        layer = arc_layer[arc]
        placed = layer >= 0
        tiers[cols[placed], layer[placed]] = arc_tier[arc][placed]
        node = arc_src[arc]
    return tiers


def _unique_rows(codes: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.intp]]:
    """Distinct rows and, per row, the index of its distinct row (faster than np.unique(axis=0))."""
    rows, width = codes.shape
    pad = (-width) % 8
    padded = np.zeros((rows, width + pad), dtype=np.uint8)
    padded[:, :width] = codes.astype(np.uint8)
    words = padded.view(np.uint64)
    order = np.lexsort(words.T[::-1]) if words.shape[1] else np.arange(rows)
    ordered = words[order]
    fresh = np.ones(rows, dtype=bool)
    if rows > 1:
        fresh[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    group = np.cumsum(fresh) - 1
    inverse = np.empty(rows, dtype=np.intp)
    inverse[order] = group
    return codes[order[fresh]], inverse


def _chain_fleet(
    scn: Scenario, n: int, bw: Mapping[str, FloatArray], rtt: Mapping[str, FloatArray]
) -> npt.NDArray[np.int8]:
    graph = chain_graph(scn)
    column = OBJECTIVES[scn.minimize]
    price = pricing(scn.tiers, scn.links)
    fixed = graph.usage.copy()
    fixed[:, 6:] = 0.0
    weights_fixed = fixed @ price[:, column]
    link_usage = graph.usage[:, 6:]
    per_msg, per_byte = _link_prices(scn, n, bw, rtt, column)
    link_price = np.vstack([per_msg, per_byte])
    blocks = [
        _chain_dp(graph, weights_fixed, link_usage, link_price[:, s : s + CHUNK], len(scn.layers))
        for s in range(0, n, CHUNK)
    ]
    return np.vstack(blocks)


def _links_of(scn: Scenario, d: int, bw: Mapping[str, FloatArray], rtt: Mapping[str, FloatArray]) -> Scenario:
    changes = {name: {"bandwidth_mbps": float(a[d])} for name, a in bw.items()}
    for name, a in rtt.items():
        changes.setdefault(name, {})["rtt_ms"] = float(a[d])
    return scn.with_links(changes)


def plan_fleet(
    scn: Scenario, bandwidth_mbps: Mapping[str, npt.ArrayLike], rtt_ms: Mapping[str, npt.ArrayLike]
) -> FleetPlans:
    """The exact optimal plan for each device's links (arrays of shape (devices,) per link name)."""
    n, bw, rtt = _link_arrays(scn, bandwidth_mbps, rtt_ms)
    if scn.is_chain:
        tiers = _chain_fleet(scn, n, bw, rtt)
    else:
        tiers = np.empty((n, len(scn.layers)), dtype=np.int8)
        keys = np.column_stack([*bw.values(), *rtt.values()]) if bw or rtt else np.zeros((n, 1))
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        for u, d in enumerate(first):
            best = optimise(_links_of(scn, int(d), bw, rtt), scn.minimize, None, None)
            if best is None:
                raise AssertionError("a plan without limits always exists for a parsed scenario")
            tiers[inverse.reshape(-1) == u] = np.array(best, dtype=np.int8)
    result = evaluate_fleet(scn, bw, rtt, tiers)
    if scn.max_latency_ms is None and scn.max_cost_usd is None:
        return result
    tier_rows = [list(row) for row in result.tiers]
    feasible = result.feasible.copy()
    for d in np.flatnonzero(~feasible):
        best = optimise(_links_of(scn, int(d), bw, rtt), scn.minimize, scn.max_latency_ms, scn.max_cost_usd)
        if best is not None:
            tier_rows[d] = [TIERS[t] for t in best]
    return evaluate_fleet(scn, bw, rtt, [tuple(row) for row in tier_rows])


def evaluate_fleet(
    scn: Scenario,
    bandwidth_mbps: Mapping[str, npt.ArrayLike],
    rtt_ms: Mapping[str, npt.ArrayLike],
    tiers: Sequence[Sequence[str]] | npt.NDArray[np.int8],
) -> FleetPlans:
    """Figures of GIVEN plans (one per device) under each device's links; feasible = meets the constraints."""
    n, bw, rtt = _link_arrays(scn, bandwidth_mbps, rtt_ms)
    if isinstance(tiers, np.ndarray):
        codes = tiers.astype(np.int8)
    else:
        lookup = {name: t for t, name in enumerate(TIERS)}
        try:
            codes = np.array([[lookup[name] for name in row] for row in tiers], dtype=np.int8)
        except KeyError as exc:
            raise ScenarioError(f"tiers: unknown tier {exc} (tiers are {', '.join(TIERS)})") from None
    if codes.shape != (n, len(scn.layers)) and not (n == 1 and codes.shape[1:] == (len(scn.layers),)):
        raise ScenarioError(f"tiers: expected {n} plans of {len(scn.layers)} layers, got shape {codes.shape}")
    n = codes.shape[0] if n == 1 and not (bw or rtt) else n
    plans, inverse = _unique_rows(codes)
    usage = np.vstack([usage_of(scn, tuple(int(t) for t in row)) for row in plans])
    figures = _price_usage(scn, usage, inverse, n, bw, rtt)
    allowed = np.array([all(int(t) in scn.options[i] for i, t in enumerate(row)) for row in plans])
    feasible = allowed[inverse].copy()
    if scn.max_latency_ms is not None:
        feasible &= figures[LATENCY] <= scn.max_latency_ms * (1 + 1e-6) + 1e-9
    if scn.max_cost_usd is not None:
        feasible &= figures[COST] <= scn.max_cost_usd * (1 + 1e-6) + 1e-15
    names = [tuple(TIERS[int(t)] for t in row) for row in plans]
    return FleetPlans([names[u] for u in inverse], figures[LATENCY], figures[COST], figures[ENERGY], feasible)
