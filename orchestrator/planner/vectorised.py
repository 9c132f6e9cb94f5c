"""Vectorised pieces for fleets: per-device link arrays and prices, the run-graph shortest path for many
devices at once, and per-device figures of plans. Shared by `batch.py` and `batch_limits.py`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from orchestrator.planner.chain import ChainGraph, chain_graph
from orchestrator.planner.costmodel import COST, ENERGY, LATENCY, LINKS, bytes_index, msgs_index, pricing
from orchestrator.planner.errors import ScenarioError
from orchestrator.planner.scenario import Scenario

__all__ = ["CHUNK", "link_arrays", "link_prices", "price_usage", "shortest_paths", "unique_rows"]

FloatArray = npt.NDArray[np.float64]
LinkArrays = Mapping[str, FloatArray]
CHUNK = 32768


def link_arrays(
    scn: Scenario, bandwidth_mbps: Mapping[str, npt.ArrayLike], rtt_ms: Mapping[str, npt.ArrayLike]
) -> tuple[int, dict[str, FloatArray], dict[str, FloatArray]]:
    """Validated per-device link arrays: (devices, bandwidth by link, rtt by link); ScenarioError naming the
    bad entry (unknown link, a link the scenario lacks, bad values, arrays of different lengths)."""
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
            with np.errstate(divide="ignore", over="ignore"):
                bad = ~np.isfinite(array) | ((array <= 0) if which == 0 else (array < 0))
                if which == 0:
                    bad |= ~np.isfinite(8.0 / (array * 1000.0))
            if bad.any():
                rule = "> 0" if which == 0 else ">= 0"
                raise ScenarioError(f"{field}.{name}[{int(np.argmax(bad))}]: must be finite and {rule}")
            sizes.add(len(array))
            out[which][name] = array
    if len(sizes) > 1:
        raise ScenarioError(f"bandwidth_mbps/rtt_ms: arrays differ in length ({sorted(sizes)})")
    return (sizes.pop() if sizes else 1), out[0], out[1]


def link_prices(
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


def price_usage(
    scn: Scenario, usage: FloatArray, which: npt.NDArray[np.intp], n: int, bw: LinkArrays, rtt: LinkArrays
) -> FloatArray:
    """(3, devices) figures of plan usages `usage[which[d]]` under each device's links."""
    price = pricing(scn.tiers, scn.links)
    fixed = usage.copy()
    fixed[:, 6:] = 0.0
    out = np.empty((3, n))
    for column in (LATENCY, COST, ENERGY):
        per_msg, per_byte = link_prices(scn, n, bw, rtt, column)
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
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """The run-graph shortest path for a block of devices at once: (tier indices, optimal values)."""
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
    return tiers, dist[graph.sink]


def unique_rows(codes: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.intp]]:
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


def shortest_paths(
    scn: Scenario, price: FloatArray, link_price: FloatArray
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """Per device, the chain assignment minimising `usage @ price` with the link rows priced per device by
    `link_price` (12, devices); returns (tier indices (devices, layers), optimal values (devices,))."""
    graph = chain_graph(scn)
    fixed = graph.usage.copy()
    fixed[:, 6:] = 0.0
    weights_fixed = fixed @ price
    link_usage = graph.usage[:, 6:]
    n = link_price.shape[1]
    blocks = [
        _chain_dp(graph, weights_fixed, link_usage, link_price[:, s : s + CHUNK], len(scn.layers))
        for s in range(0, n, CHUNK)
    ]
    return np.vstack([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])
