"""Settings of the operator TUI: one pydantic-settings root, from flags, a config file or CONTINUUM_TUI_*."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TuiSettings"]


class TuiSettings(BaseSettings):
    """Where the orchestrator is, who we are, and how often the screens refresh."""

    model_config = SettingsConfigDict(env_prefix="CONTINUUM_TUI_", frozen=True, extra="forbid")

    target: str = "127.0.0.1:50051"
    """HOST:PORT of the orchestrator's Operator gRPC service."""

    token: SecretStr | None = None
    """Operator token sent as `authorization: Bearer <token>`; reads work without one, actions need it."""

    tls_ca: str | None = None
    """PEM CA bundle that signed the orchestrator's certificate; set (or set tls_cert) to connect with TLS.
    Unset with a client certificate: the system's trusted roots verify the server."""

    tls_cert: str | None = None
    """PEM client certificate, for an orchestrator that requires mutual TLS (`api.tls_client_ca`); needs
    tls_key."""

    tls_key: str | None = None
    """PEM private key of tls_cert."""

    read_only: bool = False
    """Hide and refuse every action (pin, drain, replan, rebirth): a safe console for watching."""

    refresh_interval_s: float = Field(default=0.25, gt=0)
    """How often buffered fleet changes are applied to the table (one refresh cycle)."""

    poll_interval_s: float = Field(default=2.0, gt=0)
    """How often the device, tiers and events screens poll the orchestrator while shown."""

    reconnect_initial_s: float = Field(default=0.5, gt=0)
    """First wait before reconnecting after the fleet watch drops; doubles each failure."""

    reconnect_max_s: float = Field(default=5.0, gt=0)
    """Longest wait between reconnection attempts."""

    rpc_timeout_s: float = Field(default=5.0, gt=0)
    """Deadline of each unary call to the orchestrator."""

    freeze_gc_after_snapshot: bool = True
    """After each full fleet snapshot, collect once and `gc.freeze()` what is alive, so later full
    collections skip the startup objects and the fleet: at 10k devices this cuts the collector's pauses
    during refresh cycles from 120-220 ms to 10-60 ms (bench/tui.py). Acyclic rows replaced later are
    still freed by reference counting."""

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TuiSettings:
        """A client certificate is useless without its key and vice versa: refuse one alone."""
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: set both for mutual TLS, or neither")
        return self
