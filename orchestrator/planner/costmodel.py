"""The cost model of SCENARIO.md, once: what a plan uses (usage) and what that costs (pricing).

A plan's *usage* is a vector over a fixed basis: expected compute milliseconds per tier, expected entries
into each tier (for the opt-in `queue_ms`), and expected messages and bytes on each directed link (relays
already expanded into their hops). Every figure the planner reports is `usage @ pricing`: latency, cost and
device energy are linear in usage, and usage does not depend on link speeds or prices. That is why one
structure (a chain graph, a MILP) built once can be re-priced cheaply for new links or for a whole fleet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "BASIS",
    "COST",
    "ENERGY",
    "LATENCY",
    "LINKS",
    "OBJECTIVES",
    "TIERS",
    "LinkSpec",
    "TierSpec",
    "bytes_index",
    "compute_index",
    "entries_index",
    "link_name",
    "msgs_index",
    "pricing",
    "route",
]

FloatArray = npt.NDArray[np.float64]

TIERS: tuple[str, ...] = ("device", "edge", "cloud")
LINKS: tuple[str, ...] = (
    "device->edge",
    "edge->device",
    "edge->cloud",
    "cloud->edge",
    "device->cloud",
    "cloud->device",
)
BASIS = 3 + 3 + 6 + 6
LATENCY, COST, ENERGY = 0, 1, 2
OBJECTIVES: dict[str, int] = {"latency": LATENCY, "cost": COST, "energy": ENERGY}


def link_name(src: str, dst: str) -> str:
    """The directed link's name, e.g. `device->edge`."""
    return f"{src}->{dst}"


def compute_index(tier: int) -> int:
    """Basis index of expected compute milliseconds on `tier`."""
    return tier


def entries_index(tier: int) -> int:
    """Basis index of the expected number of times a request's path enters `tier` (a run starts there)."""
    return 3 + tier


def msgs_index(link: int) -> int:
    """Basis index of expected messages on `link` (each pays rtt/2)."""
    return 6 + link


def bytes_index(link: int) -> int:
    """Basis index of expected bytes on `link`."""
    return 12 + link


@dataclass(frozen=True)
class TierSpec:
    """A tier's prices: USD per hour of compute, device draw while computing and sending, queueing delay."""

    cost_per_hour: float = 0.0
    power_w: float = 0.0
    tx_power_w: float = 0.0
    queue_ms: float = 0.0


@dataclass(frozen=True)
class LinkSpec:
    """A directed link: bandwidth in Mbit/s, round-trip time in ms, USD per GB sent."""

    bandwidth_mbps: float
    rtt_ms: float
    cost_per_gb: float = 0.0


def route(src: int, dst: int, present: frozenset[str]) -> tuple[int, ...] | None:
    """Hop links (indices into LINKS) that carry data from tier `src` to `dst`; None when unreachable.

    A direct link wins; otherwise device<->cloud relays through the edge (SCENARIO.md).
    """
    if src == dst:
        return ()
    direct = link_name(TIERS[src], TIERS[dst])
    if direct in present:
        return (LINKS.index(direct),)
    if 1 in (src, dst):
        return None
    first, second = link_name(TIERS[src], "edge"), link_name("edge", TIERS[dst])
    if first in present and second in present:
        return (LINKS.index(first), LINKS.index(second))
    return None


def pricing(tiers: Mapping[str, TierSpec], links: Mapping[str, LinkSpec]) -> FloatArray:
    """The (BASIS, 3) matrix that turns usage into (latency_ms, cost_usd, device_energy_j)."""
    price = np.zeros((BASIS, 3))
    device = tiers.get("device", TierSpec())
    for t, name in enumerate(TIERS):
        spec = tiers.get(name, TierSpec())
        price[compute_index(t)] = (
            1.0,
            spec.cost_per_hour / 3.6e6,
            device.power_w / 1000.0 if t == 0 else 0.0,
        )
        price[entries_index(t), LATENCY] = spec.queue_ms
    for k, name in enumerate(LINKS):
        link = links.get(name)
        if link is None:
            continue
        tx_w = device.tx_power_w / 1000.0 if name.startswith("device->") else 0.0
        per_msg = link.rtt_ms / 2.0
        per_byte = 8.0 / (link.bandwidth_mbps * 1000.0)
        price[msgs_index(k)] = (per_msg, 0.0, tx_w * per_msg)
        price[bytes_index(k)] = (per_byte, link.cost_per_gb / 1e9, tx_w * per_byte)
    return price
