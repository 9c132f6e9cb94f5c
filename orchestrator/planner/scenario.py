"""The validated, frozen scenario the optimisers read, built from a `continuum.scenario/v1` document.

`parse_scenario` runs the structural checks of `schema.py`, then the checks that need the whole file:
layer names, inputs (unknown names, cycles, order), segments and exits, tiers, pins and the links each
possible hop needs. Every error names the path in the file and says what to change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pydantic

from orchestrator.planner.costmodel import LINKS, TIERS, LinkSpec, TierSpec, link_name, pricing, route
from orchestrator.planner.errors import ScenarioError
from orchestrator.planner.schema import LinkDoc, ScenarioDoc, validate_document

__all__ = ["Exit", "Layer", "Scenario", "Segment", "parse_scenario"]

INPUT = "input"


@dataclass(frozen=True)
class Layer:
    """A layer: output size, latency per tier it can run on, and its inputs (`input` is the request)."""

    name: str
    output_bytes: float
    latency_ms: Mapping[str, float]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    """Measured latency of layers `first`..`last` (indices) run together as one run on a tier."""

    first: int
    last: int
    latency_ms: Mapping[str, float]


@dataclass(frozen=True)
class Exit:
    """An early exit after layer `after` (index); `latency_ms` None means the branch costs 0 ms."""

    after: int
    exit_rate: float
    output_bytes: float
    latency_ms: Mapping[str, float] | None


@dataclass(frozen=True)
class Scenario:
    """Everything the planner needs to place one request; frozen, so plans can be cached and compared.

    `options[i]` lists the tier indices layer i may run on after every constraint (latency listed, tier
    defined, allowed, pinned, exit branch runnable); `runnable[i]` only the physical ones (for evaluate).
    """

    name: str
    input_bytes: float
    layers: tuple[Layer, ...]
    segments: tuple[Segment, ...]
    exits: tuple[Exit, ...]
    tiers: Mapping[str, TierSpec]
    links: Mapping[str, LinkSpec]
    minimize: str
    max_latency_ms: float | None
    max_cost_usd: float | None
    pins: Mapping[str, str]
    allowed: tuple[str, ...]
    is_chain: bool
    options: tuple[tuple[int, ...], ...]
    runnable: tuple[tuple[int, ...], ...]
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def layer_names(self) -> tuple[str, ...]:
        """Layer names in topological (file) order."""
        return tuple(layer.name for layer in self.layers)

    def with_links(self, links: Mapping[str, Mapping[str, float] | LinkSpec]) -> Scenario:
        """A copy with some links changed or added: given fields replace the old ones, the rest are kept."""
        merged = dict(self.links)
        for name, given in links.items():
            if name not in LINKS:
                raise ScenarioError(f"links.{name}: unknown link (links are {', '.join(LINKS)})")
            fields = dict(given.__dict__) if isinstance(given, LinkSpec) else dict(given)
            old = merged.get(name)
            base = dict(old.__dict__) if old is not None else {}
            merged[name] = _link(name, {**base, **fields})
        same_structure = set(merged) == set(self.links)
        copy = replace(self, links=merged, cache=self.cache if same_structure else {})
        if not same_structure:
            _check_routes(copy)
        _check_finite(copy)
        return copy

    def with_objective(
        self,
        minimize: str | None = None,
        max_latency_ms: float | None = None,
        max_cost_usd: float | None = None,
    ) -> Scenario:
        """A copy with the objective replaced: `minimize` (None keeps the current one) and both limits
        (None means no limit), e.g. to ask for the fastest plan regardless of the file's limits."""
        return replace(
            self, minimize=minimize or self.minimize, max_latency_ms=max_latency_ms, max_cost_usd=max_cost_usd
        )


def _link(name: str, fields: Mapping[str, Any]) -> LinkSpec:
    try:
        doc = LinkDoc.model_validate(dict(fields))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"links.{name}.{where}: {first['msg'].lower()}") from None
    return LinkSpec(doc.bandwidth_mbps, doc.rtt_ms, doc.cost_per_gb)


