"""The body of a tier worker: one model's stages on one tier and site, run with ONNX Runtime.

A plain class, so it is testable without Ray; `workers.py` turns it into a long-lived Ray actor.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from continuum_inference import zoo
from continuum_inference.cutting import Stage
from continuum_inference.profiling import profile_model
from continuum_inference.runtime import SegmentRunner

__all__ = ["StageOutput", "TierWorker"]

StageOutput = tuple[dict[str, np.ndarray], float]
"""(tensors to carry on, compute milliseconds)."""


class TierWorker:
    """Runs any stage of `model` that a plan puts on this worker's tier."""

    def __init__(self, model: str, tier: str, site: str, threads: int = 1) -> None:
        self.model = model
        self.tier = tier
        self.site = site
        self._runner = SegmentRunner(zoo.build(model), threads=threads)
        self._plans: dict[tuple[str, ...], tuple[Stage, ...]] = {}
        self._lock = threading.Lock()
        self._in_flight = 0

    def ready(self) -> dict[str, Any]:
        """Identity of the worker once its model is loaded (the pool waits on this)."""
        return {"model": self.model, "tier": self.tier, "site": self.site}

    def stage(self, tiers: tuple[str, ...], index: int) -> Stage:
        """Stage `index` of the plan `tiers`; ValueError when it is not this worker's tier."""
        with self._lock:
            stages = self._plans.get(tiers)
            if stages is None:
                stages = self._runner.cutter.stages(list(tiers))
                self._plans[tiers] = stages
                if len(self._plans) > 256:
                    self._plans.pop(next(iter(self._plans)))
        if not 0 <= index < len(stages):
            raise ValueError(f"plan has {len(stages)} stages, no stage {index}")
        stage = stages[index]
        if stage.tier != self.tier:
            raise ValueError(f"stage {index} runs on {stage.tier}, this worker serves {self.tier}")
        return stage

    def run_stage(self, tiers: tuple[str, ...], index: int, tensors: dict[str, np.ndarray]) -> StageOutput:
        """Run stage `index` of the plan on `tensors`; returns the tensors to forward and the compute time."""
        stage = self.stage(tiers, index)
        with self._lock:
            self._in_flight += 1
        try:
            result = self._runner.run_stage(stage, tensors)
        finally:
            with self._lock:
                self._in_flight -= 1
        return result.tensors, result.compute_ms

    def in_flight(self) -> int:
        """Stages running right now on this worker (its own view of its load)."""
        return self._in_flight

    def profile(self, runs: int = 3) -> dict[str, Any]:
        """Profile the model on this worker's host; latencies under this worker's tier name."""
        return profile_model(zoo.build(self.model), self.model, {self.tier: 1.0}, runs=runs, segments="none")
