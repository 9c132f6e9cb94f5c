"""The reference cost model: the usage of one given assignment, costed path by path as SCENARIO.md says.

Deliberately direct (every finishing point of a chain is walked separately) rather than clever: the
optimisers build their own structures, and their answers are always re-priced here, so the figures a plan
reports are this module's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from orchestrator.planner.errors import ScenarioError
from orchestrator.planner.figures import Figures, price
from orchestrator.planner.scenario import Scenario

__all__ = ["assignment_indices", "evaluate", "usage_of", "violations_of"]

FloatArray = npt.NDArray[np.float64]


def _send(usage: FloatArray, scn: Scenario, src: int, dst: int, nbytes: float, weight: float) -> None:
    hops = _routes(scn)[src][dst]
    if hops is None:
        raise ScenarioError(
            f"links: no route from {TIERS[src]} to {TIERS[dst]}; add the link or avoid the hop"
        )
    for k in hops:
        usage[msgs_index(k)] += weight
        usage[bytes_index(k)] += weight * nbytes


def _routes(scn: Scenario) -> list[list[tuple[int, ...] | None]]:
    present = frozenset(scn.links)
    key = f"routes:{sorted(present)}"
    cached: list[list[tuple[int, ...] | None]] | None = scn.cache.get(key)
    if cached is None:
        cached = [[route(a, b, present) for b in range(3)] for a in range(3)]
        scn.cache[key] = cached
    return cached


def _run_ms(scn: Scenario, first: int, last: int, tier: int) -> float:
    name = TIERS[tier]
    table = scn.cache.get("segment_table")
    if table is None:
        table = {(seg.first, seg.last): seg.latency_ms for seg in scn.segments}
        scn.cache["segment_table"] = table
    seg = table.get((first, last))
    if seg is not None and name in seg:
        return float(seg[name])
    return sum(scn.layers[i].latency_ms[name] for i in range(first, last + 1))


def _chain_usage(scn: Scenario, tiers: Sequence[int]) -> FloatArray:
    usage = np.zeros(BASIS)
    n = len(tiers)
    points: list[tuple[int, float, float]] = []
    reach = 1.0
    for ex in scn.exits:
        points.append((ex.after, reach * ex.exit_rate, ex.output_bytes))
        reach *= 1.0 - ex.exit_rate
    points.append((n - 1, reach, scn.layers[-1].output_bytes))
    for last, weight, out_bytes in points:
        if weight <= 0.0:
            continue
        _send(usage, scn, 0, tiers[0], scn.input_bytes, weight)
        start = 0
        for i in range(last + 1):
            if i == last or tiers[i + 1] != tiers[i]:
                usage[compute_index(tiers[i])] += weight * _run_ms(scn, start, i, tiers[i])
                usage[entries_index(tiers[i])] += weight
                if i < last:
                    _send(usage, scn, tiers[i], tiers[i + 1], scn.layers[i].output_bytes, weight)
                start = i + 1
        for ex in scn.exits:
            if ex.after <= last and ex.latency_ms is not None:
                usage[compute_index(tiers[ex.after])] += weight * ex.latency_ms[TIERS[tiers[ex.after]]]
        _send(usage, scn, tiers[last], 0, out_bytes, weight)
    return usage


def _dag_usage(scn: Scenario, tiers: Sequence[int]) -> FloatArray:
    usage = np.zeros(BASIS)
    where = {layer.name: tiers[i] for i, layer in enumerate(scn.layers)}
    where["input"] = 0
    size = {layer.name: layer.output_bytes for layer in scn.layers}
    size["input"] = scn.input_bytes
    needed: dict[str, set[int]] = {name: set() for name in where}
    for i, layer in enumerate(scn.layers):
        usage[compute_index(tiers[i])] += layer.latency_ms[TIERS[tiers[i]]]
        if i == 0 or tiers[i - 1] != tiers[i]:
            usage[entries_index(tiers[i])] += 1.0
        for name in layer.inputs:
            needed[name].add(tiers[i])
    consumed = {name for layer in scn.layers for name in layer.inputs}
    for layer in scn.layers:
        if layer.name not in consumed:
            needed[layer.name].add(0)
    for name, dests in needed.items():
        for dst in sorted(dests - {where[name]}):
            _send(usage, scn, where[name], dst, size[name], 1.0)
    return usage


def assignment_indices(scn: Scenario, assignment: Mapping[str, str]) -> tuple[int, ...]:
    """Tier indices per layer for a {layer: tier} mapping; ScenarioError if a layer is unknown or missing."""
    names = scn.layer_names
    for name, tier in assignment.items():
        if name not in names:
            raise ScenarioError(f"assignment.{name}: unknown layer")
        if tier not in TIERS:
            raise ScenarioError(f"assignment.{name}: unknown tier '{tier}' (tiers are {', '.join(TIERS)})")
    missing = [name for name in names if name not in assignment]
    if missing:
        raise ScenarioError(f"assignment: no tier for layer(s) {', '.join(missing[:5])}")
    return tuple(TIERS.index(assignment[name]) for name in names)


def usage_of(scn: Scenario, tiers: Sequence[int]) -> FloatArray:
    """The expected usage vector of an assignment (tier index per layer); ScenarioError if not runnable."""
    for i, t in enumerate(tiers):
        if t not in scn.runnable[i]:
            raise ScenarioError(
                f"assignment.{scn.layers[i].name}: cannot run on {TIERS[t]} "
                "(its latency_ms, its exit's latency_ms or the tiers section lacks that tier)"
            )
    return _chain_usage(scn, tiers) if scn.is_chain else _dag_usage(scn, tiers)


def violations_of(scn: Scenario, tiers: Sequence[int], latency_ms: float, cost_usd: float) -> tuple[str, ...]:
    """The constraints an assignment breaks: pins, allowed tiers, and the objective's limits."""
    broken: list[str] = []
    for i, t in enumerate(tiers):
        if t not in scn.options[i]:
            broken.append(f"constraints: {scn.layers[i].name} may not run on {TIERS[t]}")
            break
    if scn.max_latency_ms is not None and latency_ms > scn.max_latency_ms * (1 + 1e-6) + 1e-9:
        broken.append(f"objective.max_latency_ms: {latency_ms:.6g} ms > {scn.max_latency_ms:.6g} ms")
    if scn.max_cost_usd is not None and cost_usd > scn.max_cost_usd * (1 + 1e-6) + 1e-15:
        broken.append(f"objective.max_cost_usd: {cost_usd:.6g} USD > {scn.max_cost_usd:.6g} USD")
    return tuple(broken)


def evaluate(scn: Scenario, assignment: Mapping[str, str]) -> Figures:
    """The cost model's figures for a given {layer: tier} assignment, with the constraints it breaks."""
    tiers = assignment_indices(scn, assignment)
    return evaluate_indices(scn, tiers)


def evaluate_indices(scn: Scenario, tiers: Sequence[int]) -> Figures:
    """`evaluate` for tier indices per layer (the optimisers' form)."""
    figures = price(usage_of(scn, tiers), scn.tiers, scn.links)
    broken = violations_of(scn, tiers, figures.latency_ms, figures.cost_usd)
    return Figures(figures.latency_ms, figures.cost_usd, figures.device_energy_j, figures.breakdown, broken)
