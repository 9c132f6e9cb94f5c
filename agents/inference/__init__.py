"""The device side of split inference: run the device's stages, call the gateways, fall back, measure.

`DeviceInference` serves requests; `ladder` and `corrections` are its pure policies.
"""

from __future__ import annotations

from agents.inference.corrections import Drift, ProfileCorrections
from agents.inference.device import DeviceInference, InferenceResult, Outcome
from agents.inference.ladder import Rung, ladder, placement
from agents.inference.loop import request_loop

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
