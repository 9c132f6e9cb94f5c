"""The production planner, asked the questions a replay needs; nothing here plans by itself.

`Placement` wraps `orchestrator.planner` for one scenario: the best plan at given device-link bandwidths
(`plan`), the cost model's prediction for a given plan (`evaluate`), and whole grids at once (`plan_fleet`,
for the oracle's candidate set). The uplink figure drives both device->edge and device->cloud, the downlink
figure both edge->device and cloud->device, as the traces do in the replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from continuum_evaluation.paths import Tiers
from continuum_evaluation.scenario import DOWNLINKS, UPLINKS

__all__ = ["Placement"]


class Placement:
    """One scenario's planner queries, by device-link bandwidth (Mbps)."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        from orchestrator import planner

        self._planner = planner
        self.doc = doc
        self.scenario = planner.parse_scenario(doc)
        self.layers: list[str] = [str(layer["name"]) for layer in doc["model"]["layers"]]
        self._rtt = {name: float(spec.get("rtt_ms", 0.0)) for name, spec in doc["links"].items()}

    def _links(self, up_mbps: float, down_mbps: float) -> dict[str, dict[str, float]]:
        links = {name: {"bandwidth_mbps": up_mbps, "rtt_ms": self._rtt[name]} for name in UPLINKS}
        links.update({name: {"bandwidth_mbps": down_mbps, "rtt_ms": self._rtt[name]} for name in DOWNLINKS})
        return links

    def tiers_of(self, assignment: Mapping[str, str]) -> Tiers:
        """A plan's assignment as tiers in layer order."""
        return tuple(assignment[name] for name in self.layers)

    def best(self, up_mbps: float, down_mbps: float) -> tuple[Tiers, float]:
        """The planner's plan and its predicted latency (ms) at these bandwidths."""
        chosen = self._planner.plan(self.scenario.with_links(self._links(up_mbps, down_mbps)))
        return self.tiers_of(chosen.assignment), float(chosen.latency_ms)

    def predict(self, tiers: Tiers, up_mbps: float, down_mbps: float) -> float:
        """The cost model's latency (ms) of plan `tiers` at these bandwidths."""
        scenario = self.scenario.with_links(self._links(up_mbps, down_mbps))
        figures = self._planner.evaluate(scenario, dict(zip(self.layers, tiers, strict=True)))
        return float(figures.latency_ms)

    def best_over(self, up_mbps: npt.ArrayLike, down_mbps: npt.ArrayLike) -> list[Tiers]:
        """The planner's plans for many bandwidth pairs at once (the vectorised fleet planner)."""
        up = np.asarray(up_mbps, dtype=np.float64)
        down = np.broadcast_to(np.asarray(down_mbps, dtype=np.float64), up.shape)
        bandwidth = {name: up for name in UPLINKS}
        bandwidth.update({name: np.asarray(down) for name in DOWNLINKS})
        rtt = {name: np.full(up.shape, self._rtt[name]) for name in (*UPLINKS, *DOWNLINKS)}
        fleet = self._planner.plan_fleet(self.scenario, bandwidth, rtt)
        feasible = np.asarray(fleet.feasible, dtype=bool)
        return [tuple(t) for t, ok in zip(fleet.tiers, feasible, strict=True) if ok]

    def single_tier(self, tier: str) -> Tiers | None:
        """Everything on `tier`, or None when some layer cannot run there."""
        layers: Sequence[Mapping[str, Any]] = self.doc["model"]["layers"]
        if all(tier in layer["latency_ms"] for layer in layers):
            return (tier,) * len(layers)
        return None
