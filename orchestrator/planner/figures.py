"""What a plan costs: `Figures` (latency, money, device energy, breakdown) priced from usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrator.planner.costmodel import (
    COST,
    ENERGY,
    LATENCY,
    LINKS,
    TIERS,
    bytes_index,
    compute_index,
    entries_index,
    msgs_index,
    pricing,
)

__all__ = ["Figures", "price"]


@dataclass(frozen=True)
class Figures:
    """The cost model's expected values for one assignment, with where the time goes.

    `breakdown` has `compute_ms` per tier (layers, segments and exit branches), `transfer_ms` per link used,
    and `queue_ms` per tier when any tier sets the opt-in `queue_ms`; its parts sum to `latency_ms`.
    `violations` names the scenario constraints (pins, tiers, limits) the assignment breaks; empty if none.
    """

    latency_ms: float
    cost_usd: float
    device_energy_j: float
    breakdown: Mapping[str, Mapping[str, float]]
    violations: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        """True when the assignment meets every constraint of its scenario."""
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict (as in a plan's `alternatives`)."""
        return {
            "latency_ms": self.latency_ms,
            "cost_usd": self.cost_usd,
            "device_energy_j": self.device_energy_j,
        }


def price(
    usage: npt.NDArray[np.float64],
    tiers: Mapping[str, Any],
    links: Mapping[str, Any],
    violations: tuple[str, ...] = (),
) -> Figures:
    """Figures of a usage vector under the scenario's tier and link prices."""
    matrix = pricing(tiers, links)
    total = usage @ matrix
    compute = {tier: float(usage[compute_index(t)]) for t, tier in enumerate(TIERS)}
    transfer: dict[str, float] = {}
    for k, name in enumerate(LINKS):
        ms = (
            usage[msgs_index(k)] * matrix[msgs_index(k), LATENCY]
            + usage[bytes_index(k)] * matrix[bytes_index(k), LATENCY]
        )
        if usage[msgs_index(k)] > 0 or usage[bytes_index(k)] > 0:
            transfer[name] = float(ms)
    breakdown: dict[str, Mapping[str, float]] = {"compute_ms": compute, "transfer_ms": transfer}
    if any(getattr(spec, "queue_ms", 0.0) > 0 for spec in tiers.values()):
        breakdown["queue_ms"] = {
            tier: float(usage[entries_index(t)] * matrix[entries_index(t), LATENCY])
            for t, tier in enumerate(TIERS)
        }
    return Figures(float(total[LATENCY]), float(total[COST]), float(total[ENERGY]), breakdown, violations)
