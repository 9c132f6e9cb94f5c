"""Cutting: turn a plan (layer -> tier) into ordered stages and extract each stage as its own ONNX graph.

A stage is a maximal run of consecutive layers (in topological order) placed on one tier. A request walks the
stages in order, carrying every tensor a later stage or the final result still needs, so any assignment the
planner may return works, including DAG cuts crossed by skip connections and non-monotone paths such as
device -> edge -> device. Extraction copies only the nodes and initializers a stage needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import onnx
from onnx import helper

from continuum_inference.layers import LayerGraph, layer_graph

__all__ = ["Cutter", "InvalidPlan", "Stage", "plan_stages"]


class InvalidPlan(ValueError):
    """The assignment does not fit the model (unknown or missing layers); send a plan made for this model."""


@dataclass(frozen=True)
class Stage:
    """One contiguous run of layers on one tier, with the tensors that enter and leave it."""

    index: int
    tier: str
    layers: tuple[str, ...]
    inputs: tuple[str, ...]
    """Tensors the stage reads that were produced before it (by earlier stages or the request)."""
    outputs: tuple[str, ...]
    """Tensors the stage produces that a later stage or the final result needs."""
    forward: tuple[str, ...]
    """Everything that must travel on after this stage: its outputs plus earlier tensors still needed."""


def plan_stages(graph: LayerGraph, assignment: Mapping[str, str] | Sequence[str]) -> tuple[Stage, ...]:
    """The stages of a plan. `assignment` maps every layer to a tier, or lists tiers in layer order."""
    names = graph.names()
    if isinstance(assignment, Mapping):
        unknown = sorted(set(assignment) - set(names))
        missing = [n for n in names if n not in assignment]
        if unknown or missing:
            raise InvalidPlan(
                f"plan does not fit the model: unknown layers {unknown[:5]}, missing {missing[:5]}"
            )
        tiers = [assignment[n] for n in names]
    else:
        tiers = list(assignment)
        if len(tiers) != len(names):
            raise InvalidPlan(f"plan names {len(tiers)} tiers for a model of {len(names)} layers")
    runs: list[tuple[str, list[int]]] = []
    for position, tier in enumerate(tiers):
        if runs and runs[-1][0] == tier:
            runs[-1][1].append(position)
        else:
            runs.append((tier, [position]))
    reads: list[set[str]] = []
    makes: list[set[str]] = []
    for _, positions in runs:
        made = {t for p in positions for t in graph.layers[p].outputs}
        needed = {
            tensor
            for p in positions
            for index in graph.layers[p].nodes
            for tensor in _node_inputs(graph, index)
            if graph.producer[tensor] not in {names[q] for q in positions}
        }
        reads.append(needed)
        makes.append(made)
    stages = []
    available = set(graph.graph_inputs)
    for i, (tier, positions) in enumerate(runs):
        available |= makes[i]
        later = (
            set(graph.graph_outputs).union(*reads[i + 1 :]) if i + 1 < len(runs) else set(graph.graph_outputs)
        )
        forward = tuple(sorted(available & later))
        stages.append(
            Stage(
                index=i,
                tier=tier,
                layers=tuple(names[p] for p in positions),
                inputs=tuple(sorted(reads[i])),
                outputs=tuple(sorted(makes[i] & later)),
                forward=forward,
            )
        )
    return tuple(stages)


def _node_inputs(graph: LayerGraph, index: int) -> list[str]:
    return [t for t in graph.node_inputs[index] if t in graph.producer]


class Cutter:
    """Extracts stage subgraphs from one model. Build once per model; `extract` is cheap per stage."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.graph = layer_graph(model)
        g = model.graph
        self._initializers = {init.name: init for init in g.initializer}
        self._types: dict[str, onnx.ValueInfoProto] = {}
        for info in [*g.input, *g.value_info, *g.output]:
            self._types[info.name] = info

    def stages(self, assignment: Mapping[str, str] | Sequence[str]) -> tuple[Stage, ...]:
        """The plan's stages for this model (see `plan_stages`)."""
        return plan_stages(self.graph, assignment)

    def extract(
        self, layers: Sequence[str], inputs: Sequence[str], outputs: Sequence[str]
    ) -> onnx.ModelProto:
        """A standalone model running `layers`, reading `inputs` and producing `outputs`."""
        indices = sorted(i for name in layers for i in self.graph.by_name(name).nodes)
        nodes = [self.model.graph.node[i] for i in indices]
        used = {t for node in nodes for t in node.input}
        initializers = [self._initializers[t] for t in sorted(used) if t in self._initializers]
        graph = helper.make_graph(
            nodes,
            f"{self.model.graph.name}:{layers[0]}..{layers[-1]}",
            [self._typed(t) for t in inputs if t in used],
            [self._typed(t) for t in outputs],
            initializer=initializers,
        )
        sub = helper.make_model(graph, opset_imports=list(self.model.opset_import))
        sub.ir_version = self.model.ir_version
        return sub

    def extract_stage(self, stage: Stage) -> onnx.ModelProto:
        """The subgraph of one stage: its layers, its inputs, its outputs."""
        return self.extract(stage.layers, stage.inputs, stage.outputs)

    def _typed(self, tensor: str) -> onnx.ValueInfoProto:
        info = self._types.get(tensor)
        if info is None:
            raise InvalidPlan(
                f"tensor {tensor!r} has no inferred type; run onnx shape inference on the model"
            )
        return info
