"""The steps of a request under a plan, in the order they happen: compute on a tier, bytes over a link.

The planner's cost model (SCENARIO.md) sums compute and transfers at fixed bandwidths. Replaying a trace
needs the same path in time order, so each transfer can be integrated over the bandwidth in force while its
bytes are in flight. This module derives that ordered path from a `continuum.scenario/v1` document and a
plan's tiers, following the cost model's rules: the request starts on the device, a layer's output is sent
at most once to each other tier that needs it, missing direct links relay through the edge, the final output
returns to the device; on chains, partition-wise `segments` replace layer sums for exact runs and `exits`
give several finishing points with their probabilities. On a constant-bandwidth trace the replayed latency
equals the planner's `evaluate` (tests/unit/evaluation prove it), which is what ties the two together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Compute", "FinishPath", "PlanPaths", "Send", "Tiers", "finish_probabilities", "plan_paths"]

INPUT = "input"

Tiers = tuple[str, ...]
"""A plan: the tier of each layer, in layer order (what the planner returns, what a replay runs)."""


@dataclass(frozen=True)
class Compute:
    """Run `ms` milliseconds of compute on `tier`."""

    tier: str
    ms: float


@dataclass(frozen=True)
class Send:
    """Move `nbytes` over the directed link `src->dst` (one hop)."""

    src: str
    dst: str
    nbytes: float

    @property
    def link(self) -> str:
        """The link name used in scenarios, e.g. ``device->edge``."""
        return f"{self.src}->{self.dst}"


Step = Compute | Send


@dataclass(frozen=True)
class FinishPath:
    """One way a request can finish (an exit or the end) with its probability and its steps in order."""

    probability: float
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class PlanPaths:
    """Every finishing path of a plan; without exits there is exactly one, with probability 1."""

    tiers: Tiers
    paths: tuple[FinishPath, ...]


class _Model:
    """The parts of a scenario's `model` the walk needs, indexed."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        model = doc["model"]
        self.input_bytes = float(model["input_bytes"])
        self.layers: list[Mapping[str, Any]] = list(model["layers"])
        self.names = [str(layer["name"]) for layer in self.layers]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.inputs: list[list[str]] = []
        for i, layer in enumerate(self.layers):
            default = [INPUT] if i == 0 else [self.names[i - 1]]
            self.inputs.append([str(x) for x in layer.get("inputs", default)])
        self.chain = all(
            self.inputs[i] == ([INPUT] if i == 0 else [self.names[i - 1]]) for i in range(len(self.layers))
        )
        self.segments = {
            (str(s["first"]), str(s["last"])): dict(s["latency_ms"]) for s in model.get("segments", ())
        }
        self.exits = {self.index[str(e["after"])]: e for e in model.get("exits", ())}
        self.links = set(doc.get("links", {}))

    def output_bytes(self, tensor: str) -> float:
        """Size of a tensor: the request input or a layer's output."""
        return self.input_bytes if tensor == INPUT else float(self.layers[self.index[tensor]]["output_bytes"])

    def layer_ms(self, i: int, tier: str) -> float:
        """Profiled compute time of layer `i` on `tier`; an error when the tier cannot run it."""
        latency = self.layers[i]["latency_ms"]
        if tier not in latency:
            raise ValueError(
                f"layer {self.names[i]!r} cannot run on {tier!r}: its profile has no figure there"
            )
        return float(latency[tier])

    def hops(self, src: str, dst: str, nbytes: float) -> list[Step]:
        """The sends that move `nbytes` from `src` to `dst`: direct, or relayed through the edge."""
        if f"{src}->{dst}" in self.links or "edge" in (src, dst):
            return [Send(src, dst, nbytes)]
        return [Send(src, "edge", nbytes), Send("edge", dst, nbytes)]


