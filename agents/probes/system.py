"""Host load for telemetry (CPU, memory, temperature, battery) and per-model inference statistics."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field

import psutil

from agents.probes.capabilities import read_power
from agents.probes.estimators import latency_quantiles
from protos.v1 import control_pb2 as pb

__all__ = ["InferenceRecorder", "SystemSampler"]


class SystemSampler:
    """Reads CPU (since the previous call), memory, the hottest sensor and the power supply."""

    def __init__(self) -> None:
        psutil.cpu_percent(None)

    def fill(self, telemetry: pb.Telemetry) -> None:
        """Set cpu_percent, memory_percent, temperature_c, battery_percent and on_ac."""
        telemetry.cpu_percent = psutil.cpu_percent(None)
        telemetry.memory_percent = psutil.virtual_memory().percent
        telemetry.temperature_c = self.temperature_c()
        power = read_power()
        telemetry.battery_percent = power.battery_percent
        telemetry.on_ac = power.on_ac

    @staticmethod
    def temperature_c() -> float:
        """The hottest sensor reading, 0.0 where the OS exposes none."""
        readings: list[float] = []
        with contextlib.suppress(AttributeError, OSError):
            for entries in psutil.sensors_temperatures().values():
                readings.extend(e.current for e in entries if e.current)
        return max(readings, default=0.0)


@dataclass
class _ModelStats:
    latencies_ms: list[float] = field(default_factory=list)
    count: int = 0
    fallbacks: int = 0
    errors: int = 0


class InferenceRecorder:
    """Collects inference outcomes between two telemetry messages (the data plane calls `record`)."""

    def __init__(self) -> None:
        self._stats: defaultdict[str, _ModelStats] = defaultdict(_ModelStats)

    def record(self, model: str, latency_ms: float, *, fallback: bool = False, error: bool = False) -> None:
        """One finished (or failed) inference."""
        stats = self._stats[model]
        stats.count += 1
        stats.fallbacks += int(fallback)
        stats.errors += int(error)
        if not error:
            stats.latencies_ms.append(latency_ms)

    def fill(self, telemetry: pb.Telemetry) -> None:
        """Write and reset the per-model statistics."""
        stats, self._stats = self._stats, defaultdict(_ModelStats)
        for model, s in stats.items():
            q = latency_quantiles(s.latencies_ms)
            telemetry.inference[model].CopyFrom(
                pb.InferenceStats(
                    count=s.count,
                    fallbacks=s.fallbacks,
                    errors=s.errors,
                    p50_ms=q.p50_ms,
                    p95_ms=q.p95_ms,
                    p99_ms=q.p99_ms,
                )
            )
