"""Exact DAG plans for many devices at once: a dynamic programme over the live activations.

Layers are placed in file (topological) order. What the rest of a plan costs depends only on the
activations still needed later (the "live" producers): on which tier each was made, and to which other
tiers it has already been sent (SCENARIO.md sends an output at most once to each tier that needs it), plus
the tier of the previous layer when a tier sets `queue_ms`. With that as the state, the recursion over all
3^n assignments is exact, like the chain recursion; it is run for all devices at once (arrays of shape
(devices,) per state), as in `vectorised.py`. Residual networks keep one or two activations live, so the
state space is small; when a model would need more than `MAX_STATES` states at some layer, `None` is
returned and the caller solves device by device with the MILP.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from orchestrator.planner.costmodel import TIERS, bytes_index, compute_index, entries_index, msgs_index, route
from orchestrator.planner.scenario import Scenario

__all__ = ["MAX_STATES", "frontier_paths", "frontier_plan"]

FloatArray = npt.NDArray[np.float64]
MAX_STATES = 2000
State = tuple[tuple[int, ...], int]


# Over 60 lines: one vectorised recursion over the DAG's frontier states; its phases share the state arrays.
def frontier_paths(scn: Scenario, price: FloatArray, link_price: FloatArray) -> npt.NDArray[np.int8] | None:
    """Per device, the DAG assignment minimising `usage @ price` with link rows priced per device by
    `link_price` (12, devices); tier indices (devices, layers), or None when the state space is too big."""
    n, devices = len(scn.layers), link_price.shape[1]
    position = {layer.name: i for i, layer in enumerate(scn.layers)}
    inputs = [[-1 if name == "input" else position[name] for name in layer.inputs] for layer in scn.layers]
    last = {-1: -1, **{i: -1 for i in range(n)}}
    for i, producers in enumerate(inputs):
        for p in producers:
            last[p] = max(last[p], i)
    queues = any(spec.queue_ms > 0 for spec in scn.tiers.values())
    present = frozenset(scn.links)
    per_msg, per_byte = link_price[:6], link_price[6:]
    pair = {}
    for a in range(3):
        for b in range(3):
            hops = route(a, b, present) or ()
            pair[a, b] = (
                sum((per_msg[k] for k in hops), np.zeros(devices)),
                sum((per_byte[k] for k in hops), np.zeros(devices)),
            )
    size = [scn.input_bytes if p == -1 else scn.layers[p].output_bytes for p in range(-1, n)]
    live: list[int] = [-1] if last[-1] >= 0 else []
    states: dict[State, int] = {(tuple(0 for _ in live) * 2, -1): 0}
    values = np.zeros((1, devices))
    history: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int8]]] = []
    for i in range(n):
        layer = scn.layers[i]
        new_live = [p for p in (*live, i) if last[p] > i]
        groups: dict[State, list[tuple[int, int, FloatArray]]] = {}
        for (packed, prev), s in states.items():
            where = dict(zip(live, packed[: len(live)], strict=True))
            sent = dict(zip(live, packed[len(live) :], strict=True))
            for t in scn.options[i]:
                cost = np.full(devices, price[compute_index(t)] * layer.latency_ms[TIERS[t]])
                if queues and prev != t:
                    cost += price[entries_index(t)]
                moved = dict(sent)
                for p in inputs[i]:
                    a = 0 if p == -1 else where[p]
                    if a != t and not moved[p] >> t & 1:
                        msg, byte = pair[a, t]
                        cost = cost + msg + byte * size[p + 1]
                        moved[p] |= 1 << t
                if last[i] < 0 and t != 0:
                    msg, byte = pair[t, 0]
                    cost = cost + msg + byte * layer.output_bytes
                key_tiers = tuple(t if p == i else where[p] for p in new_live)
                key_masks = tuple(0 if p == i else moved[p] for p in new_live)
                key = (key_tiers + key_masks, t if queues else -1)
                groups.setdefault(key, []).append((s, t, values[s] + cost))
        if len(groups) > MAX_STATES:
            return None
        width = max(len(cands) for cands in groups.values())
        new_values = np.empty((len(groups), devices))
        pick = np.empty((len(groups), devices), dtype=np.int32)
        from_state = np.zeros((len(groups), width), dtype=np.int32)
        from_tier = np.zeros((len(groups), width), dtype=np.int8)
        new_states: dict[State, int] = {}
        for g, (key, cands) in enumerate(groups.items()):
            stacked = np.vstack([c[2] for c in cands])
            best = np.argmin(stacked, axis=0)
            new_values[g] = stacked[best, np.arange(devices)]
            pick[g] = best
            from_state[g, : len(cands)] = [c[0] for c in cands]
            from_tier[g, : len(cands)] = [c[1] for c in cands]
            new_states[key] = g
        history.append((pick, from_state, from_tier))
        states, values, live = new_states, new_values, new_live
    cols = np.arange(devices)
    state = np.argmin(values, axis=0)
    tiers = np.empty((devices, n), dtype=np.int8)
    for i in range(n - 1, -1, -1):
        pick, from_state, from_tier = history[i]
        choice = pick[state, cols]
        tiers[:, i] = from_tier[state, choice]
        state = from_state[state, choice]
    return tiers


# Over 60 lines: kept step for step parallel to frontier_paths, in plain floats.
def frontier_plan(scn: Scenario, price: FloatArray) -> tuple[int, ...] | None:
    """The same recursion for one plan, in plain floats (numpy per state costs more than it saves here):
    the assignment minimising `usage @ price` (full basis prices), or None when the state space is too big."""
    n = len(scn.layers)
    position = {layer.name: i for i, layer in enumerate(scn.layers)}
    inputs = [[-1 if name == "input" else position[name] for name in layer.inputs] for layer in scn.layers]
    last = {-1: -1, **{i: -1 for i in range(n)}}
    for i, producers in enumerate(inputs):
        for p in producers:
            last[p] = max(last[p], i)
    queues = any(spec.queue_ms > 0 for spec in scn.tiers.values())
    present = frozenset(scn.links)
    pair = {}
    for a in range(3):
        for b in range(3):
            hops = route(a, b, present) or ()
            pair[a, b] = (
                float(sum(price[msgs_index(k)] for k in hops)),
                float(sum(price[bytes_index(k)] for k in hops)),
            )
    size = {p: scn.input_bytes if p == -1 else scn.layers[p].output_bytes for p in range(-1, n)}
    compute = [float(price[compute_index(t)]) for t in range(3)]
    entry = [float(price[entries_index(t)]) for t in range(3)]
    live: list[int] = [-1] if last[-1] >= 0 else []
    states: dict[State, float] = {((0,) * (2 * len(live)), -1): 0.0}
    history: list[dict[State, tuple[State, int]]] = []
    for i in range(n):
        layer = scn.layers[i]
        new_live = [p for p in (*live, i) if last[p] > i]
        best: dict[State, float] = {}
        back: dict[State, tuple[State, int]] = {}
        k = len(live)
        for key, value in states.items():
            packed, prev = key
            where = dict(zip(live, packed[:k], strict=True))
            sent = dict(zip(live, packed[k:], strict=True))
            for t in scn.options[i]:
                cost = value + compute[t] * layer.latency_ms[TIERS[t]]
                if queues and prev != t:
                    cost += entry[t]
                moved = dict(sent)
                for p in inputs[i]:
                    a = 0 if p == -1 else where[p]
                    if a != t and not moved[p] >> t & 1:
                        msg, byte = pair[a, t]
                        cost += msg + byte * size[p]
                        moved[p] |= 1 << t
                if last[i] < 0 and t != 0:
                    msg, byte = pair[t, 0]
                    cost += msg + byte * layer.output_bytes
                new_key = (
                    tuple(t if p == i else where[p] for p in new_live)
                    + tuple(0 if p == i else moved[p] for p in new_live),
                    t if queues else -1,
                )
                if cost < best.get(new_key, float("inf")):
                    best[new_key] = cost
                    back[new_key] = (key, t)
        if len(best) > MAX_STATES:
            return None
        history.append(back)
        states, live = best, new_live
    key = min(states, key=lambda s: states[s])
    tiers = [0] * n
    for i in range(n - 1, -1, -1):
        key, tiers[i] = history[i][key]
    return tuple(tiers)