def _tier_keys(where: str, latency: Mapping[str, float]) -> None:
    for key in latency:
        if key not in TIERS:
            raise ScenarioError(f"{where}.{key}: unknown tier (tiers are {', '.join(TIERS)})")


def _layers(doc: ScenarioDoc) -> tuple[tuple[Layer, ...], bool]:
    index: dict[str, int] = {}
    for i, spec in enumerate(doc.model.layers):
        where = f"model.layers[{i}]"
        if spec.name == INPUT:
            raise ScenarioError(f"{where}.name: 'input' names the request input; rename the layer")
        if spec.name in index:
            raise ScenarioError(f"{where}.name: '{spec.name}' already names model.layers[{index[spec.name]}]")
        index[spec.name] = i
        _tier_keys(f"{where}.latency_ms", spec.latency_ms)
        if not spec.latency_ms:
            raise ScenarioError(
                f"{where}.latency_ms: lists no tier; give its latency on device, edge or cloud"
            )
    layers: list[Layer] = []
    chain = True
    for i, spec in enumerate(doc.model.layers):
        default = (INPUT,) if i == 0 else (doc.model.layers[i - 1].name,)
        inputs = tuple(spec.inputs) if spec.inputs is not None else default
        where = f"model.layers[{i}].inputs"
        if not inputs:
            raise ScenarioError(f"{where}: must name at least one input (a layer or 'input')")
        for j, name in enumerate(inputs):
            if name != INPUT and name not in index:
                raise ScenarioError(f"{where}[{j}]: unknown layer '{name}'")
            if name != INPUT and index[name] >= i:
                cycle = _find_cycle(doc)
                if cycle:
                    raise ScenarioError(f"model.layers: cycle {' -> '.join(cycle)}; a model must be acyclic")
                raise ScenarioError(
                    f"{where}[{j}]: '{name}' comes at or after this layer; list layers in topological order"
                )
            if name in inputs[:j]:
                raise ScenarioError(f"{where}[{j}]: '{name}' is listed twice")
        chain = chain and inputs == default
        layers.append(Layer(spec.name, spec.output_bytes, dict(spec.latency_ms), inputs))
    return tuple(layers), chain


def _find_cycle(doc: ScenarioDoc) -> list[str]:
    graph = {spec.name: list(spec.inputs or []) for spec in doc.model.layers}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt][::-1]
            if nxt in graph and nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for name in graph:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return []


def _segments_and_exits(
    doc: ScenarioDoc, names: dict[str, int], chain: bool
) -> tuple[list[Segment], list[Exit]]:
    model = doc.model
    if not chain and (model.segments or model.exits):
        which = "model.segments" if model.segments else "model.exits"
        raise ScenarioError(f"{which}: segments and exits apply to chains only, and this model is a DAG")
    segments: list[Segment] = []
    seen: dict[tuple[int, int], int] = {}
    for i, seg in enumerate(model.segments):
        where = f"model.segments[{i}]"
        for key in ("first", "last"):
            if getattr(seg, key) not in names:
                raise ScenarioError(f"{where}.{key}: unknown layer '{getattr(seg, key)}'")
        first, last = names[seg.first], names[seg.last]
        if first > last:
            raise ScenarioError(f"{where}.last: '{seg.last}' comes before first '{seg.first}'")
        if (first, last) in seen:
            raise ScenarioError(f"{where}: the same run as model.segments[{seen[first, last]}]; keep one")
        seen[first, last] = i
        _tier_keys(f"{where}.latency_ms", seg.latency_ms)
        segments.append(Segment(first, last, dict(seg.latency_ms)))
    exits: list[Exit] = []
    after: dict[int, int] = {}
    for i, ex in enumerate(model.exits):
        where = f"model.exits[{i}]"
        if ex.after not in names:
            raise ScenarioError(f"{where}.after: unknown layer '{ex.after}'")
        if names[ex.after] in after:
            raise ScenarioError(
                f"{where}.after: model.exits[{after[names[ex.after]]}] already follows '{ex.after}'"
            )
        after[names[ex.after]] = i
        if ex.latency_ms is not None:
            _tier_keys(f"{where}.latency_ms", ex.latency_ms)
        latency = dict(ex.latency_ms) if ex.latency_ms is not None else None
        exits.append(Exit(names[ex.after], ex.exit_rate, ex.output_bytes, latency))
    exits.sort(key=lambda e: e.after)
    return segments, exits


