"""The placement scenario an evaluation replays: a model profile, three tiers, six links, a device class.

Zoo profiles are measured on the build machine (an x86 server core). A real device is slower: its tier's
figures are multiplied by the device class's `speed_factor` from the agent's own table
(`agents.device_classes`, derived from Framework-Tax measurements), exactly as the orchestrator scales the
`device` tier at plan time. Edge and cloud keep the profile's figures.

Power draw per class is a rough published-order figure (compute and radio), used only for the device-energy
column. Prices are dated list prices used for their ratios (../shared/data/prices): an edge box at
0.50 USD/h, a cloud instance at 3.00 USD/h, inter-region edge<->cloud traffic at 0.02 USD/GB and internet
egress from the cloud at 0.09 USD/GB.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEVICE_POWER_W",
    "DOWNLINKS",
    "UPLINKS",
    "LinkSetup",
    "build_scenario",
    "device_classes",
    "scale_tier",
]

DEVICE_POWER_W: dict[str, tuple[float, float]] = {
    "rpi4": (6.0, 1.0),
    "rpi4-noneon": (6.0, 1.0),
    "jetson-cpu": (7.0, 1.5),
    "jetson-gpu": (10.0, 1.5),
    "laptop": (25.0, 1.5),
    "x86": (65.0, 2.0),
    "server-gpu": (250.0, 2.0),
}
"""(power_w while computing, tx_power_w while sending) per device class; others get (5.0, 1.2)."""


def device_classes() -> dict[str, float]:
    """Device class name -> speed factor (device time / profiling machine time), the agent's table."""
    from agents.device_classes import DEVICE_CLASSES

    return {name: klass.speed_factor for name, klass in DEVICE_CLASSES.items()}


@dataclass(frozen=True)
class LinkSetup:
    """Fixed link parameters around the traced device links."""

    edge_rtt_ms: float = 10.0
    """Device <-> edge round trip."""
    cloud_rtt_ms: float = 50.0
    """Device <-> cloud round trip."""
    backbone_mbps: float = 1000.0
    """Edge <-> cloud bandwidth (not traced)."""
    nominal_mbps: float = 10.0
    """Placeholder bandwidth of the device links; replays replace it with the trace."""


def scale_tier(model: Mapping[str, Any], tier: str, factor: float) -> dict[str, Any]:
    """A copy of a `model` profile with every `latency_ms[tier]` (layers, segments, exits) times `factor`."""
    scaled = copy.deepcopy(dict(model))
    for key in ("layers", "segments", "exits"):
        for item in scaled.get(key, ()):
            latency = item.get("latency_ms")
            if latency and tier in latency:
                latency[tier] = float(latency[tier]) * factor
    return scaled


def build_scenario(
    model: Mapping[str, Any],
    device_class: str = "rpi4",
    links: LinkSetup | None = None,
) -> dict[str, Any]:
    """A `continuum.scenario/v1` document minimising latency for `model` on a device of `device_class`."""
    factors = device_classes()
    if device_class not in factors:
        raise ValueError(f"unknown device class {device_class!r}; choose one of {', '.join(factors)}")
    power_w, tx_power_w = DEVICE_POWER_W.get(device_class, (5.0, 1.2))
    setup = links or LinkSetup()
    scaled = scale_tier(model, "device", factors[device_class])
    backbone_rtt = max(setup.cloud_rtt_ms - setup.edge_rtt_ms, 1.0)
    return {
        "format": "continuum.scenario/v1",
        "model": scaled,
        "tiers": {
            "device": {"cost_per_hour": 0.0, "power_w": power_w, "tx_power_w": tx_power_w},
            "edge": {"cost_per_hour": 0.50},
            "cloud": {"cost_per_hour": 3.00},
        },
        "links": {
            "device->edge": {"bandwidth_mbps": setup.nominal_mbps, "rtt_ms": setup.edge_rtt_ms},
            "edge->device": {"bandwidth_mbps": setup.nominal_mbps, "rtt_ms": setup.edge_rtt_ms},
            "device->cloud": {"bandwidth_mbps": setup.nominal_mbps, "rtt_ms": setup.cloud_rtt_ms},
            "cloud->device": {
                "bandwidth_mbps": setup.nominal_mbps,
                "rtt_ms": setup.cloud_rtt_ms,
                "cost_per_gb": 0.09,
            },
            "edge->cloud": {
                "bandwidth_mbps": setup.backbone_mbps,
                "rtt_ms": backbone_rtt,
                "cost_per_gb": 0.02,
            },
            "cloud->edge": {
                "bandwidth_mbps": setup.backbone_mbps,
                "rtt_ms": backbone_rtt,
                "cost_per_gb": 0.02,
            },
        },
        "objective": {"minimize": "latency"},
    }


UPLINKS = ("device->edge", "device->cloud")
"""The links the uplink trace drives: the device's access link is the bottleneck of both paths."""
DOWNLINKS = ("edge->device", "cloud->device")
"""The links the downlink trace drives."""
