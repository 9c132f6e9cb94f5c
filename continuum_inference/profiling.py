"""The profiler: measures a model's layers and contiguous segments with ONNX Runtime on this machine.

It produces a continuum.scenario/v1 `model` object: per layer the output size and the median latency,
`inputs` for DAG models, and for chains the measured latency of contiguous segments (partition-wise profiles
are more accurate than layer sums). Latencies are written under the requested tier names, each multiplied by
its stated scale factor (1.0 = exactly what was measured here).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import onnx

from continuum_inference.layers import INPUT
from continuum_inference.runtime import SegmentRunner, example_inputs

__all__ = ["SegmentChoice", "profile_model", "segment_spans"]

SegmentChoice = Literal["none", "ends", "all"]
"""Which contiguous segments to measure: none, prefixes and suffixes (the runs a device|edge|cloud split
produces at either end), or every contiguous run (n(n+1)/2 of them)."""


def segment_spans(n_layers: int, choice: SegmentChoice) -> list[tuple[int, int]]:
    """The (first, last) layer index spans, of two layers or more, that `choice` asks to measure."""
    if choice == "none" or n_layers < 2:
        return []
    if choice == "all":
        return [(i, j) for i in range(n_layers) for j in range(i + 1, n_layers)]
    spans = {(0, j) for j in range(1, n_layers)} | {(i, n_layers - 1) for i in range(0, n_layers - 1)}
    return sorted(spans)


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def _measure_layers(
    runner: SegmentRunner,
    inputs: Mapping[str, np.ndarray],
    runs: int,
    name: str,
    progress: Callable[[str], None] | None,
) -> tuple[list[list[float]], list[int]]:
    """Every layer's time over `runs` passes (after one warm-up pass) and its output size."""
    layers = runner.cutter.graph.layers
    layer_ms: list[list[float]] = [[] for _ in layers]
    output_bytes = [0] * len(layers)
    for run in range(runs + 1):
        carried: dict[str, np.ndarray] = dict(inputs)
        for i, layer in enumerate(layers):
            produced, elapsed = runner.run_layers([layer.name], carried, layer.outputs)
            carried.update(produced)
            if run > 0:
                layer_ms[i].append(elapsed)
            output_bytes[i] = sum(int(a.nbytes) for a in produced.values())
        if progress:
            progress(f"{name}: layer pass {run}/{runs}")
    return layer_ms, output_bytes


def profile_model(
    model: onnx.ModelProto,
    name: str,
    tiers: Mapping[str, float],
    runs: int = 5,
    segments: SegmentChoice = "ends",
    threads: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure `model` and return its scenario `model` object.

    `tiers` maps each tier name to write to the factor applied to this machine's measurement.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    runner = SegmentRunner(model, threads=threads, cache_size=4)
    graph = runner.cutter.graph
    inputs = example_inputs(model)
    layer_ms, output_bytes = _measure_layers(runner, inputs, runs, name, progress)
    chain = graph.is_chain()
    layers_out: list[dict[str, Any]] = []
    for i, layer in enumerate(graph.layers):
        entry: dict[str, Any] = {
            "name": layer.name,
            "output_bytes": output_bytes[i],
            "latency_ms": _scaled(statistics.median(layer_ms[i]), tiers),
        }
        if not chain:
            entry["inputs"] = list(layer.inputs)
        layers_out.append(entry)
    result: dict[str, Any] = {
        "name": name,
        "input_bytes": sum(int(a.nbytes) for a in inputs.values()),
        "layers": layers_out,
    }
    if chain:
        spans = segment_spans(len(graph.layers), segments)
        result["segments"] = [
            {
                "first": graph.layers[first].name,
                "last": graph.layers[last].name,
                "latency_ms": _scaled(
                    _segment_ms(runner, graph.names()[first : last + 1], inputs, runs), tiers
                ),
            }
            for first, last in spans
        ]
        if progress and spans:
            progress(f"{name}: {len(spans)} segments measured")
    return result


def _segment_ms(
    runner: SegmentRunner, layers: Sequence[str], inputs: Mapping[str, np.ndarray], runs: int
) -> float:
    """Median latency of running `layers` as one session, fed with the real activations they read."""
    graph = runner.cutter.graph
    carried: dict[str, np.ndarray] = dict(inputs)
    first = graph.by_name(layers[0])
    if first.inputs != (INPUT,):
        before = graph.names()[: graph.names().index(layers[0])]
        carried.update(runner.run_layers(before, carried, graph.by_name(before[-1]).outputs)[0])
    outputs = graph.by_name(layers[-1]).outputs
    timings = [runner.run_layers(layers, carried, outputs)[1] for _ in range(runs + 1)][1:]
    return statistics.median(timings)


def _scaled(ms: float, tiers: Mapping[str, float]) -> dict[str, float]:
    return {tier: _round(ms * factor) for tier, factor in tiers.items()}
