"""The ONNX Runtime runner: executes stages of one model, one cached session per stage.

This module owns onnxruntime. The device agent, tier workers and the profiler all run model parts through
it, so a stage computes the same numbers wherever it runs.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort

from continuum_inference.cutting import Cutter, Stage

__all__ = ["SegmentRunner", "StageResult", "example_inputs", "session"]


def session(model: onnx.ModelProto | bytes, threads: int = 1) -> ort.InferenceSession:
    """A CPU inference session with `threads` intra-op threads (1 keeps tiers sharing a host predictable)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    data = model if isinstance(model, bytes) else model.SerializeToString()
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


def example_inputs(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """A deterministic request input for `model`: standard normal floats, or small token ids for integers."""
    rng = np.random.default_rng(seed)
    initializers = {init.name for init in model.graph.initializer}
    feeds: dict[str, np.ndarray] = {}
    for info in model.graph.input:
        if info.name in initializers:
            continue
        tensor_type = info.type.tensor_type
        shape = [
            d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tensor_type.shape.dim
        ]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        if np.issubdtype(dtype, np.integer):
            feeds[info.name] = rng.integers(0, 100, size=shape).astype(dtype)
        else:
            feeds[info.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


@dataclass(frozen=True)
class StageResult:
    """The tensors to carry on after a stage, and how long its computation took."""

    tensors: dict[str, np.ndarray]
    compute_ms: float


class SegmentRunner:
    """Runs any stage (or layer run) of one model; sessions are built on first use and kept (LRU)."""

    def __init__(self, model: onnx.ModelProto, threads: int = 1, cache_size: int = 32) -> None:
        self.cutter = Cutter(model)
        self.threads = threads
        self._cache_size = cache_size
        self._sessions: OrderedDict[tuple[tuple[str, ...], tuple[str, ...]], ort.InferenceSession] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def session_for(self, layers: Sequence[str], outputs: Sequence[str]) -> ort.InferenceSession:
        """The (cached) session computing `outputs` from the layers `layers`; safe to call from threads."""
        key = (tuple(layers), tuple(outputs))
        with self._lock:
            found = self._sessions.get(key)
            if found is not None:
                self._sessions.move_to_end(key)
                return found
            built = self._build(layers, outputs)
            self._sessions[key] = built
            if len(self._sessions) > self._cache_size:
                self._sessions.popitem(last=False)
            return built

    def _build(self, layers: Sequence[str], outputs: Sequence[str]) -> ort.InferenceSession:
        graph = self.cutter.graph
        produced = {t for name in layers for t in graph.by_name(name).outputs}
        inputs = sorted(
            {
                t
                for name in layers
                for i in graph.by_name(name).nodes
                for t in graph.node_inputs[i]
                if t in graph.producer and graph.producer[t] not in layers and t not in produced
            }
        )
        return session(self.cutter.extract(layers, inputs, outputs), self.threads)

    def run_layers(
        self, layers: Sequence[str], tensors: Mapping[str, np.ndarray], outputs: Sequence[str]
    ) -> tuple[dict[str, np.ndarray], float]:
        """Run `layers` on the tensors they read; returns `outputs` and the compute time in ms."""
        sess = self.session_for(layers, outputs)
        feeds = {i.name: tensors[i.name] for i in sess.get_inputs()}
        start = time.perf_counter()
        values = sess.run(list(outputs), feeds)
        elapsed = (time.perf_counter() - start) * 1000.0
        return {name: np.asarray(v) for name, v in zip(outputs, values, strict=True)}, elapsed

    def run_stage(self, stage: Stage, carried: Mapping[str, np.ndarray]) -> StageResult:
        """Run `stage` on the carried tensors; returns what must travel on (`stage.forward`)."""
        missing = [t for t in stage.inputs if t not in carried]
        if missing:
            raise KeyError(f"stage {stage.index} ({stage.tier}) is missing input tensors {missing}")
        produced, elapsed = self.run_layers(stage.layers, carried, stage.outputs)
        merged = {**carried, **produced}
        return StageResult({t: merged[t] for t in stage.forward}, elapsed)

    def run_plan(
        self, assignment: Mapping[str, str] | Sequence[str], inputs: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Run every stage of a plan here, in order; returns the model's outputs. For tests and fallbacks."""
        carried = dict(inputs)
        for stage in self.cutter.stages(assignment):
            carried = self.run_stage(stage, carried).tensors
        return {name: carried[name] for name in self.cutter.graph.graph_outputs}
