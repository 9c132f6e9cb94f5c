"""Simulated devices for the demo and benchmarks: a DeviceInference with EMULATED link and speed.

The inference is real (ONNX Runtime here, gateways and Ray workers over gRPC); what is emulated is the
device's uplink (a token bucket following a bandwidth trace, plus RTTs) and its slowness relative to this
machine (`emulated_slowdown`). Devices of one model share one SegmentRunner (sessions are thread-safe).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from agents.dataplane.device import DeviceInference
from continuum_inference import zoo
from continuum_inference.linkemu import EmulatedLink
from continuum_inference.profiles import load_profile
from continuum_inference.runtime import SegmentRunner

__all__ = ["DEFAULT_RTT_MS", "shared_runner", "simulated_device"]

DEFAULT_RTT_MS = {"edge": 10.0, "cloud": 40.0}
"""RTT from a simulated device to each tier's gateway."""


@functools.lru_cache(maxsize=8)
def shared_runner(model: str) -> SegmentRunner:
    """One runner per model for all simulated devices of this process."""
    return SegmentRunner(zoo.build(model))


def simulated_device(
    model: str,
    gateways: Mapping[str, str],
    uplink_mbps: Callable[[float], float],
    slowdown: float = 1.0,
    rtt_ms: Mapping[str, float] = DEFAULT_RTT_MS,
    site: str = "",
) -> DeviceInference:
    """A device of `model` whose uplink follows `uplink_mbps(seconds since creation)`, e.g. `Trace.mbps_at`.

    Its predictions use the shipped profile with the device figures times `slowdown`.
    """
    links = {tier: EmulatedLink.following(uplink_mbps, rtt) for tier, rtt in rtt_ms.items()}
    try:
        profile: dict[str, Any] | None = load_profile(model)
    except KeyError:
        profile = None
    if profile is not None:
        for layer in profile["layers"]:
            if "device" in layer["latency_ms"]:
                layer["latency_ms"]["device"] *= slowdown
    return DeviceInference(
        model,
        shared_runner(model),
        gateways,
        links=links,
        emulated_slowdown=slowdown,
        profile=profile,
        site=site,
    )
