"""Replanning of (device, model) pairs with the planner, vectorised per group of alike devices.

Devices whose scenario is the same apart from links (same model, speed factor, drain state and tier
queueing) form a group: one `plan_fleet` call gives every member's best plan, one `evaluate_fleet`
call prices every member's current plan under its new links. A candidate replaces the current plan
only when the hysteresis policy allows it on `confirmations` consecutive evaluations (so a one-interval
blip does not switch) - except when the current plan breaks the constraints (drain), which switches at
once. Pinned plans are re-priced but never replaced. Every non-trivial decision carries its reason.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from orchestrator.domain.messages import DevicePlan, LinkSample
from orchestrator.fleet.records import DeviceRecord, PlanState
from orchestrator.planner import Scenario, ScenarioError, evaluate, evaluate_fleet, parse_scenario, plan_fleet
from orchestrator.replanning.hysteresis import HysteresisPolicy
from orchestrator.replanning.replanner import PlanContext, ReplanDecision

__all__ = ["FleetReplanner"]

_LINK_OF = {  # telemetry target -> (uplink link, downlink link)
    "edge": ("device->edge", "edge->device"),
    "cloud": ("device->cloud", "cloud->device"),
}
_UNIFORM = {"device_only": "device", "edge_only": "edge", "cloud_only": "cloud"}
_GroupKey = tuple[str, float, str, float, float]


def _scale_device(section: dict[str, Any], factor: float) -> dict[str, Any]:
    model = copy.deepcopy(section)
    for key in ("layers", "segments", "exits"):
        for entry in model.get(key, []):
            latency = entry.get("latency_ms", {})
            if "device" in latency:
                latency["device"] = latency["device"] * factor
    return model


class FleetReplanner:
    """Keeps every (device, model) on its best plan, behind hysteresis."""

    def __init__(
        self,
        models: Mapping[str, Mapping[str, Any]],
        policy: HysteresisPolicy,
        confirmations: int = 2,
        link_change: float = 0.05,
        expiry_s: int = 300,
        objective: str = "latency",
    ) -> None:
        self._docs = {name: dict(doc) for name, doc in models.items()}
        self._policy = policy
        self._confirmations = max(1, confirmations)
        self._link_change = link_change
        self.expiry_s = expiry_s
        self._objective = objective
        self._scenarios: dict[_GroupKey, Scenario] = {}
        self.layers = {
            name: tuple(layer["name"] for layer in doc["model"]["layers"]) for name, doc in models.items()
        }

    def links_moved(self, planned: Mapping[str, LinkSample], now: Mapping[str, LinkSample]) -> bool:
        """True when any link's bandwidth or rtt moved by more than `link_change` since the last plan."""
        if planned.keys() != now.keys():
            return True
        for target, sample in now.items():
            old = planned[target]
            for a, b in (
                (old.uplink_mbps, sample.uplink_mbps),
                (old.downlink_mbps, sample.downlink_mbps),
                (old.rtt_ms, sample.rtt_ms),
            ):
                if abs(a - b) > self._link_change * max(abs(a), 1e-9):
                    return True
        return False

    def _scenario(self, key: _GroupKey) -> Scenario:
        found = self._scenarios.get(key)
        if found is not None:
            return found
        model, speed, mode, edge_queue, cloud_queue = key
        doc = copy.deepcopy(self._docs[model])
        doc["model"] = _scale_device(doc["model"], speed)
        doc["tiers"]["edge"]["queue_ms"] = edge_queue
        doc["tiers"]["cloud"]["queue_ms"] = cloud_queue
        if mode == "device":
            doc["constraints"] = {"tiers": ["device"]}
        elif mode == "no_edge":
            doc["constraints"] = {"tiers": ["device", "cloud"]}
        scenario = parse_scenario(doc)
        if len(self._scenarios) > 4096:
            self._scenarios.clear()
        self._scenarios[key] = scenario
        return scenario

    def _key(self, record: DeviceRecord, model: str, context: PlanContext) -> _GroupKey:
        mode = "device" if record.drained else "no_edge" if record.site in context.drained_sites else "all"
        edge_q = context.queue_ms.get(("edge", record.site), context.queue_ms.get(("edge", "default"), 0.0))
        cloud_q = next((v for (tier, _), v in context.queue_ms.items() if tier == "cloud"), 0.0)
        return (model, round(record.speed_factor, 2), mode, round(edge_q, 1), round(cloud_q, 1))

    def _models(self, record: DeviceRecord) -> list[str]:
        if record.models:
            return [m for m in record.models if m in self._docs]
        return list(self._docs)

    def replan(
        self, records: Sequence[DeviceRecord], context: PlanContext, now_s: float
    ) -> list[ReplanDecision]:
        """Plan every (device, model) of `records`; mutates their PlanState; returns the decisions."""
        groups: dict[_GroupKey, list[tuple[DeviceRecord, str]]] = {}
        for record in records:
            record.planned_links = dict(record.links)
            for model in self._models(record):
                groups.setdefault(self._key(record, model, context), []).append((record, model))
        decisions: list[ReplanDecision] = []
        for key, members in groups.items():
            decisions.extend(self._replan_group(self._scenario(key), key[2], members, now_s))
        return decisions

    def _arrays(
        self, scenario: Scenario, members: Sequence[tuple[DeviceRecord, str]]
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        bw: dict[str, np.ndarray] = {}
        rtt: dict[str, np.ndarray] = {}
        n = len(members)
        for target, (up, down) in _LINK_OF.items():
            if up not in scenario.links or down not in scenario.links:
                continue
            up_a = np.full(n, scenario.links[up].bandwidth_mbps)
            down_a = np.full(n, scenario.links[down].bandwidth_mbps)
            rtt_a = np.full(n, scenario.links[up].rtt_ms)
            for i, (record, _) in enumerate(members):
                sample = record.links.get(target)
                if sample is None:
                    continue
                up_a[i] = max(sample.uplink_mbps, 0.01) if sample.uplink_mbps > 0 else up_a[i]
                down_a[i] = max(sample.downlink_mbps, 0.01) if sample.downlink_mbps > 0 else down_a[i]
                rtt_a[i] = max(sample.rtt_ms, 0.0)
            bw[up], bw[down] = up_a, down_a
            rtt[up], rtt[down] = rtt_a, rtt_a.copy()
        return bw, rtt

    def _value(self, latency: float, cost: float, energy: float) -> float:
        return {"latency": latency, "cost": cost, "energy": energy}[self._objective]

    # Over 60 lines: the hysteresis ladder for one group (first plan, unchanged, infeasible, kept, pending,
    # switch) reads in order over the group's shared arrays.
    def _replan_group(
        self, scenario: Scenario, mode: str, members: Sequence[tuple[DeviceRecord, str]], now_s: float
    ) -> list[ReplanDecision]:
        bw, rtt = self._arrays(scenario, members)
        best = plan_fleet(scenario, bw, rtt)
        layers = scenario.layer_names
        width = len(layers)
        current_tiers = [
            r.plans[m].tiers if m in r.plans and len(r.plans[m].tiers) == width else best.tiers[i]
            for i, (r, m) in enumerate(members)
        ]
        current = evaluate_fleet(scenario, bw, rtt, current_tiers)
        uniform = {
            name: evaluate_fleet(scenario, bw, rtt, [(tier,) * width] * len(members))
            for name, tier in _UNIFORM.items()
        }
        decisions: list[ReplanDecision] = []
        for i, (record, model) in enumerate(members):
            plan = record.plans.setdefault(model, PlanState(layers=layers))
            plan.layers = layers
            plan.alternatives = {
                name: (float(u.latency_ms[i]), float(u.cost_usd[i]), float(u.device_energy_j[i]))
                if u.feasible[i]
                else None
                for name, u in uniform.items()
            }
            plan.alternative_tiers = {name: (tier,) * width for name, tier in _UNIFORM.items()}
            candidate = best.tiers[i]
            cand_value = self._value(
                float(best.latency_ms[i]), float(best.cost_usd[i]), float(best.device_energy_j[i])
            )
            if plan.pinned and len(plan.tiers) == width:
                self._figures(plan, current, i)
                continue
            if plan.version == 0 or len(plan.tiers) != width:
                reason = f"first plan: {self._objective} {cand_value:.4g} (best of all placements)"
                decisions.append(
                    self._switch(
                        record, model, plan, candidate, best, i, scenario, bw, rtt, reason, now_s, mode, True
                    )
                )
                continue
            if candidate == plan.tiers:
                plan.pending, plan.pending_count = None, 0
                self._figures(plan, current, i)
                continue
            cur_value = self._value(
                float(current.latency_ms[i]), float(current.cost_usd[i]), float(current.device_energy_j[i])
            )
            if not current.feasible[i]:
                reason = "the current plan breaks the constraints (drained device or site)"
                decisions.append(
                    self._switch(
                        record, model, plan, candidate, best, i, scenario, bw, rtt, reason, now_s, mode, True
                    )
                )
                continue
            verdict = self._policy.should_switch(cur_value, cand_value, now_s, plan.last_switch_s)
            self._figures(plan, current, i)
            if not verdict.switch:
                plan.pending, plan.pending_count = None, 0
                decisions.append(
                    ReplanDecision(
                        record, model, False, f"{model}: kept {_short(plan.tiers)}: {verdict.reason}", None
                    )
                )
                continue
            plan.pending_count = plan.pending_count + 1 if plan.pending == candidate else 1
            plan.pending = candidate
            if plan.pending_count < self._confirmations:
                decisions.append(
                    ReplanDecision(
                        record,
                        model,
                        False,
                        f"{model}: candidate {_short(candidate)} wins ({verdict.reason}); "
                        f"confirmation {plan.pending_count}/{self._confirmations}",
                        None,
                    )
                )
                continue
            decisions.append(
                self._switch(
                    record,
                    model,
                    plan,
                    candidate,
                    best,
                    i,
                    scenario,
                    bw,
                    rtt,
                    verdict.reason,
                    now_s,
                    mode,
                    False,
                )
            )
        return decisions

    @staticmethod
    def _figures(plan: PlanState, figures: Any, i: int) -> None:
        plan.latency_ms = float(figures.latency_ms[i])
        plan.cost_usd = float(figures.cost_usd[i])
        plan.energy_j = float(figures.device_energy_j[i])

    def _switch(
        self,
        record: DeviceRecord,
        model: str,
        plan: PlanState,
        tiers: tuple[str, ...],
        best: Any,
        i: int,
        scenario: Scenario,
        bw: Mapping[str, np.ndarray],
        rtt: Mapping[str, np.ndarray],
        reason: str,
        now_s: float,
        mode: str,
        first: bool,
    ) -> ReplanDecision:
        old = plan.tiers
        plan.tiers = tiers
        plan.version += 1
        plan.reason = reason
        plan.decided_ms = int(now_s * 1000)
        plan.pending, plan.pending_count = None, 0
        if not first or old:
            plan.last_switch_s = now_s
        self._figures(plan, best, i)
        self._remember_inputs(plan, scenario, bw, rtt, i)
        message = f"{model}: {_short(old) if old else 'none'} -> {_short(tiers)} (v{plan.version}): {reason}"
        return ReplanDecision(record, model, bool(old), message, self.update(plan, model, mode))

    @staticmethod
    def _remember_inputs(
        plan: PlanState,
        scenario: Scenario,
        bw: Mapping[str, np.ndarray],
        rtt: Mapping[str, np.ndarray],
        i: int,
    ) -> None:
        changes: dict[str, dict[str, float]] = {
            name: {"bandwidth_mbps": float(a[i])} for name, a in bw.items()
        }
        for name, a in rtt.items():
            changes.setdefault(name, {})["rtt_ms"] = float(a[i])
        plan.inputs = (scenario, changes)
        plan.compute_ms, plan.transfer_ms = {}, {}

    def explain(self, record: DeviceRecord) -> None:
        """Fill each plan's time breakdown (compute per tier, transfer per link) from its decision inputs.

        Done on demand (an operator looking), not on the decision path: it is the costly part.
        """
        for plan in record.plans.values():
            if plan.inputs is None or plan.compute_ms:
                continue
            scenario, changes = plan.inputs
            try:
                figures = evaluate(
                    scenario.with_links(changes), dict(zip(plan.layers, plan.tiers, strict=True))
                )
            except ScenarioError:
                continue
            plan.compute_ms = dict(figures.breakdown.get("compute_ms", {}))
            plan.transfer_ms = dict(figures.breakdown.get("transfer_ms", {}))

    @staticmethod
    def update(plan: PlanState, model: str, mode: str) -> DevicePlan:
        """The plan to send the device (a PlanUpdate's body) for a PlanState."""
        ladder = {"device": ("device",), "no_edge": ("cloud", "device")}.get(
            mode, ("cloud", "edge", "device")
        )
        return DevicePlan(
            model=model,
            version=plan.version,
            layers=plan.layers,
            tiers=plan.tiers,
            predicted_latency_ms=plan.latency_ms,
            predicted_cost_usd=plan.cost_usd,
            predicted_energy_j=plan.energy_j,
            reason=plan.reason,
            fallback_ladder=ladder,
            pinned=plan.pinned,
        )

    def pin(
        self, record: DeviceRecord, model: str, tiers: tuple[str, ...], pinned: bool
    ) -> tuple[str, str] | None:
        """Pin `tiers` (or the current plan when empty) for a model of a device, or unpin it."""
        if model not in self._docs:
            return ("not_found", f"no model {model!r}; known: {', '.join(sorted(self._docs))}")
        width = len(self.layers[model])
        plan = record.plans.get(model)
        if not pinned:
            if plan is None or not plan.pinned:
                return ("failed_precondition", f"{model} is not pinned on {record.session.device_id}")
            plan.pinned = False
            plan.version += 1
            plan.reason = "unpinned by an operator"
            record.planned_links = {}
            return None
        if tiers and len(tiers) != width:
            return (
                "invalid_argument",
                f"{model} has {width} layers; give {width} tiers (or none to pin the current plan)",
            )
        if plan is None or not plan.version:
            if not tiers:
                return (
                    "failed_precondition",
                    f"{model} has no plan on {record.session.device_id} yet; give --tiers",
                )
            plan = record.plans.setdefault(model, PlanState(layers=self.layers[model]))
        if tiers:
            plan.tiers = tiers
            plan.layers = self.layers[model]
        # A new version even when the tiers stay: the device must hear that its plan is now pinned,
        # and it ignores a PlanUpdate whose version it already holds.
        plan.version += 1
        plan.pinned = True
        plan.reason = "pinned by an operator"
        plan.pending, plan.pending_count = None, 0
        return None


@lru_cache(maxsize=4096)
def _short(tiers: tuple[str, ...]) -> str:
    """A compact form of a plan: runs of tiers, e.g. device*3+edge*5."""
    runs: list[tuple[str, int]] = []
    for tier in tiers:
        if runs and runs[-1][0] == tier:
            runs[-1] = (tier, runs[-1][1] + 1)
        else:
            runs.append((tier, 1))
    return "+".join(f"{t}*{n}" for t, n in runs)
