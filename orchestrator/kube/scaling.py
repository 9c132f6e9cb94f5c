"""Scaling tier workers: how many replicas each RayCluster worker group needs, and the patch that sets them.

The policy is pure (`desired_replicas`, `fit_budget`): replicas follow demand at a target utilisation, clamped
to the group's bounds, then trimmed (most expensive first) to an hourly budget. The patch is a JSON merge
patch (RFC 7386) of the RayCluster: merge patches replace lists whole, so it carries every worker group with
only `replicas` changed, and the resourceVersion it was computed from, so a concurrent edit yields 409.
Set `enableInTreeAutoscaling: false` on a RayCluster the orchestrator scales (the chart does).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.kube.errors import Conflict
from orchestrator.kube.sites import SITE_LABEL, TIER_LABEL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerGroup:
    """One `spec.workerGroupSpecs[]` entry of a RayCluster, with its Continuum tier and site."""

    name: str
    tier: str
    site: str
    replicas: int
    min_replicas: int
    max_replicas: int

    @classmethod
    def from_wire(cls, spec: Mapping[str, Any]) -> WorkerGroup:
        """Parse a worker group spec; tier and site come from the Ray `labels` start parameter."""
        labels = parse_ray_labels(str((spec.get("rayStartParams") or {}).get("labels", "")))
        replicas = int(spec.get("replicas", 0))
        return cls(
            name=str(spec["groupName"]),
            tier=labels.get(TIER_LABEL, ""),
            site=labels.get(SITE_LABEL, labels.get(TIER_LABEL, "")),
            replicas=replicas,
            min_replicas=int(spec.get("minReplicas", 0)),
            max_replicas=int(spec.get("maxReplicas", max(replicas, 2**31 - 1))),
        )


def parse_ray_labels(text: str) -> dict[str, str]:
    """Ray's `--labels` value, "k1=v1,k2=v2", as a dict."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def worker_groups(raycluster: Mapping[str, Any]) -> tuple[WorkerGroup, ...]:
    """Every worker group of a RayCluster JSON object, in spec order."""
    return tuple(
        WorkerGroup.from_wire(g) for g in (raycluster.get("spec") or {}).get("workerGroupSpecs") or []
    )


def desired_replicas(
    demand_rps: float,
    capacity_rps: float,
    *,
    min_replicas: int,
    max_replicas: int,
    target_utilisation: float = 0.7,
) -> int:
    """Replicas that serve `demand_rps` with each replica at most `target_utilisation` busy, within bounds."""
    if capacity_rps <= 0 or not 0 < target_utilisation <= 1:
        raise ValueError("capacity_rps must be > 0 and target_utilisation in (0, 1]")
    needed = math.ceil(max(demand_rps, 0.0) / (capacity_rps * target_utilisation))
    return max(min_replicas, min(max_replicas, needed))


def fit_budget(
    targets: Mapping[str, int],
    price_per_replica_hour: Mapping[str, float],
    budget_per_hour: float,
    min_replicas: Mapping[str, int],
) -> dict[str, int]:
    """Trim replicas, one at a time from the most expensive group above its minimum, until within budget.

    Minimums are never cut (they are what the operator declared essential), so the result may still exceed a
    budget smaller than the minimums' cost.
    """
    result = dict(targets)

    def cost() -> float:
        return sum(result[g] * price_per_replica_hour.get(g, 0.0) for g in result)

    while cost() > budget_per_hour:
        cuttable = [
            g for g in result if result[g] > min_replicas.get(g, 0) and price_per_replica_hour.get(g, 0) > 0
        ]
        if not cuttable:
            break
        priciest = max(cuttable, key=lambda g: (price_per_replica_hour[g], g))
        result[priciest] -= 1
    return result


def scaling_patch(raycluster: Mapping[str, Any], targets: Mapping[str, int]) -> dict[str, Any]:
    """The merge patch setting each named group's replicas (clamped to its bounds); others unchanged."""
    specs = copy.deepcopy(list((raycluster.get("spec") or {}).get("workerGroupSpecs") or []))
    known = {str(spec.get("groupName")) for spec in specs}
    unknown = sorted(set(targets) - known)
    if unknown:
        raise ValueError(
            f"RayCluster {raycluster.get('metadata', {}).get('name')!r} has no worker group "
            f"{', '.join(unknown)}; its groups are {', '.join(sorted(known)) or 'none'} "
            "(add them under ray.workerGroups in the chart)"
        )
    for spec in specs:
        group = WorkerGroup.from_wire(spec)
        if group.name in targets:
            spec["replicas"] = max(group.min_replicas, min(group.max_replicas, int(targets[group.name])))
    metadata = raycluster.get("metadata") or {}
    return {
        "metadata": {"resourceVersion": metadata.get("resourceVersion")},
        "spec": {"workerGroupSpecs": specs},
    }


class RayClusterApi(Protocol):
    """The two RayCluster calls scaling makes (`KubeClient` provides them)."""

    def get_raycluster(self, namespace: str, name: str) -> dict[str, Any]: ...
    def patch_raycluster(self, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]: ...


class RayClusterScaler:
    """Sets worker-group replicas on one RayCluster: read, patch conditionally, re-read and retry on 409."""

    def __init__(self, api: RayClusterApi, namespace: str, name: str, attempts: int = 3) -> None:
        self.api, self.namespace, self.name, self.attempts = api, namespace, name, attempts

    def groups(self) -> tuple[WorkerGroup, ...]:
        """The cluster's worker groups as they are now."""
        return worker_groups(self.api.get_raycluster(self.namespace, self.name))

    def scale(self, targets: Mapping[str, int]) -> dict[str, int]:
        """Apply `targets` (group -> replicas); returns every group's replicas afterwards (blocking I/O)."""
        for attempt in range(1, self.attempts + 1):
            current = self.api.get_raycluster(self.namespace, self.name)
            patch = scaling_patch(current, targets)
            before = {g.name: g.replicas for g in worker_groups(current)}
            after = {g.name: g.replicas for g in worker_groups({"spec": patch["spec"]})}
            if after == before:
                return after
            try:
                stored = self.api.patch_raycluster(self.namespace, self.name, patch)
            except Conflict:
                log.info("RayCluster %s changed while scaling (attempt %d); re-reading", self.name, attempt)
                continue
            return {g.name: g.replicas for g in worker_groups(stored)}
        raise Conflict(
            f"RayCluster {self.name} kept changing during {self.attempts} scaling attempts; "
            "is another controller (the KubeRay autoscaler?) also scaling it?"
        )
