"""Settings of the orchestrator process: one pydantic-settings root with small typed groups.

Read from a config file (JSON or YAML, `--config`) and `CONTINUUM_` environment variables
(`CONTINUUM_MQTT__BROKER=host:1883`); command-line flags override both in the CLI layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ApiSettings",
    "EventLogSettings",
    "FleetSettings",
    "MetricsSettings",
    "ModelSettings",
    "MqttSettings",
    "OrchestratorSettings",
    "ReplanningSettings",
    "TierSettings",
    "load_settings",
    "split_host_port",
]


def split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """Split "host:port" (or "host") into its parts; raises ValueError with a usable message."""
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, default_port
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT with a port between 0 and 65535")
    return host or "127.0.0.1", int(port)


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttSettings(_Group):
    """How the orchestrator reaches the control-plane broker."""

    broker: str = "127.0.0.1:1883"
    """HOST:PORT of the MQTT broker."""
    fleets: list[str] = Field(default_factory=lambda: ["+"])
    """Fleets to serve; "+" serves every fleet on the broker."""
    status_fleets: list[str] = Field(default_factory=lambda: ["default"])
    """Fleets whose retained orchestrator-state topic this instance publishes (wildcards cannot)."""
    protocol: Literal["auto", "v5", "v311"] = "auto"
    """MQTT version: auto tries v5 (shared subscriptions, message expiry) and falls back to 3.1.1."""
    telemetry_protocol: Literal["same", "v311"] = "v311"
    """With a v5 session, receive telemetry on a second, MQTT 3.1.1 connection ($share still applies on
    Mosquitto, EMQX, HiveMQ): paho decodes 3.1.1 publishes ~1.5x faster. "same" keeps one connection."""
    shared_group: str = "continuum"
    """Shared-subscription group on v5 brokers, so replicas split the telemetry."""
    client_id: str = ""
    """Client id; empty derives one from the host name and process id."""
    keepalive_s: int = 10
    """MQTT keep-alive; the broker declares us gone (publishing our will) after 1.5x this."""
    max_payload_bytes: int = 65536
    """Payloads larger than this are rejected as oversized (counted, never decoded)."""
    queue_limit: int = 200_000
    """Inbound messages buffered between the socket and the control loop; beyond it they are dropped."""
    username: str = ""
    """Broker user name; empty for anonymous."""
    password: SecretStr = SecretStr("")
    """Broker password."""
    tls_ca: str = ""
    """CA bundle path; set to connect with TLS."""
    tls_cert: str = ""
    """Client certificate (PEM) path; with tls_key, presented to brokers that require client certificates."""
    tls_key: str = ""
    """Private key (PEM) path of tls_cert."""

    @model_validator(mode="after")
    def _client_pair(self) -> MqttSettings:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("mqtt.tls_cert and mqtt.tls_key go together: set both (PEM paths) or neither")
        return self


class FleetSettings(_Group):
    """How device sessions are judged and where their state lives."""

    stale_after_s: float = 10.0
    """A device silent this long is stale: its state is no longer used for placement."""
    offline_after_s: float = 120.0
    """A device silent this long is offline even without a death (a lost will)."""
    rebirth_backoff_s: float = 5.0
    """At most one rebirth request per device in this interval."""
    backend: Literal["local", "ray"] = "local"
    """Where shard state lives: in this process, or in Ray actors."""
    shards: int = 1
    """Number of fleet shards (Ray actors with the ray backend)."""
    history: int = 60
    """Link samples kept per device for sparklines."""


class ReplanningSettings(_Group):
    """When a device's plan may change."""

    relative: float = 0.10
    """A candidate must beat the current plan by this fraction of the current value..."""
    absolute_ms: float = 2.0
    """...and by at least this many units of the objective (ms for latency)."""
    min_dwell_s: float = 2.0
    """Minimum time a plan is kept after a switch."""
    confirmations: int = 2
    """Consecutive evaluations a candidate must win before it replaces the plan (a blip does not)."""
    link_change: float = 0.05
    """Relative change of a link estimate that triggers a replan of the device."""
    plan_expiry_s: int = 300
    """MQTT v5 message expiry of a PlanUpdate (seconds)."""
    objective: Literal["latency", "cost", "energy"] = "latency"
    """What plans minimise."""


