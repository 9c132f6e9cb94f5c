"""The orchestrator's MQTT sessions: one for births, deaths and commands, one for telemetry where it helps.

The telemetry connection only spreads the load (MQTT 3.1.1 with a `$share` subscription beside a v5 main
connection). When the broker will not hold both (it names them by one client id, Mosquitto's
use_username_as_clientid, so each kicks the other), the pair falls back to the main connection alone,
as `mqtt.telemetry_protocol: same` would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from orchestrator.mqtt.connection import MqttConnection, MqttError, Received, Will
from orchestrator.settings import MqttSettings, split_host_port
from protos.topics import device_wildcard

__all__ = ["ConnectionOptions", "ConnectionPair"]

log = logging.getLogger(__name__)

_TAKEOVER_WINDOW_S = 2.0
"""A session lost this soon after our other connection came up (during it) was kicked by that one."""

Filters = list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """What every connection to the broker shares: address, keepalive, credentials, TLS."""

    host: str
    port: int
    keepalive_s: int = 10
    username: str = ""
    password: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""

    @classmethod
    def from_settings(cls, s: MqttSettings) -> ConnectionOptions:
        """The options of `mqtt` settings."""
        host, port = split_host_port(s.broker, 1883)
        return cls(
            host,
            port,
            s.keepalive_s,
            s.username,
            s.password.get_secret_value(),
            s.tls_ca,
            s.tls_cert,
            s.tls_key,
        )

    def connection(
        self,
        client_id: str,
        protocol: Literal["auto", "v5", "v311"],
        on_message: Callable[[Received], None],
        on_lost: Callable[[float, bool], None],
        on_connected: Callable[[], None] | None = None,
        will: Will | None = None,
    ) -> MqttConnection:
        """A connection with these options (not connected yet)."""
        return MqttConnection(
            self.host,
            self.port,
            client_id,
            on_message=on_message,
            on_connected=on_connected,
            on_lost=on_lost,
            will=will,
            protocol=protocol,
            keepalive_s=self.keepalive_s,
            username=self.username,
            password=self.password,
            tls_ca=self.tls_ca,
            tls_cert=self.tls_cert,
            tls_key=self.tls_key,
        )


class ConnectionPair:
    """The main connection and, where it spreads the load, a telemetry connection; both feed `on_message`."""

    def __init__(
        self, settings: MqttSettings, client_id: str, on_message: Callable[[Received], None]
    ) -> None:
        self._settings = settings
        self._options = ConnectionOptions.from_settings(settings)
        self._client_id = client_id
        self._on_message = on_message
        self.main: MqttConnection | None = None
        self.telemetry: MqttConnection | None = None
        self.tasks: list[asyncio.Task[None]] = []
        """Fallbacks under way, for the owner to await on shutdown."""
        self._subscribed = False
        self._falling_back = False

    def open(self, on_connected: Callable[[], None], will: Will | None) -> MqttConnection:
        """Build the main connection (connect() connects it): the control loop publishes on it."""
        self.main = self._options.connection(
            self._client_id,
            self._settings.protocol,
            self._on_message,
            lambda started, taken_over: self._on_session_lost(started, taken_over, self.telemetry),
            on_connected,
            will,
        )
        return self.main

    async def connect(self) -> None:
        """Connect the main connection, then the telemetry one where it helps, and subscribe."""
        main = self.main
        assert main is not None, "open() first"
        await main.connect()
        if main.v5 and self._settings.telemetry_protocol == "v311":
            telemetry = self.telemetry = self._options.connection(
                f"{main.client_id}-telemetry",
                "v311",
                self._on_message,
                lambda started, taken_over: self._on_session_lost(started, taken_over, self.main),
            )
            try:
                await telemetry.connect()
            except MqttError as exc:
                # The second connection only spreads the telemetry load; when the broker will not hold
                # both (one client id for both, the other one kicked mid-connect), run on one.
                log.warning("no separate telemetry connection (%s); using the main one", exc)
                self.telemetry = None
                await telemetry.close()
        control, telemetry_filters = self.subscriptions()
        main.subscribe(control)
        (self.telemetry or main).subscribe(telemetry_filters)
        self._subscribed = True

    def subscriptions(self) -> tuple[Filters, Filters]:
        """(births and deaths, telemetry) filters. Telemetry is a shared subscription wherever the
        broker has one (MQTT v5, or Mosquitto-style $share for 3.1.1 on the telemetry connection)."""
        s = self._settings
        control: Filters = []
        telemetry: Filters = []
        shared = self.telemetry is not None or (self.main is not None and self.main.v5)
        for fleet in s.fleets:
            name = None if fleet == "+" else fleet
            control.append((device_wildcard(name, "birth"), 1))
            control.append((device_wildcard(name, "death"), 1))
            state = device_wildcard(name, "state")
            telemetry.append((f"$share/{s.shared_group}/{state}" if shared else state, 0))
        return control, telemetry

    def _on_session_lost(self, started: float, taken_over: bool, other: MqttConnection | None) -> None:
        """One of our two MQTT sessions ended. If it was taken over (a v5 reason code) or ended right after
        our other connection came up during it, the broker gives both the same client id and the two
        would kick each other forever: fall back to one connection."""
        if self.telemetry is None or self._falling_back or other is None:
            return
        now = asyncio.get_running_loop().time()
        kicked = other.connected_at >= started and now - other.connected_at < _TAKEOVER_WINDOW_S
        if not (taken_over or kicked):
            return
        self._falling_back = True
        log.warning(
            "the broker at %s gave both our MQTT connections the same client id (use_username_as_clientid?); "
            "using one connection for telemetry too (set mqtt.telemetry_protocol: same, or give the "
            "orchestrator its own listener with --orchestrator-port)",
            self._settings.broker,
        )
        self.tasks.append(asyncio.get_running_loop().create_task(self._one_connection()))

    async def _one_connection(self) -> None:
        """Close the telemetry connection and move its subscriptions onto the main one."""
        telemetry, self.telemetry = self.telemetry, None
        if telemetry is not None:
            await telemetry.close()
        if self._subscribed and self.main is not None:
            self.main.subscribe(self.subscriptions()[1])

    async def close(self, final: tuple[str, bytes, int, bool] | None) -> None:
        """Close the telemetry connection, then the main one (publishing `final` last, if given)."""
        if self.telemetry is not None:
            await self.telemetry.close()
        if self.main is not None:
            await self.main.close(final)
