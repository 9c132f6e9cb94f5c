"""Exact placement for DAGs (skip connections, branches): a MILP solved by HiGHS with zero gap.

Variables: binary `x[l,t]` (layer l on tier t); continuous pair variables `f[e,a,b]` for each edge
e = p -> c with the marginal constraints `sum_b f = x[p,a]`, `sum_a f = x[c,b]`; continuous `w[p,a,b]`
("p's output, made on a, is sent to b") with `w >= f[e,a,b]` for each consumer edge when p has several
consumers (with one consumer, f itself carries the transfer), and `w >= x[p,a]` for a model output, which
goes back to the device; continuous `z[l,t] >= x[l,t] - x[l-1,t]` counting
entries into a tier when any tier sets `queue_ms`.

Why exact. For binary x the marginal constraints force f[e,a,b] = x[p,a] * x[c,b] (a row and a column
of a 0/1 table each summing to one), so the smallest feasible w is exactly "some consumer of p runs on
b != a": the output is sent at most once to each other tier that needs it, over the direct link or the
edge relay, as SCENARIO.md says. Every usage coefficient and every price is >= 0, so any larger w or z
only adds latency, cost and energy: for each x the best completion is the true cost, and the limits are
easiest to meet there. Execution is sequential, so expected latency, cost and energy are sums of these
terms and the limits are linear rows. Hence the MILP optimum is the optimum over all 3^n assignments.
(Min-cut constructions are exact for two tiers; with three tiers and relays the cut function is not
submodular in general, which is why this uses a MILP. The pair variables make the LP relaxation tight
on chains and trees, so HiGHS rarely branches.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from orchestrator.planner.costmodel import BASIS, bytes_index, compute_index, entries_index, msgs_index, route
from orchestrator.planner.scenario import Scenario

__all__ = ["DagProgram", "dag_program", "solve_dag"]

FloatArray = npt.NDArray[np.float64]


class DagProgram:
    """The MILP's structure (variables' usage and rows); links and prices only re-weight it."""

    # Over 60 lines: every row of the MILP is assembled here, so the constraints can be read together.
    def __init__(self, scn: Scenario) -> None:
        self.n = len(scn.layers)
        self.usage_rows: list[tuple[int, int, float]] = []
        self.eq: list[tuple[list[int], list[float], float]] = []
        self.le: list[tuple[list[int], list[float], float]] = []
        self.binary: list[bool] = []
        self.x: dict[tuple[int, int], int] = {}
        present = frozenset(scn.links)
        position = {layer.name: i for i, layer in enumerate(scn.layers)}
        queues = any(spec.queue_ms > 0 for spec in scn.tiers.values())
        for i, layer in enumerate(scn.layers):
            for t in scn.options[i]:
                v = self.var(True)
                self.x[i, t] = v
                self.use(v, compute_index(t), layer.latency_ms[_name(t)])
                if i == 0 or not queues or t not in scn.options[i - 1]:
                    self.use(v, entries_index(t), 1.0)
                else:
                    z = self.var(False)
                    self.use(z, entries_index(t), 1.0)
                    self.le.append(([v, self.x[i - 1, t], z], [1.0, -1.0, -1.0], 0.0))
            self.eq.append(([self.x[i, t] for t in scn.options[i]], [1.0] * len(scn.options[i]), 1.0))
        consumers: dict[str, list[int]] = {"input": []}
        for i, layer in enumerate(scn.layers):
            consumers.setdefault(layer.name, [])
            for name in layer.inputs:
                consumers[name].append(i)
        for name, users in consumers.items():
            p = position.get(name)
            sources = (0,) if p is None else scn.options[p]
            size = scn.input_bytes if p is None else scn.layers[p].output_bytes
            sends: dict[tuple[int, int], int] = {}

            def send(a: int, b: int, size: float = size, sends: dict[tuple[int, int], int] = sends) -> int:
                if (a, b) not in sends:
                    w = self.var(False)
                    sends[a, b] = w
                    for k in route(a, b, present) or ():
                        self.use(w, msgs_index(k), 1.0)
                        self.use(w, bytes_index(k), size)
                return sends[a, b]

            for c in users:
                if p is None:
                    for b in scn.options[c]:
                        if b != 0:
                            self.le.append(([self.x[c, b], send(0, b)], [1.0, -1.0], 0.0))
                    continue
                pair = {(a, b): self.var(False) for a in sources for b in scn.options[c]}
                for a in sources:
                    cols = [pair[a, b] for b in scn.options[c]]
                    self.eq.append(([*cols, self.x[p, a]], [1.0] * len(cols) + [-1.0], 0.0))
                for b in scn.options[c]:
                    cols = [pair[a, b] for a in sources]
                    self.eq.append(([*cols, self.x[c, b]], [1.0] * len(cols) + [-1.0], 0.0))
                for (a, b), f in pair.items():
                    if a == b:
                        continue
                    if len(users) == 1:
                        for k in route(a, b, present) or ():
                            self.use(f, msgs_index(k), 1.0)
                            self.use(f, bytes_index(k), size)
                    else:
                        self.le.append(([f, send(a, b)], [1.0, -1.0], 0.0))
            if p is not None and not users:
                for a in sources:
                    if a != 0:
                        self.le.append(([self.x[p, a], send(a, 0)], [1.0, -1.0], 0.0))
        self.usage = np.zeros((len(self.binary), BASIS))
        if self.usage_rows:
            var_ids, basis_ids, values = zip(*self.usage_rows, strict=True)
            np.add.at(self.usage, (np.array(var_ids), np.array(basis_ids)), np.array(values))

    def var(self, binary: bool) -> int:
        """A new variable's index."""
        self.binary.append(binary)
        return len(self.binary) - 1

    def use(self, var: int, index: int, value: float) -> None:
        """Record that setting `var` to one uses `value` of basis element `index`."""
        if value != 0.0:
            self.usage_rows.append((var, index, value))


def _name(t: int) -> str:
    return ("device", "edge", "cloud")[t]


def dag_program(scn: Scenario) -> DagProgram:
    """The MILP structure of a scenario (cached on it)."""
    cached = scn.cache.get("dag_program")
    if isinstance(cached, DagProgram):
        return cached
    program = DagProgram(scn)
    scn.cache["dag_program"] = program
    return program


def solve_dag(
    program: DagProgram, weights: FloatArray, limits: list[tuple[FloatArray, float]]
) -> tuple[int, ...] | None:
    """The optimal assignment (tier index per layer) under per-variable `weights` and `limits`, or None."""
    from orchestrator.planner.milp import solve

    x = solve(weights, program.eq, limits, program.le, np.array(program.binary, dtype=bool))
    if x is None:
        return None
    tiers = [-1] * program.n
    for (i, t), v in program.x.items():
        if x[v] > 0.5:
            tiers[i] = t
    return tuple(tiers)