class TierSettings(_Group):
    """One edge site or the cloud."""

    tier: Literal["edge", "cloud"]
    """Which tier this is."""
    site: str = "default"
    """Site name (the edge site devices report in their birth; "cloud" for the cloud)."""
    capacity: int = 8
    """Concurrent requests the site can run."""
    queue_depth: int = 0
    """Requests waiting right now (from config until the data plane reports it)."""
    service_ms: float = 5.0
    """Mean service time of one request, to turn queue depth into queueing delay."""
    cost_per_hour: float = 0.5
    """Price of one hour of compute."""
    workers: int = 1
    """Workers serving the site."""


def _default_tiers() -> list[TierSettings]:
    return [
        TierSettings(tier="edge", site="default", capacity=8, cost_per_hour=0.5),
        TierSettings(tier="cloud", site="cloud", capacity=64, cost_per_hour=3.0),
    ]


class ModelSettings(_Group):
    """A model the orchestrator plans for."""

    name: str
    """Model name devices report in their births."""
    profile: str = ""
    """Shipped profile name (`continuum_inference.profiles`); empty uses `name`."""
    scenario: str = ""
    """Path of a continuum.scenario/v1 file whose model section to use instead of a profile."""


class ApiSettings(_Group):
    """The gRPC operator API."""

    host: str = "127.0.0.1"
    """Address to bind."""
    port: int = 50051
    """Port to bind; 0 picks a free one."""
    operator_tokens: list[SecretStr] = Field(default_factory=list)
    """Tokens that may mutate (pin, drain, replan, rebirth). Empty: mutations are refused."""
    readonly_tokens: list[SecretStr] = Field(default_factory=list)
    """Tokens that identify read-only clients (a mutation with one is PERMISSION_DENIED)."""
    tls_cert: str = ""
    """PEM certificate path; with tls_key, serve TLS."""
    tls_key: str = ""
    """PEM private key path."""
    tls_client_ca: str = ""
    """PEM CA bundle path; with tls_cert/tls_key, serve mutual TLS: every client must present a certificate
    signed by this CA (clients without one, or with one from another CA, fail the handshake). Tokens still
    apply on top. Empty: clients are not asked for a certificate."""
    grace_s: float = 2.0
    """Grace period for in-flight calls at shutdown."""


class MetricsSettings(_Group):
    """Prometheus exposition."""

    host: str = "127.0.0.1"
    """Address to bind."""
    port: int = 9464
    """Port to bind; 0 picks a free one; -1 disables the endpoint."""


class EventLogSettings(_Group):
    """The embedded event store."""

    path: str = ":memory:"
    """SQLite file; ":memory:" keeps events for the life of the process."""
    keep: int = 100_000
    """Events kept; older ones are pruned."""


class OrchestratorSettings(BaseSettings):
    """Everything one orchestrator process needs, grouped by concern."""

    model_config = SettingsConfigDict(
        env_prefix="CONTINUUM_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    instance: str = ""
    """Instance name in the retained state message; empty derives host:pid."""
    batch_limit: int = 1000
    """Most inbound messages handled in one control-loop step (smaller: lower latency under load)."""
    mqtt: MqttSettings = MqttSettings()
    """Control-plane broker."""
    fleet: FleetSettings = FleetSettings()
    """Sessions and shards."""
    replanning: ReplanningSettings = ReplanningSettings()
    """Hysteresis and triggers."""
    tiers: list[TierSettings] = Field(default_factory=_default_tiers)
    """Edge sites and the cloud."""
    models: list[ModelSettings] = Field(default_factory=lambda: [ModelSettings(name="alexnet")])
    """Models to plan; devices announce which they hold."""
    api: ApiSettings = ApiSettings()
    """Operator gRPC API."""
    metrics: MetricsSettings = MetricsSettings()
    """Prometheus endpoint."""
    events: EventLogSettings = EventLogSettings()
    """Event log."""

    @field_validator("batch_limit")
    @classmethod
    def _positive_batch(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("batch_limit must be > 0")
        return value


def load_settings(path: str | Path | None = None, **overrides: Any) -> OrchestratorSettings:
    """Settings from an optional JSON/YAML file, then the environment, then `overrides` (nested dicts)."""
    data: dict[str, Any] = {}
    if path is not None:
        text = Path(path).read_text()
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            loaded = yaml.safe_load(text) or {}
        else:
            loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: the config file must hold a mapping at the top level")
        data = loaded
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return OrchestratorSettings(**data)
