"""Layers: the planner's unit of placement, mapped onto ONNX nodes.

A layer is a named group of nodes with a single output tensor the planner reasons about. Zoo models carry
their layer table in metadata (`continuum.layers`); for any other ONNX file every node is one layer, named
after the node (or `<op>_<index>` when unnamed). Layers are in topological order, and each knows which
layers (or the request `input`) it reads, so the table is exactly a continuum.scenario/v1 layer list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import onnx

from continuum_inference.zoo.builder import LAYERS_METADATA_KEY

__all__ = ["INPUT", "Layer", "LayerGraph", "layer_graph"]

INPUT = "input"
"""The name a layer's `inputs` use for the request input (all graph inputs)."""


@dataclass(frozen=True)
class Layer:
    """One placeable group of nodes."""

    name: str
    nodes: tuple[int, ...]
    """Indices into graph.node, in graph order."""
    outputs: tuple[str, ...]
    """Tensors this layer produces that other layers or the graph output read."""
    inputs: tuple[str, ...]
    """Layer names (or INPUT) this layer reads."""


@dataclass(frozen=True)
class LayerGraph:
    """The layers of one model plus the tensor facts the cutter and profiler need."""

    layers: tuple[Layer, ...]
    graph_inputs: tuple[str, ...]
    graph_outputs: tuple[str, ...]
    producer: dict[str, str]
    """Tensor name -> the layer producing it (graph inputs map to INPUT)."""
    node_inputs: tuple[tuple[str, ...], ...]
    """Input tensor names of every node, by node index."""

    def names(self) -> list[str]:
        """Layer names in topological order."""
        return [layer.name for layer in self.layers]

    def by_name(self, name: str) -> Layer:
        """The layer called `name`; KeyError names the model's layers when it is missing."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}; layers are {', '.join(self.names()[:8])}...")

    def is_chain(self) -> bool:
        """True when every layer reads exactly the layer before it (the first reads the input)."""
        previous = INPUT
        for layer in self.layers:
            if layer.inputs != (previous,):
                return False
            previous = layer.name
        return True


def layer_graph(model: onnx.ModelProto) -> LayerGraph:
    """The layer graph of `model`: from its layer table when it has one, else one layer per node."""
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    graph_inputs = tuple(i.name for i in graph.input if i.name not in initializers)
    graph_outputs = tuple(o.name for o in graph.output)
    table = {p.key: p.value for p in model.metadata_props}.get(LAYERS_METADATA_KEY)
    groups = _groups_from_table(graph, table) if table else _groups_per_node(graph)
    producer: dict[str, str] = {name: INPUT for name in graph_inputs}
    for name, indices in groups:
        for index in indices:
            for out in graph.node[index].output:
                producer[out] = name
    consumers: dict[str, set[str]] = {}
    for name, indices in groups:
        for index in indices:
            for tensor in graph.node[index].input:
                if tensor in producer and producer[tensor] != name:
                    consumers.setdefault(tensor, set()).add(name)
    layers = []
    for name, indices in groups:
        reads: list[str] = []
        for index in indices:
            for tensor in graph.node[index].input:
                source = producer.get(tensor)
                if source is not None and source != name and source not in reads:
                    reads.append(source)
        outputs = tuple(
            out
            for index in indices
            for out in graph.node[index].output
            if out and (out in consumers or out in graph_outputs)
        )
        layers.append(Layer(name, tuple(indices), outputs, tuple(reads)))
    node_inputs = tuple(tuple(node.input) for node in graph.node)
    return LayerGraph(tuple(layers), graph_inputs, graph_outputs, producer, node_inputs)


def _groups_from_table(graph: onnx.GraphProto, table: str) -> list[tuple[str, list[int]]]:
    names = [entry["name"] for entry in json.loads(table)]
    index_of = {name: i for i, name in enumerate(names)}
    groups: list[tuple[str, list[int]]] = [(name, []) for name in names]
    for index, node in enumerate(graph.node):
        layer = node.name.rsplit("/", 1)[0]
        if layer not in index_of:
            raise ValueError(f"node {node.name!r} belongs to no layer of the model's layer table")
        groups[index_of[layer]][1].append(index)
    return groups


def _groups_per_node(graph: onnx.GraphProto) -> list[tuple[str, list[int]]]:
    groups: list[tuple[str, list[int]]] = []
    seen: set[str] = {INPUT}
    for index, node in enumerate(graph.node):
        base = re.sub(r"[^A-Za-z0-9_.\-/]", "_", node.name) or f"{node.op_type.lower()}_{index}"
        name = base if base not in seen else f"{base}_{index}"
        seen.add(name)
        groups.append((name, [index]))
    return groups
