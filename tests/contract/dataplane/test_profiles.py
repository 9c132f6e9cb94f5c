"""Profiles: `continuum profile` prints a valid scenario model; shipped profiles match the zoo's layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from continuum_cli.main import main
from continuum_inference import zoo
from continuum_inference.layers import layer_graph
from continuum_inference.profiles import available, load_profile
from orchestrator.planner import parse_scenario

pytestmark = pytest.mark.contract


def _scenario(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "continuum.scenario/v1",
        "model": model,
        "tiers": {"device": {}, "edge": {"cost_per_hour": 0.5}, "cloud": {"cost_per_hour": 3.0}},
        "links": {
            "device->edge": {"bandwidth_mbps": 20.0, "rtt_ms": 8.0},
            "edge->device": {"bandwidth_mbps": 20.0, "rtt_ms": 8.0},
            "edge->cloud": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
            "cloud->edge": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
        },
        "objective": {"minimize": "latency"},
    }


def test_profile_command_prints_a_model_object_the_planner_accepts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["profile", "resnet18", "--tier", "edge", "--runs", "1", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert model["name"] == "resnet18"
    assert [layer["name"] for layer in model["layers"]] == layer_graph(zoo.build("resnet18")).names()
    assert all(set(layer["latency_ms"]) == {"edge"} for layer in model["layers"])
    assert model["layers"][0]["output_bytes"] == 64 * 112 * 112 * 4
    parse_scenario(_scenario(model))


def test_profile_of_a_chain_measures_contiguous_segments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "mobilenetv2", "--runs", "1", "--segments", "ends", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    n = len(model["layers"])
    assert len(model["segments"]) == 2 * (n - 1) - 1
    assert "inputs" not in model["layers"][0]


def test_an_unknown_model_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "lenet9000"]) == 2
    assert "use one of alexnet" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(zoo.MODELS))
def test_shipped_profile_matches_the_zoo_model_and_parses(name: str) -> None:
    assert name in available()
    profile = load_profile(name)
    graph = layer_graph(zoo.build(name))
    assert [layer["name"] for layer in profile["layers"]] == graph.names()
    for layer in profile["layers"]:
        assert set(layer["latency_ms"]) == {"device", "edge", "cloud"}
        if "inputs" in layer:
            assert tuple(layer["inputs"]) == graph.by_name(layer["name"]).inputs
    parse_scenario(_scenario(profile))


def test_a_user_onnx_file_is_profiled_and_split_by_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from continuum_inference.runtime import SegmentRunner, example_inputs, session

    weight = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
        helper.make_node("Relu", ["h"], ["r"], name="act"),
        helper.make_node("Add", ["r", "x"], ["y"], name="skip"),
    ]
    graph = helper.make_graph(
        nodes, "user", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])], initializer=[weight],
    )  # fmt: skip
    path = tmp_path / "user.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))

    assert main(["profile", str(path), "--runs", "1", "--json"]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert [layer["name"] for layer in profile["layers"]] == ["proj", "act", "skip"]
    assert profile["layers"][2]["inputs"] == ["act", "input"]

    model = zoo.build(str(path))
    inputs = example_inputs(model)
    expected = session(model).run(None, inputs)[0]
    (result,) = SegmentRunner(model).run_plan(["device", "edge", "device"], inputs).values()
    assert np.allclose(result, expected)
