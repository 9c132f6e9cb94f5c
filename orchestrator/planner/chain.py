"""Exact placement for chains: a shortest path over a layered graph of runs, or a MILP on it under limits.

Why exact. Every chain assignment is a sequence of maximal runs (consecutive layers on one tier). The graph
has, per layer i and tier T, a node "layer i runs on T inside a run" and a node "a run on T ends at i"; a
run may only be followed by a run on another tier, so source-to-sink paths and assignments correspond
one to one. Every term of the expected cost model is attached to exactly one arc of that path:

* layer i on T: `P_i * latency`, plus its exit branch (`P_i * exit latency`) and the exit's result sent
  back to the device (weight `P_i * exit_rate`), where P_i is the probability that a request reaches i;
* a run starting at s on T: one entry into T (`queue_ms`) and the incoming transfer, weight P_s;
* the final result back to the device, weight P_n (requests that take no exit).

Summing `P_i * latency` over a run is the expected compute of that run with its cut-off variants, exactly
(a request that finishes at exit f runs layers up to f). Segments make the run's START matter: when a
segment (s, f) is measured, a run [s..t] pays `delta = segment - sum` with weight P_f if t == f, or
`P_f * exit_rate_f` if t > f (the requests that are cut off at f). So for each start s that has segments
on T the graph keeps separate nodes (s, T, i) until the last segment from s ends, then merges them into
the plain nodes. The graph has O(n * tiers^2 + S) arcs, S the number of (segment start, tier, layer)
triples: O(n^2) when every contiguous segment is profiled, O(n) without segments.

Without limits the best plan is a shortest path: `run_dp` evaluates that recursion directly, without
building arcs. With `max_latency_ms` or `max_cost_usd` it is a resource-constrained shortest path on the
explicit graph (`chain_graph`), solved exactly by Pareto labels (`labels.py`); the fleet planner runs the
shortest path on the explicit graph for many devices at once (`vectorised.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.planner.costmodel import (
    BASIS,
    TIERS,
    bytes_index,
    compute_index,
    entries_index,
    msgs_index,
    route,
)
from orchestrator.planner.scenario import Scenario

__all__ = ["ChainGraph", "chain_graph", "run_dp"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ChainGraph:
    """Arcs in processing order (every arc's source is final before the arc is read), with usage vectors.

    `layer[a]`/`tier[a]` say which layer the arc places on which tier (-1 when none).
    """

    nodes: int
    source: int
    sink: int
    src: IntArray
    dst: IntArray
    usage: FloatArray
    layer: IntArray
    tier: IntArray


class _Builder:
    def __init__(self, scn: Scenario) -> None:
        self.scn = scn
        self.present = frozenset(scn.links)
        self.nodes = 1
        self.src: list[int] = []
        self.dst: list[int] = []
        self.layer: list[int] = []
        self.tier: list[int] = []
        self.entries: list[tuple[int, int, float]] = []

    def node(self) -> int:
        self.nodes += 1
        return self.nodes - 1

    def arc(self, u: int, v: int, layer: int = -1, tier: int = -1) -> int:
        self.src.append(u)
        self.dst.append(v)
        self.layer.append(layer)
        self.tier.append(tier)
        return len(self.src) - 1

    def add(self, arc: int, index: int, value: float) -> None:
        if value != 0.0:
            self.entries.append((arc, index, value))

    def send(self, arc: int, a: int, b: int, nbytes: float, weight: float) -> None:
        hops = route(a, b, self.present)
        if hops is None:
            raise AssertionError("routes are checked when the scenario is parsed")
        for k in hops:
            self.add(arc, msgs_index(k), weight)
            self.add(arc, bytes_index(k), weight * nbytes)


@dataclass(frozen=True)
class _Static:
    """What the run recursion needs that does not depend on prices: reach, exits, segment deltas."""

    reach: list[float]
    rate: list[float]
    deltas: dict[tuple[int, int], dict[int, float]]
    last_end: dict[tuple[int, int], int]
    starts: list[list[int]]


def _deltas(scn: Scenario) -> dict[tuple[int, int], dict[int, float]]:
    """{(start, tier): {last: segment - sum of its layers}} for segments a run on that tier may use."""
    n = len(scn.layers)
    cum = [[0.0] * (n + 1) for _ in range(3)]
    blocked = [[0] * (n + 1) for _ in range(3)]
    for t, tier in enumerate(TIERS):
        for i, layer in enumerate(scn.layers):
            ok = t in scn.options[i]
            cum[t][i + 1] = cum[t][i] + (layer.latency_ms[tier] if ok else 0.0)
            blocked[t][i + 1] = blocked[t][i] + (0 if ok else 1)
    deltas: dict[tuple[int, int], dict[int, float]] = {}
    for seg in scn.segments:
        a, b = seg.first, seg.last + 1
        for t, tier in enumerate(TIERS):
            if tier in seg.latency_ms and blocked[t][b] == blocked[t][a]:
                deltas.setdefault((seg.first, t), {})[seg.last] = seg.latency_ms[tier] - (
                    cum[t][b] - cum[t][a]
                )
    return deltas


def _static(scn: Scenario) -> _Static:
    cached = scn.cache.get("chain_static")
    if isinstance(cached, _Static):
        return cached
    n = len(scn.layers)
    reach = [1.0] * (n + 1)
    rate = [0.0] * n
    exit_at = {e.after: e for e in scn.exits}
    for i in range(n):
        rate[i] = exit_at[i].exit_rate if i in exit_at else 0.0
        reach[i + 1] = reach[i] * (1.0 - rate[i])
    deltas = _deltas(scn)
    last_end = {key: max(ends) for key, ends in deltas.items()}
    starts: list[list[int]] = [[] for _ in range(n)]
    for s, t in deltas:
        starts[s].append(t)
    static = _Static(reach, rate, deltas, last_end, starts)
    scn.cache["chain_static"] = static
    return static


# Over 60 lines: the recursion's three kinds of state are updated together per layer; split, the same tables
# would be passed around.
def run_dp(scn: Scenario, price: FloatArray) -> tuple[int, ...]:
    """The optimal chain assignment under per-basis `price` (the objective's column), by the run recursion.

    The same recursion as the run graph, evaluated on the fly without building arcs: states per layer are
    "in a plain run on T", "in a run on T that started at s" (while segments from s can still end) and
    "a run on T ends here". O(n * tiers^2 + S) operations, S as in the module docstring.
    """
    n = len(scn.layers)
    st = _static(scn)
    present = frozenset(scn.links)
    comp = [float(price[compute_index(t)]) for t in range(3)]
    entry = [float(price[entries_index(t)]) for t in range(3)]
    per_msg = [[0.0] * 3 for _ in range(3)]
    per_byte = [[0.0] * 3 for _ in range(3)]
    for a in range(3):
        for b in range(3):
            for k in route(a, b, present) or ():
                per_msg[a][b] += float(price[msgs_index(k)])
                per_byte[a][b] += float(price[bytes_index(k)])
    exit_at = {e.after: e for e in scn.exits}
    inf = float("inf")
    end_val: list[float] = [inf, inf, inf]
    plain_val: list[float] = [inf, inf, inf]
    spec_val: dict[tuple[int, int], float] = {}
    back_plain: list[list[tuple[str, int]]] = []
    back_spec: list[dict[tuple[int, int], tuple[str, int]]] = []
    back_end: list[list[int]] = []
    reach, rate, deltas, last_end = st.reach, st.rate, st.deltas, st.last_end
    for i in range(n):
        layer = scn.layers[i]
        ex = exit_at.get(i)
        term = [inf, inf, inf]
        for t in scn.options[i]:
            value = layer.latency_ms[TIERS[t]]
            if ex is not None and ex.latency_ms is not None:
                value += ex.latency_ms[TIERS[t]]
            term[t] = reach[i] * value * comp[t]
            if ex is not None:
                w = reach[i] * ex.exit_rate
                term[t] += w * (per_msg[t][0] + per_byte[t][0] * ex.output_bytes)
        start = [inf, inf, inf]
        start_from = [-1, -1, -1]
        size = scn.input_bytes if i == 0 else scn.layers[i - 1].output_bytes
        weight = reach[i]
        for t in scn.options[i]:
            if i == 0:
                start[t] = per_msg[0][t] + per_byte[0][t] * size
                start_from[t] = 0
            else:
                for p in range(3):
                    if p != t and end_val[p] < inf:
                        value = end_val[p] + weight * (per_msg[p][t] + per_byte[p][t] * size)
                        if value < start[t]:
                            start[t], start_from[t] = value, p
            start[t] += weight * entry[t]
        new_plain = [inf, inf, inf]
        bp: list[tuple[str, int]] = [("", -1)] * 3
        new_spec: dict[tuple[int, int], float] = {}
        bs: dict[tuple[int, int], tuple[str, int]] = {}
        for t in scn.options[i]:
            if (i, t) in deltas:
                new_spec[i, t] = start[t] + term[t]
                bs[i, t] = ("b", start_from[t])
            else:
                new_plain[t] = start[t] + term[t]
                bp[t] = ("b", start_from[t])
            if plain_val[t] + term[t] < new_plain[t]:
                new_plain[t] = plain_val[t] + term[t]
                bp[t] = ("x", -1)
        for (s, t), value in spec_val.items():
            if term[t] == inf:
                continue
            value += term[t]
            ends = deltas[s, t]
            if i - 1 in ends:
                value += reach[i - 1] * rate[i - 1] * ends[i - 1] * comp[t]
            if i <= last_end[s, t]:
                new_spec[s, t] = value
                bs[s, t] = ("x", -1)
            elif value < new_plain[t]:
                new_plain[t] = value
                bp[t] = ("s", s)
        new_end = list(new_plain)
        be = [-1, -1, -1]
        for (s, t), value in new_spec.items():
            delta = deltas[s, t].get(i)
            if delta is not None:
                value += reach[i] * delta * comp[t]
            if value < new_end[t]:
                new_end[t] = value
                be[t] = s
        back_plain.append(bp)
        back_spec.append(bs)
        back_end.append(be)
        plain_val, spec_val, end_val = new_plain, new_spec, new_end
    final = scn.layers[-1].output_bytes
    best, tier = inf, -1
    for t in range(3):
        value = end_val[t] + reach[n] * (per_msg[t][0] + per_byte[t][0] * final)
        if value < best:
            best, tier = value, t
    tiers = [-1] * n
    state: tuple[str, int] = ("s", back_end[n - 1][tier]) if back_end[n - 1][tier] >= 0 else ("p", -1)
    for i in range(n - 1, -1, -1):
        tiers[i] = tier
        if state[0] == "p":
            how, arg = back_plain[i][tier]
            if how == "x":
                continue
            if how == "s":
                state = ("s", arg)
                continue
        else:
            how, arg = back_spec[i][state[1], tier]
            if how == "x":
                continue
        if i > 0:
            tier = arg
            s = back_end[i - 1][tier]
            state = ("s", s) if s >= 0 else ("p", -1)
    return tuple(tiers)


def chain_graph(scn: Scenario) -> ChainGraph:
    """The run graph of a chain scenario (cached on the scenario; links only change its pricing)."""
    cached = scn.cache.get("chain_graph")
    if isinstance(cached, ChainGraph):
        return cached
    graph = _build(scn)
    scn.cache["chain_graph"] = graph
    return graph


# Over 60 lines: the run graph is built layer by layer with every kind of arc side by side on one builder.
def _build(scn: Scenario) -> ChainGraph:
    n = len(scn.layers)
    b = _Builder(scn)
    reach = [1.0] * (n + 1)
    rate = [0.0] * n
    exit_at = {e.after: e for e in scn.exits}
    for i in range(n):
        rate[i] = exit_at[i].exit_rate if i in exit_at else 0.0
        reach[i + 1] = reach[i] * (1.0 - rate[i])
    opts = [set(o) for o in scn.options]
    deltas = _deltas(scn)
    last_end = {key: max(ends) for key, ends in deltas.items()}

    def layer_term(arc: int, i: int, t: int) -> None:
        tier = TIERS[t]
        b.add(arc, compute_index(t), reach[i] * scn.layers[i].latency_ms[tier])
        ex = exit_at.get(i)
        if ex is not None:
            if ex.latency_ms is not None:
                b.add(arc, compute_index(t), reach[i] * ex.latency_ms[tier])
            b.send(arc, t, 0, ex.output_bytes, reach[i] * ex.exit_rate)

    plain: dict[int, int] = {}
    special: dict[tuple[int, int], int] = {}
    ended: dict[int, int] = {}
    for i in range(n):
        new_plain = {t: b.node() for t in sorted(opts[i])}
        new_special: dict[tuple[int, int], int] = {}
        for s, t in special:
            if i <= last_end[s, t] and t in opts[i]:
                new_special[s, t] = b.node()
        for t in sorted(opts[i]):
            if (i, t) in deltas:
                new_special[i, t] = b.node()
        new_ended = {t: b.node() for t in sorted(opts[i])}
        for t in sorted(opts[i]):
            target = new_special.get((i, t), new_plain[t])
            previous = {-1: 0} if i == 0 else {p: node for p, node in ended.items() if p != t}
            for p, node in previous.items():
                arc = b.arc(node, target, i, t)
                b.add(arc, entries_index(t), reach[i])
                if i == 0:
                    b.send(arc, 0, t, scn.input_bytes, 1.0)
                else:
                    b.send(arc, p, t, scn.layers[i - 1].output_bytes, reach[i])
                layer_term(arc, i, t)
            if t in plain:
                arc = b.arc(plain[t], new_plain[t], i, t)
                layer_term(arc, i, t)
        for (s, t), node in special.items():
            if t not in opts[i]:
                continue
            arc = b.arc(node, new_special.get((s, t), new_plain[t]), i, t)
            layer_term(arc, i, t)
            delta = deltas[s, t].get(i - 1)
            if delta is not None:
                b.add(arc, compute_index(t), reach[i - 1] * rate[i - 1] * delta)
        for t, node in new_plain.items():
            b.arc(node, new_ended[t])
        for (s, t), node in new_special.items():
            arc = b.arc(node, new_ended[t])
            delta = deltas[s, t].get(i)
            if delta is not None:
                b.add(arc, compute_index(t), reach[i] * delta)
        plain, special, ended = new_plain, new_special, new_ended
    sink = b.node()
    for t, node in ended.items():
        arc = b.arc(node, sink)
        b.send(arc, t, 0, scn.layers[-1].output_bytes, reach[n])
    usage = np.zeros((len(b.src), BASIS))
    if b.entries:
        rows, cols, vals = zip(*b.entries, strict=True)
        np.add.at(usage, (np.array(rows), np.array(cols)), np.array(vals))
    return ChainGraph(
        nodes=b.nodes,
        source=0,
        sink=sink,
        src=np.array(b.src, dtype=np.int64),
        dst=np.array(b.dst, dtype=np.int64),
        usage=usage,
        layer=np.array(b.layer, dtype=np.int64),
        tier=np.array(b.tier, dtype=np.int64),
    )