def _options(doc: ScenarioDoc, layers: tuple[Layer, ...], exits: list[Exit]) -> tuple[tuple[int, ...], ...]:
    defined = set(doc.tiers)
    allowed = set(doc.constraints.tiers) if doc.constraints.tiers is not None else set(TIERS)
    exit_at = {e.after: e for e in exits}
    options: list[tuple[int, ...]] = []
    for i, layer in enumerate(layers):
        pin = doc.constraints.pin.get(layer.name)
        ex = exit_at.get(i)
        opts = tuple(
            t
            for t, tier in enumerate(TIERS)
            if tier in layer.latency_ms
            and tier in defined
            and tier in allowed
            and (pin is None or pin == tier)
            and (ex is None or ex.latency_ms is None or tier in ex.latency_ms)
        )
        if not opts:
            reasons = [f"latency_ms lists {', '.join(sorted(layer.latency_ms))}"]
            reasons.append(f"tiers defines {', '.join(sorted(defined)) or 'none'}")
            if doc.constraints.tiers is not None:
                reasons.append(f"constraints.tiers allows {', '.join(sorted(allowed)) or 'none'}")
            if pin is not None:
                reasons.append(f"constraints.pin puts it on {pin}")
            if ex is not None and ex.latency_ms is not None:
                reasons.append(f"its exit runs on {', '.join(sorted(ex.latency_ms))}")
            raise ScenarioError(
                f"model.layers[{i}] ('{layer.name}'): no tier can run it: {'; '.join(reasons)}"
            )
        options.append(opts)
    return tuple(options)


def _check_routes(scn: Scenario) -> None:
    present = frozenset(scn.links)
    position = {layer.name: i for i, layer in enumerate(scn.layers)}
    consumed = {name for layer in scn.layers for name in layer.inputs}
    needs: list[tuple[int, int, str]] = []
    for i, layer in enumerate(scn.layers):
        for name in layer.inputs:
            sources = (0,) if name == "input" else scn.options[position[name]]
            needs += [(a, b, f"'{name}' feeds '{layer.name}'") for a in sources for b in scn.options[i]]
        if layer.name not in consumed or any(e.after == i for e in scn.exits):
            needs += [(a, 0, f"'{layer.name}' returns its result") for a in scn.options[i]]
    for a, b, why in needs:
        if a != b and route(a, b, present) is None:
            src, dst = TIERS[a], TIERS[b]
            hint = f"add links.{link_name(src, dst)}"
            if 1 not in (a, b):
                hint += f" (or links.{link_name(src, 'edge')} and links.{link_name('edge', dst)})"
            raise ScenarioError(
                f"links: no route from {src} to {dst}, needed when {why} from {src} to {dst}; "
                f"{hint}, or keep those layers off {src if a else dst} with constraints"
            )


