"""The model zoo: real architectures as ONNX graphs with deterministic weights, built here, never downloaded.

`build(name)` returns a fresh ModelProto for a zoo name, or loads any user `.onnx` file when given a path.
Every zoo model carries its layer table (see `continuum_inference.layers`), so planner layer names map onto
node sets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import onnx

from continuum_inference.zoo.cnn import VGG16_INPUT, alexnet, mobilenetv2, resnet18, vgg16
from continuum_inference.zoo.transformer import transformer

__all__ = ["MODELS", "VGG16_INPUT", "UnknownModel", "build", "build_bytes"]

MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "mobilenetv2": mobilenetv2,
    "transformer": transformer,
}
"""Zoo builders by name."""


class UnknownModel(ValueError):
    """The name is neither a zoo model nor an existing .onnx file."""


def build(name: str) -> onnx.ModelProto:
    """The ONNX model called `name` (a zoo name) or stored at path `name` (ends with .onnx).

    Returns a fresh copy each call, so callers may modify it.
    """
    model = onnx.ModelProto()
    model.ParseFromString(build_bytes(name))
    return model


@functools.lru_cache(maxsize=8)
def build_bytes(name: str) -> bytes:
    """The serialized model (cached per process: building the larger zoo models takes about a second)."""
    if name in MODELS:
        return MODELS[name]().SerializeToString()
    path = Path(name)
    if path.suffix == ".onnx" and path.is_file():
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
        return onnx.shape_inference.infer_shapes(model).SerializeToString()
    known = ", ".join(sorted(MODELS))
    raise UnknownModel(f"unknown model {name!r}: use one of {known}, or a path to an existing .onnx file")
