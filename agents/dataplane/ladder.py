"""The fallback ladder (pure): which paths to try, in order, so that no request is lost.

planned -> edge-direct (every remote layer on the edge) -> cloud-direct (every remote layer on the cloud,
sent straight from the device) -> device-only. Rungs identical to an earlier one are dropped, and rungs that
need a tier already seen failing for this request are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Rung", "RungName", "ladder", "placement", "usable"]

RungName = Literal["planned", "edge_direct", "cloud_direct", "device_only"]


@dataclass(frozen=True)
class Rung:
    """One path to try: a name and the tier of every layer."""

    name: RungName
    tiers: tuple[str, ...]

    @property
    def remote_tiers(self) -> frozenset[str]:
        """Tiers other than the device that this path uses."""
        return frozenset(self.tiers) - {"device"}


def ladder(tiers: Sequence[str]) -> tuple[Rung, ...]:
    """The rungs for a plan (tiers in layer order), best first, without duplicates."""
    planned = tuple(tiers)
    candidates = [
        Rung("planned", planned),
        Rung("edge_direct", tuple(t if t == "device" else "edge" for t in planned)),
        Rung("cloud_direct", tuple(t if t == "device" else "cloud" for t in planned)),
        Rung("device_only", tuple("device" for _ in planned)),
    ]
    rungs: list[Rung] = []
    for rung in candidates:
        if all(rung.tiers != seen.tiers for seen in rungs):
            rungs.append(rung)
    return tuple(rungs)


def usable(rung: Rung, failed_tiers: Iterable[str]) -> bool:
    """Whether a rung avoids every tier that already failed for this request."""
    return not (rung.remote_tiers & set(failed_tiers))


def placement(tiers: Sequence[str]) -> str:
    """The tiers a path computes on, in order, joined by '+': 'device+edge+cloud', 'edge', 'device'."""
    order: list[str] = []
    for tier in tiers:
        if not order or order[-1] != tier:
            order.append(tier)
    return "+".join(order)
