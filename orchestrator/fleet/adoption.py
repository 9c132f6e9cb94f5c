"""What a device reports in its birth, taken into the orchestrator's picture of it.

A birth names the device's capabilities and the plans it holds. The held plans matter after an
orchestrator restart or a takeover: numbering continues above what the device runs, so its next PlanUpdate
is never ignored as old. A held plan older than the one this orchestrator has numbered since is not the
device's last word, though: the birth may have been published just before that plan arrived (two rebirth
requests answered in a row, a retained birth handed out again), or the newer plan never reached the device
(a standby numbers plans it does not send). Either way the orchestrator keeps its plan and sends it again:
a device that has it ignores the repeat, one that does not applies it. Rewinding to the birth's tiers
instead would show a plan the device does not run, under a version it does.
"""

from __future__ import annotations

from orchestrator.domain.messages import Birth, DevicePlan
from orchestrator.fleet.records import DeviceRecord, PlanState

__all__ = ["adopt_birth"]


def adopt_birth(record: DeviceRecord, birth: Birth) -> list[str]:
    """Take `birth` into `record`; returns the models whose newer plan should be sent again."""
    record.site = birth.site
    record.agent_version = birth.agent_version
    record.capabilities = birth.capabilities
    speed = birth.capabilities.speed_factor
    record.speed_factor = speed if speed > 0 else 1.0
    power = birth.capabilities.power
    record.battery_percent = power.battery_percent if power is not None and power.has_battery else -1.0
    record.models = birth.models
    record.planned_links = {}
    return [held.model for held in birth.plans if _adopt_held_plan(record, held)]


def _adopt_held_plan(record: DeviceRecord, held: DevicePlan) -> bool:
    """Continue from a plan the device holds; True when ours is newer and differs (send it again)."""
    if not held.model or len(held.layers) != len(held.tiers):
        return False
    plan = record.plans.get(held.model)
    if plan is not None and plan.version >= held.version and plan.tiers == held.tiers:
        return False
    if plan is not None and plan.version > held.version:
        return True
    if plan is None:
        plan = record.plans[held.model] = PlanState()
    # Same version, other tiers (two orchestrators numbered independently), or a newer one: what the
    # device runs wins, and numbering continues above both.
    plan.version = max(plan.version, held.version)
    plan.layers, plan.tiers = held.layers, held.tiers
    plan.latency_ms = held.predicted_latency_ms
    plan.cost_usd = held.predicted_cost_usd
    plan.energy_j = held.predicted_energy_j
    plan.reason = f"held by the device: {held.reason}" if held.reason else "held by the device"
    plan.pinned = held.pinned
    plan.pending, plan.pending_count = None, 0
    return False