def _check_finite(scn: Scenario) -> None:
    """Refuse numbers so extreme that some plan's figures would overflow a float (inf or NaN figures).

    The bound is crude on purpose: every layer, segment and exit at its dearest tier, every byte over the
    dearest link twice (a relay), every message likewise; if even that is finite, every plan's figures are.
    """
    for name, link in scn.links.items():
        if not math.isfinite(8.0 / (link.bandwidth_mbps * 1000.0)):
            raise ScenarioError(f"links.{name}.bandwidth_mbps: too small to move a byte in finite time")
    price = pricing(scn.tiers, scn.links)
    compute_ms = sum(max(layer.latency_ms.values()) for layer in scn.layers)
    compute_ms += sum(max(seg.latency_ms.values(), default=0.0) for seg in scn.segments)
    compute_ms += sum(max((ex.latency_ms or {}).values(), default=0.0) for ex in scn.exits)
    total_bytes = scn.input_bytes + sum(layer.output_bytes for layer in scn.layers)
    total_bytes += sum(ex.output_bytes for ex in scn.exits)
    messages = 2.0 * (len(scn.layers) + len(scn.exits) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        bound = (
            compute_ms * price[0:3].max(axis=0)
            + len(scn.layers) * price[3:6].max(axis=0)
            + 2 * messages * price[6:12].max(axis=0)
            + 2 * messages * total_bytes * price[12:18].max(axis=0)
        )
    if not np.all(np.isfinite(bound)):
        figure = ("latency_ms", "cost_usd", "device_energy_j")[int(np.argmin(np.isfinite(bound)))]
        raise ScenarioError(
            f"(document): numbers too large: {figure} of some plans would overflow a float; check the units"
        )


# Over 60 lines: each section of the document is checked in document order: one place to read the format.
def parse_scenario(doc: Mapping[str, Any]) -> Scenario:
    """Validate a `continuum.scenario/v1` document (a loaded JSON/YAML mapping) into a frozen Scenario.

    Raises ScenarioError naming the path in the file, e.g. `model.layers[3].latency_ms.edge: must be >= 0`.
    """
    parsed = validate_document(doc)
    for key in parsed.tiers:
        if key not in TIERS:
            raise ScenarioError(f"tiers.{key}: unknown tier (tiers are {', '.join(TIERS)})")
    for key in parsed.links:
        if key not in LINKS:
            raise ScenarioError(f"links.{key}: unknown link (links are {', '.join(LINKS)})")
    layers, chain = _layers(parsed)
    names = {layer.name: i for i, layer in enumerate(layers)}
    segments, exits = _segments_and_exits(parsed, names, chain)
    for j, tier in enumerate(parsed.constraints.tiers or []):
        if tier not in TIERS:
            raise ScenarioError(
                f"constraints.tiers[{j}]: unknown tier '{tier}' (tiers are {', '.join(TIERS)})"
            )
    for name, tier in parsed.constraints.pin.items():
        if name not in names:
            raise ScenarioError(f"constraints.pin.{name}: unknown layer '{name}'")
        if tier not in TIERS:
            raise ScenarioError(
                f"constraints.pin.{name}: unknown tier '{tier}' (tiers are {', '.join(TIERS)})"
            )
    options = _options(parsed, layers, exits)
    exit_at = {e.after: e for e in exits}
    runnable = tuple(
        tuple(
            t
            for t, tier in enumerate(TIERS)
            if tier in layer.latency_ms
            and tier in parsed.tiers
            and (i not in exit_at or exit_at[i].latency_ms is None or tier in (exit_at[i].latency_ms or {}))
        )
        for i, layer in enumerate(layers)
    )
    scn = Scenario(
        name=parsed.model.name,
        input_bytes=parsed.model.input_bytes,
        layers=layers,
        segments=tuple(segments),
        exits=tuple(exits),
        tiers={
            k: TierSpec(v.cost_per_hour, v.power_w, v.tx_power_w, v.queue_ms) for k, v in parsed.tiers.items()
        },
        links={k: LinkSpec(v.bandwidth_mbps, v.rtt_ms, v.cost_per_gb) for k, v in parsed.links.items()},
        minimize=parsed.objective.minimize,
        max_latency_ms=parsed.objective.max_latency_ms,
        max_cost_usd=parsed.objective.max_cost_usd,
        pins=dict(parsed.constraints.pin),
        allowed=tuple(parsed.constraints.tiers) if parsed.constraints.tiers is not None else TIERS,
        is_chain=chain,
        options=options,
        runnable=runnable,
    )
    _check_routes(scn)
    _check_finite(scn)
    return scn
