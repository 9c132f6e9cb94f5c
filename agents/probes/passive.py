"""Passive measurements from real inference requests: the data plane reports, the probes learn.

`observe_inference(result, monitor, recorder, now_s)` takes a finished request (the shape of
`agents.dataplane.InferenceResult`, as a Protocol so the probes do not depend on the data plane) and
(1) counts it with its latency for telemetry, (2) turns each device-stage transfer (bytes sent to the next
tier and the time it took) into an uplink bandwidth sample for that tier's link, unless the data plane
already sampled that transfer in flight (the result's `sampled` tiers; `sample_sink(monitor)` is where
those in-flight samples go, as `DeviceInference.on_sample`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Protocol

from agents.probes.network import LinkMonitor
from agents.probes.sampling import PassiveSample
from agents.probes.system import InferenceRecorder

__all__ = ["observe_inference", "sample_sink"]


class _Segment(Protocol):
    @property
    def tier(self) -> str: ...

    @property
    def transfer_ms(self) -> float: ...

    @property
    def bytes_out(self) -> int: ...


class _Result(Protocol):
    @property
    def model(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    @property
    def latency_ms(self) -> float: ...

    @property
    def segments(self) -> Sequence[_Segment]: ...


def observe_inference(
    result: _Result, monitor: LinkMonitor, recorder: InferenceRecorder, now_s: float
) -> None:
    """Record one finished request and learn the uplink from its device-stage transfers."""
    recorder.record(
        result.model,
        result.latency_ms,
        fallback=result.outcome == "fallback",
        error=result.outcome in ("error", "lost"),
    )
    sampled = frozenset(getattr(result, "sampled", ()))
    for here, onward in itertools.pairwise(result.segments):
        if onward.tier in sampled:
            continue
        if here.tier == "device" and onward.tier != "device" and here.transfer_ms > 0 and here.bytes_out > 0:
            monitor.ensure(onward.tier)
            monitor.observe_transfer(onward.tier, here.bytes_out, here.transfer_ms / 1000.0, "up", now_s)


def sample_sink(monitor: LinkMonitor) -> Callable[[str, PassiveSample], None]:
    """A `DeviceInference.on_sample` that feeds in-flight uplink samples into `monitor`'s estimators."""

    def sink(tier: str, sample: PassiveSample) -> None:
        monitor.ensure(tier)
        monitor.observe_transfer(tier, sample.nbytes, sample.seconds, "up", sample.at_s)

    return sink
