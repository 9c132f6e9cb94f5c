"""Layers map plans onto nodes; stages carry exactly the tensors later stages need."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from continuum_inference.cutting import InvalidPlan, plan_stages
from continuum_inference.layers import INPUT, layer_graph
from continuum_inference.zoo.builder import GraphBuilder


def _diamond() -> onnx.ModelProto:
    """a -> (b, c) -> d: a tiny DAG whose middle layers both read `a`."""
    g = GraphBuilder("diamond", seed=1)
    g.begin("a")
    a = g.end(g.op("Relu", [g.input_name]))
    g.begin("b")
    b = g.end(g.op("Neg", [a]))
    g.begin("c")
    c = g.end(g.op("Abs", [a]))
    g.begin("d")
    d = g.end(g.op("Add", [b, c]))
    return g.model([1, 4], d)


def test_zoo_layer_table_gives_layers_in_order_with_their_inputs() -> None:
    graph = layer_graph(_diamond())
    assert graph.names() == ["a", "b", "c", "d"]
    assert graph.by_name("a").inputs == (INPUT,)
    assert graph.by_name("d").inputs == ("b", "c")
    assert not graph.is_chain()


def test_a_user_model_without_layer_table_gets_one_layer_per_node() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    nodes = [helper.make_node("Relu", ["x"], ["h"]), helper.make_node("Neg", ["h"], ["y"], name="negate")]
    model = helper.make_model(helper.make_graph(nodes, "user", [x], [y]))
    graph = layer_graph(model)
    assert graph.names() == ["relu_0", "negate"]
    assert graph.is_chain()


def test_stage_forward_keeps_a_tensor_until_its_last_reader() -> None:
    graph = layer_graph(_diamond())
    first, second, third = plan_stages(graph, ["device", "edge", "device", "device"])
    assert first.forward == ("a/relu1",)
    assert second.inputs == ("a/relu1",)
    assert set(second.forward) == {"a/relu1", "b/neg1"}, "c on the next stage still needs a"
    assert third.tier == "device"
    assert third.forward == graph.graph_outputs


def test_consecutive_layers_on_one_tier_form_one_stage() -> None:
    graph = layer_graph(_diamond())
    stages = plan_stages(graph, {"a": "edge", "b": "edge", "c": "cloud", "d": "cloud"})
    assert [(s.tier, s.layers) for s in stages] == [("edge", ("a", "b")), ("cloud", ("c", "d"))]


def test_a_plan_for_another_model_is_refused_with_the_offending_layers() -> None:
    graph = layer_graph(_diamond())
    with pytest.raises(InvalidPlan, match="unknown layers"):
        plan_stages(graph, {"a": "edge", "z": "edge"})
    with pytest.raises(InvalidPlan, match="3 tiers"):
        plan_stages(graph, ["edge"] * 3)


def test_builder_weights_are_deterministic() -> None:
    first = _diamond().SerializeToString()
    assert first == _diamond().SerializeToString()
    g = GraphBuilder("w", seed=3)
    g.begin("x")
    name = g.weight((4, 4), fan_in=4)
    assert np.isfinite(onnx.numpy_helper.to_array(g.initializers[0])).all()
    assert name.startswith("x/")
