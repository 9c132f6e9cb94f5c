"""A small ONNX graph builder that groups nodes into named layers, so a plan can be mapped onto nodes.

Every node the builder emits is named ``<layer>/<op><k>`` and the model records its layer table in the
``continuum.layers`` metadata entry (see `continuum_inference.layers`). Weights come from one seeded numpy
RNG, so the same name always yields byte-identical models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["LAYERS_METADATA_KEY", "OPSET", "GraphBuilder"]

OPSET = 17
"""The ONNX opset every zoo model targets (LayerNormalization needs 17)."""

LAYERS_METADATA_KEY = "continuum.layers"
"""Model metadata key holding the JSON layer table: [{"name", "output", "inputs"}] in topological order."""


@dataclass
class _Layer:
    name: str
    output: str
    inputs: list[str]


@dataclass
class GraphBuilder:
    """Accumulates nodes, initializers and layers; `model()` returns the finished, checked ModelProto."""

    name: str
    seed: int
    input_name: str = "input"
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    layers: list[_Layer] = field(default_factory=list)
    _rng: np.random.Generator = field(init=False)
    _current: str = field(init=False, default="")
    _count: int = field(init=False, default=0)
    _producer: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def begin(self, layer: str) -> None:
        """Start a new layer: the nodes added until the next `begin` or `end` belong to it."""
        if any(existing.name == layer for existing in self.layers):
            raise ValueError(f"layer {layer!r} defined twice in {self.name}")
        self._current = layer
        self._count = 0

    def end(self, output: str) -> str:
        """Close the current layer; `output` is its single output tensor. Returns it for chaining."""
        layer_nodes = [n for n in self.nodes if n.name.startswith(self._current + "/")]
        produced = {out for node in layer_nodes for out in node.output}
        consumed: list[str] = []
        for node in layer_nodes:
            for tensor in node.input:
                if tensor and tensor not in produced and tensor not in consumed:
                    consumed.append(tensor)
        inputs: list[str] = []
        for tensor in consumed:
            source = self._producer.get(tensor)
            if source is None and tensor == self.input_name:
                source = "input"
            if source is not None and source not in inputs:
                inputs.append(source)
        self.layers.append(_Layer(self._current, output, inputs))
        self._producer[output] = self._current
        return output

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        """Append one node of the current layer; returns the name of its (single) output tensor."""
        if not self._current:
            raise ValueError("call begin(layer) before adding nodes")
        self._count += 1
        node_name = f"{self._current}/{op_type.lower()}{self._count}"
        output = node_name
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=node_name, **attrs))
        return output

    def weight(self, shape: tuple[int, ...], fan_in: int, gain: float = 2.0) -> str:
        """A new He-initialised float32 initializer of `shape`; returns its name."""
        std = float(np.sqrt(gain / max(fan_in, 1)))
        data = self._rng.standard_normal(shape, dtype=np.float32)
        data *= np.float32(std)
        return self.constant(data)

    def bias(self, size: int, scale: float = 0.01) -> str:
        """A small random bias vector."""
        return self.constant((self._rng.standard_normal(size) * scale).astype(np.float32))

    def constant(self, data: np.ndarray) -> str:
        """Register `data` as an initializer named after the current layer; returns its name."""
        name = f"{self._current}/w{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(data, name))
        return name

    def conv(
        self, x: str, c_in: int, c_out: int, k: int, stride: int = 1, pad: int = 0, group: int = 1
    ) -> str:
        """A Conv node with He-initialised weights and a bias (batch norm assumed folded in)."""
        w = self.weight((c_out, c_in // group, k, k), fan_in=(c_in // group) * k * k)
        b = self.bias(c_out)
        return self.op(
            "Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group
        )

    def gemm(self, x: str, n_in: int, n_out: int) -> str:
        """A fully connected layer y = x W^T + b."""
        w = self.weight((n_out, n_in), fan_in=n_in)
        b = self.bias(n_out)
        return self.op("Gemm", [x, w, b], transB=1)

    def model(
        self, input_shape: list[int], output: str, input_type: int = TensorProto.FLOAT
    ) -> onnx.ModelProto:
        """Finish the graph: declare input/output, attach the layer table, check it and infer shapes.

        Checking and shape inference run on a skeleton whose large weights are typed graph inputs, so the
        hundreds of megabytes of AlexNet/VGG weights are not serialized again just to infer shapes.
        """
        request = helper.make_tensor_value_info(self.input_name, input_type, input_shape)
        small = [init for init in self.initializers if init.ByteSize() <= 4096]
        large = [
            helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
            for init in self.initializers
            if init.ByteSize() > 4096
        ]
        skeleton = self._wrap(
            helper.make_graph(
                self.nodes,
                self.name,
                [request, *large],
                [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
                initializer=small,
            )
        )
        inferred = onnx.shape_inference.infer_shapes(skeleton, strict_mode=True)
        typed = {info.name: info for info in [*inferred.graph.value_info, *inferred.graph.output]}
        if not typed[output].type.tensor_type.HasField("shape"):
            raise ValueError(f"{self.name}: shape inference could not type the output {output!r}")
        inferred.graph.output[0].CopyFrom(typed[output])
        onnx.checker.check_model(inferred)
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [request],
            [typed[output]],
            initializer=self.initializers,
            value_info=[info for info in inferred.graph.value_info if info.name != output],
        )
        return self._wrap(graph)

    def _wrap(self, graph: onnx.GraphProto) -> onnx.ModelProto:
        model = helper.make_model(
            graph,
            producer_name="continuum.inference.zoo",
            opset_imports=[helper.make_opsetid("", OPSET)],
        )
        model.ir_version = 8
        table = [{"name": la.name, "output": la.output, "inputs": la.inputs} for la in self.layers]
        helper.set_model_props(model, {LAYERS_METADATA_KEY: json.dumps(table)})
        return model
