"""What a fleet shard keeps per device, and the values a shard hands back to the control loop."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from orchestrator.domain.commands import Command
from orchestrator.domain.messages import Capabilities, LinkSample
from orchestrator.fleet.sessions import Session

__all__ = ["DeviceRecord", "EventRecord", "Outbound", "PlanState", "ShardOutput"]


@dataclass(slots=True)
class PlanState:
    """The current placement of one model on one device, and the candidate waiting to replace it."""

    layers: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    version: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    energy_j: float = 0.0
    reason: str = ""
    decided_ms: int = 0
    last_switch_s: float | None = None
    pinned: bool = False
    pending: tuple[str, ...] | None = None
    pending_count: int = 0
    compute_ms: dict[str, float] = field(default_factory=dict)
    transfer_ms: dict[str, float] = field(default_factory=dict)
    alternatives: dict[str, tuple[float, float, float] | None] = field(default_factory=dict)
    alternative_tiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    measured_latency_ms: float = 0.0
    inputs: tuple[Any, dict[str, dict[str, float]]] | None = None
    """(scenario, link values) the plan was decided with, to explain it on demand."""


@dataclass(slots=True)
class DeviceRecord:
    """A shard's whole knowledge of one device: its session, what it reported, and its plans."""

    session: Session
    site: str = ""
    agent_version: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    speed_factor: float = 1.0
    models: tuple[str, ...] = ()
    links: dict[str, LinkSample] = field(default_factory=dict)
    planned_links: dict[str, LinkSample] = field(default_factory=dict)
    battery_percent: float = -1.0
    cpu_percent: float = 0.0
    uplink_history: deque[float] = field(default_factory=lambda: deque(maxlen=60))
    rtt_history: deque[float] = field(default_factory=lambda: deque(maxlen=60))
    drained: bool = False
    plans: dict[str, PlanState] = field(default_factory=dict)
    revision: int = 0
    next_command: int = 0


@dataclass(frozen=True, slots=True)
class Outbound:
    """A command to publish on a device's cmd topic (`received_s`: the input that caused it, if any).

    It stays a domain value until the control loop publishes it (`orchestrator.mqtt.encoding`)."""

    topic: str
    command: Command
    kind: str
    received_s: float | None = None
    expiry_s: int | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One entry for the event log."""

    unix_ms: int
    kind: str
    device_id: str
    message: str


@dataclass(slots=True)
class ShardOutput:
    """Everything one shard call produced: commands to publish, events to log, counters to add."""

    commands: list[Outbound] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    replans: int = 0
    switches: int = 0

    def count(self, outcome: str, n: int = 1) -> None:
        """Add `n` to the counter of `outcome`."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n

    def merge(self, other: ShardOutput) -> None:
        """Fold another output into this one."""
        self.commands.extend(other.commands)
        self.events.extend(other.events)
        for key, value in other.outcomes.items():
            self.count(key, value)
        self.replans += other.replans
        self.switches += other.switches
