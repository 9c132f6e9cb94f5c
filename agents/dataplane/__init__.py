"""The device side of split inference: run the device's stages, call the gateways, fall back, measure.

`DeviceInference` serves requests; `ladder` and `corrections` are its pure policies.
"""

from __future__ import annotations

from agents.dataplane.corrections import Drift, ProfileCorrections
from agents.dataplane.device import DeviceInference, InferenceResult, Outcome
from agents.dataplane.ladder import Rung, ladder, placement
from agents.dataplane.loop import request_loop

__all__ = [
    "DeviceInference",
    "Drift",
    "InferenceResult",
    "Outcome",
    "ProfileCorrections",
    "Rung",
    "ladder",
    "placement",
    "request_loop",
]