def plan_paths(doc: Mapping[str, Any], tiers: Sequence[str]) -> PlanPaths:
    """The ordered steps of every finishing path of the plan `tiers` (one tier per layer, layer order)."""
    model = _Model(doc)
    if len(tiers) != len(model.layers):
        raise ValueError(f"the plan names {len(tiers)} tiers for {len(model.layers)} layers")
    tiers = tuple(tiers)
    if model.chain:
        return PlanPaths(tiers, _chain_paths(model, tiers))
    return PlanPaths(tiers, (FinishPath(1.0, tuple(_dag_steps(model, tiers))),))


def finish_probabilities(doc: Mapping[str, Any]) -> tuple[float, ...]:
    """Probabilities of the model's finishing paths: where a request exits depends on its input, not on
    the plan, so any plan's paths give them (everything on the device here)."""
    layers = doc["model"]["layers"]
    return tuple(p.probability for p in plan_paths(doc, ("device",) * len(layers)).paths)


def _dag_steps(model: _Model, tiers: Tiers) -> list[Step]:
    where: dict[str, set[str]] = {INPUT: {"device"}}
    producer_tier: dict[str, str] = {INPUT: "device"}
    steps: list[Step] = []
    for i, tier in enumerate(tiers):
        for tensor in model.inputs[i]:
            if tier not in where[tensor]:
                steps.extend(model.hops(producer_tier[tensor], tier, model.output_bytes(tensor)))
                where[tensor].add(tier)
        steps.append(Compute(tier, model.layer_ms(i, tier)))
        where[model.names[i]] = {tier}
        producer_tier[model.names[i]] = tier
    consumed = {tensor for inputs in model.inputs for tensor in inputs}
    for i, tier in enumerate(tiers):
        if model.names[i] not in consumed and tier != "device":
            steps.extend(model.hops(tier, "device", model.output_bytes(model.names[i])))
    return steps


def _chain_paths(model: _Model, tiers: Tiers) -> tuple[FinishPath, ...]:
    finishes: list[tuple[int, float]] = []
    reach = 1.0
    for e in sorted(model.exits):
        rate = float(model.exits[e]["exit_rate"])
        finishes.append((e, reach * rate))
        reach *= 1.0 - rate
    finishes.append((len(tiers) - 1, reach))
    return tuple(
        FinishPath(p, tuple(_chain_steps(model, tiers, f, exited=f in model.exits and k < len(finishes) - 1)))
        for k, (f, p) in enumerate(finishes)
        if p > 0.0
    )


def _chain_steps(model: _Model, tiers: Tiers, last: int, exited: bool) -> list[Step]:
    steps: list[Step] = []
    here = "device"
    start = 0
    while start <= last:
        tier = tiers[start]
        end = start
        while end + 1 <= last and tiers[end + 1] == tier:
            end += 1
        if tier != here:
            tensor = INPUT if start == 0 else model.names[start - 1]
            steps.extend(model.hops(here, tier, model.output_bytes(tensor)))
            here = tier
        steps.append(Compute(tier, _run_ms(model, start, end, tier)))
        for e in range(start, end + 1):
            if e in model.exits and not (exited and e == last):
                steps.append(Compute(tier, _exit_ms(model, e, tier)))
        start = end + 1
    if exited:
        steps.append(Compute(here, _exit_ms(model, last, here)))
        nbytes = float(model.exits[last]["output_bytes"])
    else:
        nbytes = model.output_bytes(model.names[last])
    if here != "device":
        steps.extend(model.hops(here, "device", nbytes))
    return steps


def _run_ms(model: _Model, first: int, last: int, tier: str) -> float:
    segment = model.segments.get((model.names[first], model.names[last]))
    if segment is not None and tier in segment:
        return float(segment[tier])
    return sum(model.layer_ms(i, tier) for i in range(first, last + 1))


def _exit_ms(model: _Model, e: int, tier: str) -> float:
    latency = model.exits[e].get("latency_ms")
    if latency is None:
        return 0.0
    if tier not in latency:
        raise ValueError(f"the exit after {model.names[e]!r} cannot run on {tier!r}")
    return float(latency[tier])
