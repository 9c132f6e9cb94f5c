"""Shipped model profiles: the continuum.scenario/v1 `model` object of every zoo model, measured here.

The JSON files beside this module were written by `continuum profile MODEL --tier device --tier edge
--tier cloud=0.5 --segments ends --json` on the project's 2-core build machine (ONNX Runtime, one intra-op
thread). `device` and `edge` are that machine's measurements as they are (the orchestrator scales `device` by
each device's speed_factor at plan time; the demo's edge workers run on such a machine); `cloud` is the same
measurement times CLOUD_SCALE, a stated assumption (a cloud node twice as fast), not a measurement.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["CLOUD_SCALE", "SHIPPED_TIERS", "available", "load_profile"]

CLOUD_SCALE = 0.5
"""Factor applied to this machine's measurement for the `cloud` tier of the shipped profiles."""

SHIPPED_TIERS = {"device": 1.0, "edge": 1.0, "cloud": CLOUD_SCALE}
"""Tier name -> factor on the measured latency, as used to write the shipped profiles."""


def available() -> list[str]:
    """Names of the models with a shipped profile."""
    folder = resources.files(__name__)
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_profile(name: str) -> dict[str, Any]:
    """The shipped `model` object for zoo model `name` (a fresh dict each call)."""
    resource = resources.files(__name__).joinpath(f"{name}.json")
    if not resource.is_file():
        raise KeyError(
            f"no shipped profile for {name!r} (have {', '.join(available())}); "
            "measure one with `continuum profile`"
        )
    data: dict[str, Any] = json.loads(resource.read_text())
    return data
