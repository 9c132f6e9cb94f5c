"""The plan cache: the orchestrator's PlanUpdates per model, versioned, idempotent, kept on disk.

A plan is applied only when its version is newer than the one held (a repeat is a no-op, an older one is
ignored), and written to `<state_dir>/plans/<model>.pb` before it counts, so a reboot keeps it. With no
orchestrator the agent keeps running its last plan; `effective_tiers` walks the fallback ladder
(cloud -> edge -> device) when a planned tier is unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from google.protobuf.message import DecodeError

from agents.files import write_atomically
from protos.topics import validate_id
from protos.v1 import control_pb2 as pb

__all__ = ["DEFAULT_LADDER", "PlanOutcome", "PlanStore", "effective_tiers"]

DEFAULT_LADDER: tuple[str, ...] = ("cloud", "edge", "device")
PlanOutcome = Literal["applied", "duplicate", "stale"]


@dataclass
class PlanStore:
    """Plans by model, optionally persisted under `directory` (None keeps them in memory only)."""

    directory: Path | None = None

    def __post_init__(self) -> None:
        self._plans: dict[str, pb.PlanUpdate] = {}
        self.corrupt_files = 0
        if self.directory is not None and self.directory.is_dir():
            for path in sorted(self.directory.glob("*.pb")):
                plan = pb.PlanUpdate()
                try:
                    plan.ParseFromString(path.read_bytes())
                except (OSError, DecodeError):
                    self.corrupt_files += 1
                    continue
                self._plans[plan.model] = plan

    def apply(self, plan: pb.PlanUpdate) -> PlanOutcome:
        """Apply a validated PlanUpdate if it is newer than the held one; persist before returning.

        Raises InvalidId for a model name that is not a safe file name (decode_command refuses those).
        """
        validate_id(plan.model, "model name")
        held = self._plans.get(plan.model)
        if held is not None and plan.version < held.version:
            return "stale"
        if held is not None and plan.version == held.version:
            return "duplicate"
        if self.directory is not None:
            write_atomically(self.directory / f"{plan.model}.pb", plan.SerializeToString())
        copy = pb.PlanUpdate()
        copy.CopyFrom(plan)
        self._plans[plan.model] = copy
        return "applied"

    def get(self, model: str) -> pb.PlanUpdate | None:
        """The plan held for `model`, if any."""
        return self._plans.get(model)

    def plans(self) -> list[pb.PlanUpdate]:
        """Every plan held, by model name."""
        return [self._plans[model] for model in sorted(self._plans)]

    def models(self) -> list[str]:
        """Models with a plan."""
        return sorted(self._plans)

    @property
    def version(self) -> int:
        """The highest plan version held (0 with no plan): what telemetry reports as plan_version."""
        return max((p.version for p in self._plans.values()), default=0)


def effective_tiers(
    tiers: Iterable[str], reachable: Mapping[str, bool] | Iterable[str], ladder: Iterable[str] = ()
) -> tuple[str, ...]:
    """The tiers to run each layer on now: a planned tier that is unreachable falls down the ladder
    (default cloud -> edge -> device) to the first reachable tier below it; "device" is always reachable.
    """
    order = tuple(ladder) or DEFAULT_LADDER
    up = {t for t, ok in reachable.items() if ok} if isinstance(reachable, Mapping) else set(reachable)
    up.add("device")
    result: list[str] = []
    for tier in tiers:
        if tier in up:
            result.append(tier)
            continue
        below = order[order.index(tier) + 1 :] if tier in order else ()
        result.append(next((t for t in below if t in up), "device"))
    return tuple(result)
