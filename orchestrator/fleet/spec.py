"""How to build a fleet shard, as a picklable value (it travels to Ray actors), and the builder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.fleet.sessions import SessionPolicy
from orchestrator.fleet.shard import FleetShard

__all__ = ["ShardSpec", "build_shard"]


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """Everything a shard needs: session bounds, history length, and the replanning inputs."""

    policy: SessionPolicy = field(default_factory=SessionPolicy)
    history: int = 60
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Model name -> base continuum.scenario/v1 document (tiers and links from config)."""
    relative: float = 0.1
    absolute: float = 2.0
    min_dwell_s: float = 2.0
    confirmations: int = 2
    link_change: float = 0.05
    expiry_s: int = 300
    objective: str = "latency"


def build_shard(spec: ShardSpec) -> FleetShard:
    """A shard with a replanner when models are configured (and the planner is importable)."""
    replanner = None
    if spec.models:
        from orchestrator.replanning.fleet_replanner import FleetReplanner
        from orchestrator.replanning.hysteresis import HysteresisPolicy

        replanner = FleetReplanner(
            spec.models,
            HysteresisPolicy(spec.relative, spec.absolute, spec.min_dwell_s),
            confirmations=spec.confirmations,
            link_change=spec.link_change,
            expiry_s=spec.expiry_s,
            objective=spec.objective,
        )
    return FleetShard(spec.policy, replanner, spec.history)
