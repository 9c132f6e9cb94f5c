"""Split execution equals unsplit execution, numerically, for every zoo model at several cuts (real ORT)."""

from __future__ import annotations

import numpy as np
import pytest

from continuum_inference import zoo
from continuum_inference.cutting import Cutter
from continuum_inference.runtime import SegmentRunner, example_inputs, session

pytestmark = pytest.mark.contract


def _cuts(names: list[str]) -> dict[str, list[str]]:
    n = len(names)
    third = n // 3
    rng = np.random.default_rng(7)
    return {
        "device_edge": ["device"] * third + ["edge"] * (n - third),
        "device_edge_cloud": ["device"] * third + ["edge"] * third + ["cloud"] * (n - 2 * third),
        "non_monotone": ["device"] * third + ["edge"] * third + ["device"] * (n - 2 * third),
        "starts_remote": ["edge"] * (n - 1) + ["cloud"],
        "random": [str(t) for t in rng.choice(["device", "edge", "cloud"], size=n)],
    }


@pytest.mark.parametrize("name", sorted(zoo.MODELS))
def test_split_execution_equals_unsplit_execution(name: str) -> None:
    model = zoo.build(name)
    inputs = example_inputs(model)
    reference = session(model).run(None, inputs)[0]
    runner = SegmentRunner(model)
    cuts = _cuts(runner.cutter.graph.names())
    if model.ByteSize() > 100_000_000:  # AlexNet, VGG16: three cuts keep the test within its time budget
        cuts = {name: cuts[name] for name in ("device_edge_cloud", "non_monotone", "random")}
    for cut, tiers in cuts.items():
        outputs = runner.run_plan(tiers, inputs)
        (result,) = outputs.values()
        assert np.allclose(result, reference, rtol=1e-4, atol=1e-4), f"{name} cut {cut} differs"


def test_skip_connection_crossing_a_cut_travels_with_the_request() -> None:
    cutter = Cutter(zoo.build("resnet18"))
    names = cutter.graph.names()
    cut_after = names.index("layer2.0.conv1")
    tiers = ["device"] * (cut_after + 1) + ["edge"] * (len(names) - cut_after - 1)
    first, _ = cutter.stages(tiers)
    assert len(first.forward) == 2, "the block input (skip) and conv1's output must both cross the cut"


def test_every_stage_of_a_random_plan_is_a_valid_standalone_model() -> None:
    import onnx

    cutter = Cutter(zoo.build("transformer"))
    for stage in cutter.stages(_cuts(cutter.graph.names())["random"]):
        onnx.checker.check_model(cutter.extract_stage(stage))
