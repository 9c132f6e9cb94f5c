"""The agent's settings: one pydantic-settings root with small typed groups.

Sources, highest priority first: explicit overrides (the CLI flags), `CONTINUUM_` environment variables
(nested with `__`, e.g. `CONTINUUM_BROKER__PORT=8883`), the TOML file (`/etc/continuum/agent.toml` unless
`--config` names another), then the defaults below.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from protos.topics import InvalidId, validate_id

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "AgentSettings",
    "BrokerSettings",
    "BufferSettings",
    "IdentitySettings",
    "ProbeSettings",
    "TelemetrySettings",
    "TlsSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("/etc/continuum/agent.toml")


def _hostname_id() -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._:-]", "-", socket.gethostname()).lstrip("._:-")
    return cleaned[:128] or "device"


class _Group(BaseModel):
    """A settings group: unknown keys are errors, attribute docstrings become field descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class TlsSettings(_Group):
    """TLS towards the broker."""

    enabled: bool = False
    """Connect with TLS (usually port 8883)."""
    ca_file: Path | None = None
    """CA certificate (PEM) that signed the broker's certificate; None uses the system store."""
    cert_file: Path | None = None
    """Client certificate (PEM) for mutual TLS; needs key_file."""
    key_file: Path | None = None
    """Private key (PEM) of the client certificate."""
    check_hostname: bool = True
    """Verify that the broker's certificate names the host we connect to."""


class BrokerSettings(_Group):
    """Where the MQTT broker is and how to talk to it."""

    host: str = "localhost"
    """Broker host name or address."""
    port: int = Field(default=1883, ge=1, le=65535)
    """Broker TCP port."""
    keepalive_s: int = Field(default=30, ge=5, le=65535)
    """MQTT keepalive: the broker declares us dead (and publishes the last will) after 1.5x this."""
    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    """MQTT version: "auto" tries 5 and falls back to 3.1.1 when the broker refuses it."""
    username: str | None = None
    """Username for broker authentication."""
    password: SecretStr | None = None
    """Password for broker authentication."""
    session_expiry_s: int = Field(default=3600, ge=0)
    """MQTT 5 session expiry: how long the broker keeps our subscriptions and queued commands."""
    reconnect_min_s: float = Field(default=0.5, gt=0)
    """First reconnect delay; doubles on every failure (with jitter)."""
    reconnect_max_s: float = Field(default=30.0, gt=0)
    """Longest reconnect delay."""
    connect_timeout_s: float = Field(default=10.0, gt=0)
    """How long one connection attempt (TCP, TLS and CONNACK) may take."""
    max_command_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Commands larger than this are rejected as oversized (counted, never decoded): a broker without
    max_packet_size forwards anything. 1 MiB; a plan for any zoo model is under 1 KiB."""
    tls: TlsSettings = Field(default_factory=TlsSettings)
    """TLS settings."""


class IdentitySettings(_Group):
    """Who this device is."""

    fleet: str = "default"
    """Fleet id (a topic level: letters, digits, '.', '_', ':' and '-')."""
    device_id: str = Field(default_factory=_hostname_id)
    """Device id; defaults to the host name."""
    site: str = ""
    """Edge site the device is attached to."""
    device_class: str = ""
    """Device class ("rpi4", "jetson-gpu", "laptop", "x86", ...); empty detects it."""
    speed_factor: float | None = None
    """Compute time relative to the reference profile; None takes the device class's figure."""

    @field_validator("fleet", "device_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return validate_id(value)
        except InvalidId as exc:
            raise ValueError(str(exc)) from exc


class TelemetrySettings(_Group):
    """What the agent publishes and how often."""

    interval_s: float = Field(default=1.0, gt=0)
    """Seconds between telemetry messages. 1 s: the orchestrator's reaction time is about two reports
    (confirmations), and cellular uplinks change faster than 5 s reports follow (docs/evaluation.md)."""


class BufferSettings(_Group):
    """Store and forward while the broker is unreachable."""

    max_messages: int = Field(default=10_000, ge=1)
    """Most buffered telemetry messages; when full the oldest is dropped (and counted)."""
    ttl_s: float = Field(default=24 * 3600.0, gt=0)
    """Buffered messages older than this are expired (and counted) instead of replayed."""
    replay_batch: int = Field(default=50, ge=1)
    """How many historical messages may await their PUBACK at once during replay."""


class ProbeSettings(_Group):
    """Network probes."""

    targets: dict[str, str] = {}
    """Probe targets by name ("edge", "cloud") as host:port; RTT is a TCP connect to each."""
    timeout_s: float = Field(default=2.0, gt=0)
    """A TCP connect slower than this counts as a lost probe."""
    active_bytes: int = Field(default=64 * 1024, ge=0, le=4 * 1024 * 1024)
    """Bytes of one active uplink probe (a QoS 1 publish timed to its PUBACK); 0 disables it. It runs only
    while the uplink saw no passive sample since the last report (an idle path)."""
    active_interval_s: float = Field(default=1.0, gt=0)
    """At most one active probe per this many seconds (the rate limit; agents.probes.sampling.ProbeSchedule).
    1 s, the telemetry interval: an idle uplink is probed once per report (64 KiB/s while idle)."""
    broker_target: str = "edge"
    """The target (tier) where the broker runs: the active probe measures the uplink to it."""


class AgentSettings(BaseSettings):
    """Everything the agent needs; see the module docstring for where values come from."""

    model_config = SettingsConfigDict(
        env_prefix="CONTINUUM_", env_nested_delimiter="__", extra="forbid", use_attribute_docstrings=True
    )

    state_dir: Path = Path("/var/lib/continuum-agent")
    """Where bdSeq, the plan cache, the telemetry buffer and profiles live."""
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    """The MQTT broker."""
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    """Fleet, device id, site and device class."""
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    """Telemetry cadence."""
    buffer: BufferSettings = Field(default_factory=BufferSettings)
    """Store and forward."""
    probes: ProbeSettings = Field(default_factory=ProbeSettings)
    """Network probes."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log verbosity."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Overrides, then environment, then the TOML file named in model_config (if any)."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = settings_cls.model_config.get("toml_file")
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


class ConfigFileMissing(FileNotFoundError):
    """The config file named with --config does not exist."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> AgentSettings:
    """Build the settings from overrides, environment and a TOML file.

    With `config_file=None` the default file is read when it exists; a file named explicitly must exist.
    `overrides` are nested dicts (`broker={"host": ...}`) merged over the other sources.
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigFileMissing(f"config file {config_file} does not exist; create it or drop --config")
    path = config_file or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None)
    if path is None:
        return AgentSettings(**overrides)
    from_file = type(
        "AgentSettingsFromFile",
        (AgentSettings,),
        {"model_config": SettingsConfigDict(**{**AgentSettings.model_config, "toml_file": path})},
    )
    settings: AgentSettings = from_file(**overrides)
    return AgentSettings.model_validate(settings.model_dump())
