"""What a device sends, decoded: its birth, its telemetry reports, its death, and the plans it holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Birth",
    "Capabilities",
    "Death",
    "DevicePlan",
    "Inbound",
    "LinkSample",
    "Power",
    "TelemetryReport",
]


@dataclass(frozen=True, slots=True)
class LinkSample:
    """One network path as last reported by the device."""

    rtt_ms: float
    uplink_mbps: float
    downlink_mbps: float
    loss: float
    link_type: str


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """A placement of one model on one device: sent in a PlanUpdate, and held by devices (in their birth)."""

    model: str
    version: int
    layers: tuple[str, ...]
    tiers: tuple[str, ...]
    predicted_latency_ms: float = 0.0
    predicted_cost_usd: float = 0.0
    predicted_energy_j: float = 0.0
    reason: str = ""
    fallback_ladder: tuple[str, ...] = ()
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class Power:
    """The device's power source as it reported it at birth."""

    has_battery: bool = False
    battery_percent: float = 0.0
    on_ac: bool = False


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The hardware a device reported at birth (shown to operators as sent)."""

    arch: str = ""
    cpu_count: int = 0
    memory_bytes: int = 0
    os: str = ""
    accelerators: tuple[str, ...] = ()
    execution_providers: tuple[str, ...] = ()
    power: Power | None = None
    """None when the device sent no power section (kept apart from an all-default one)."""
    device_class: str = ""
    speed_factor: float = 0.0


@dataclass(frozen=True, slots=True)
class Birth:
    """A device starting a session (bd_seq), with what it is and the plans it already holds."""

    bd_seq: int
    site: str = ""
    agent_version: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    models: tuple[str, ...] = ()
    plans: tuple[DevicePlan, ...] = ()


@dataclass(frozen=True, slots=True)
class TelemetryReport:
    """One telemetry interval of a device: its links, load, battery and measured inference latency."""

    bd_seq: int
    seq: int
    historical: bool = False
    links: Mapping[str, LinkSample] = field(default_factory=dict)
    """By target ("edge", "cloud"); a target sent twice keeps its last estimate."""
    link_changed: bool = False
    """Some link's change detector fired in this interval."""
    cpu_percent: float = 0.0
    battery_percent: float = 0.0
    on_ac: bool = False
    measured_p50_ms: Mapping[str, float] = field(default_factory=dict)
    """Median inference latency per model, for the models that ran in this interval."""


@dataclass(frozen=True, slots=True)
class Death:
    """A device's session ending (its last will, or a clean stop)."""

    bd_seq: int


@dataclass(frozen=True, slots=True)
class Inbound:
    """A decoded birth, telemetry or death of one device, with when it was received."""

    kind: Literal["birth", "state", "death"]
    fleet: str
    device: str
    message: Birth | TelemetryReport | Death
    received_s: float
    retained: bool = False
