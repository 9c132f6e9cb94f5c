"""What the orchestrator tells a device: a plan, a rebirth request or a drain, with the command's identity."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.domain.messages import DevicePlan

__all__ = ["Command", "CommandBody", "Drain", "Rebirth"]


@dataclass(frozen=True, slots=True)
class Rebirth:
    """Ask the device to publish its birth again."""

    reason: str


@dataclass(frozen=True, slots=True)
class Drain:
    """Drain the device (it runs everything locally) or undrain it."""

    drained: bool


CommandBody = DevicePlan | Rebirth | Drain


@dataclass(frozen=True, slots=True)
class Command:
    """One command for a device's cmd topic; encoded to bytes only when published."""

    command_id: str
    issued_ms: int
    body: CommandBody
