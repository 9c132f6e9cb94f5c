"""The orchestrator's MQTT connection: its policy over the shared bridge (`continuum_mqtt`, which owns paho).

What is the orchestrator's here: a clean session per connection, MQTT v5 tried first and 3.1.1 after any
failed v5 attempt, its subscriptions renewed on every session, and automatic reconnection with capped
exponential backoff and jitter. The backoff only resets once a session has stayed up a while, so a broker that
accepts us and then drops us at once (an ACL refusal, a client-id takeover) is retried ever more slowly
instead of in a tight loop. Failures are `MqttError`s with a message saying what to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import continuum_mqtt
from continuum_mqtt import (
    BrokerUnreachable,
    ConnectFailed,
    ConnectOptions,
    MiscTicker,
    MqttError,
    NotConnected,
)

__all__ = ["MqttConnection", "MqttError", "Received", "Will", "jittered", "next_backoff"]

log = logging.getLogger(__name__)

Received = continuum_mqtt.Message
"""One received message (the bridge's type; the orchestrator reads topic, payload and retain)."""

_BACKOFF_BASE_S = 0.2
_BACKOFF_CAP_S = 10.0
_STABLE_SESSION_S = 10.0
"""A session that lasted this long resets the reconnect backoff to its base."""
_SESSION_TAKEN_OVER = 142  # MQTT v5 DISCONNECT reason: another connection used our client id
_RECONNECT_TIMEOUT_S = 5.0


def next_backoff(previous_s: float, session_s: float | None) -> float:
    """The next reconnect backoff ceiling: doubled after a short-lived session (or a failed attempt),
    back to the base after a session that stayed up `_STABLE_SESSION_S`. Pure, for testing."""
    if session_s is not None and session_s >= _STABLE_SESSION_S:
        return _BACKOFF_BASE_S
    return min(max(previous_s, _BACKOFF_BASE_S / 2) * 2, _BACKOFF_CAP_S)


def jittered(ceiling_s: float, rng: random.Random) -> float:
    """A delay drawn uniformly from [ceiling/2, ceiling]: replicas and paired connections that lost the
    broker together do not come back in lock-step."""
    return rng.uniform(ceiling_s / 2, ceiling_s)


Will = continuum_mqtt.Will
"""One will type for the agent and the orchestrator; each call site names its qos and retain."""


class MqttConnection:
    """One MQTT client session on the running asyncio loop, reconnecting until closed."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        on_message: Callable[[Received], None],
        on_connected: Callable[[], None] | None = None,
        on_lost: Callable[[float, bool], None] | None = None,
        will: continuum_mqtt.Will | None = None,
        protocol: Literal["auto", "v5", "v311"] = "auto",
        keepalive_s: int = 10,
        username: str = "",
        password: str = "",
        tls_ca: str = "",
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self._on_connected_cb = on_connected
        self._on_lost_cb = on_lost
        self._will = will
        self._protocol = protocol
        self._ticker = MiscTicker()
        options = ConnectOptions(
            host,
            port,
            client_id,
            keepalive_s=keepalive_s,
            username=username or None,
            password=password if username else None,
            tls=bool(tls_ca or tls_cert),
            ca_file=Path(tls_ca) if tls_ca else None,
            cert_file=Path(tls_cert) if tls_cert else None,
            key_file=Path(tls_key) if tls_key else None,
            clean_session=True,
            max_inflight=0,  # unlimited: paho rescans its whole queue per ack otherwise
        )
        self._bridge = continuum_mqtt.Connection(options, self._ticker, on_message, on_lost=self._lost)
        self._subscriptions: list[tuple[str, int]] = []
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self.v5 = protocol != "v311"
        self.connects = 0
        self.disconnects = 0
        self.takeovers = 0
        self._backoff_s = 0.0
        self._connected_at = 0.0
        self._rng = random.Random()

    @property
    def connected_at(self) -> float:
        """Loop time (`loop.time()`) the current or last session came up; 0 before the first."""
        return self._connected_at

    @property
    def connected(self) -> bool:
        """True while a session with the broker is up."""
        return self._bridge.connected

    async def connect(self, timeout_s: float = 10.0) -> None:
        """Connect (trying MQTT v5 first under "auto"); raises MqttError if the broker cannot be reached."""
        attempts: list[bool] = [True, False] if self._protocol == "auto" else [self._protocol == "v5"]
        last_error = ""
        for v5 in attempts:
            self.v5 = v5
            # Under "auto" the v5 attempt gets half the time: amqtt never answers a v5 CONNECT.
            timeout = timeout_s / 2 if self._protocol == "auto" and v5 else timeout_s
            try:
                await self._attempt(timeout)
            except MqttError as exc:
                last_error = str(exc)
                await self._bridge.disconnect(wait_s=0)
                continue
            self._up()
            return
        raise MqttError(last_error)

    async def _attempt(self, timeout_s: float) -> None:
        version: continuum_mqtt.Version = "5" if self.v5 else "3.1.1"
        try:
            await self._bridge.connect_version(version, self._will, timeout_s)
        except BrokerUnreachable as exc:
            raise ConnectFailed(
                f"cannot reach the MQTT broker at {self.host}:{self.port} ({exc.__cause__}); is it running? "
                "start one or pass --broker HOST:PORT"
            ) from exc
        except TimeoutError as exc:
            name = "v5" if self.v5 else "3.1.1"
            raise ConnectFailed(
                f"the broker at {self.host}:{self.port} did not accept an MQTT {name} session"
            ) from exc

    def _up(self) -> None:
        """A session came up: count it, renew the subscriptions, tell the owner."""
        self.connects += 1
        self._connected_at = asyncio.get_running_loop().time()
        for topic, qos in self._subscriptions:
            self._bridge.subscribe(topic, qos)
        if self._on_connected_cb is not None:
            self._on_connected_cb()

    def _lost(self, reason: str, code: int | None) -> None:
        self.disconnects += 1
        session_s = asyncio.get_running_loop().time() - self._connected_at
        self._backoff_s = next_backoff(self._backoff_s, session_s)
        log.warning(
            "lost the MQTT broker at %s:%s (%s) after %.1f s; reconnecting in up to %.1f s",
            self.host,
            self.port,
            reason,
            session_s,
            self._backoff_s,
        )
        taken_over = code == _SESSION_TAKEN_OVER
        self.takeovers += taken_over
        if self._on_lost_cb is not None:
            self._on_lost_cb(self._connected_at, taken_over)
        if not self._closing and self._reconnect_task is None:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect after a jittered, growing delay until connected or closed."""
        try:
            while not self._closing and not self.connected:
                await asyncio.sleep(jittered(max(self._backoff_s, _BACKOFF_BASE_S), self._rng))
                if self._closing:
                    return
                try:
                    await self._attempt(_RECONNECT_TIMEOUT_S)
                except MqttError:
                    self._backoff_s = next_backoff(self._backoff_s, None)
                    continue
                self._up()
        finally:
            self._reconnect_task = None

    def subscribe(self, filters: Sequence[tuple[str, int]]) -> None:
        """Subscribe now and after every reconnect."""
        self._subscriptions.extend(filters)
        if self.connected:
            for topic, qos in filters:
                self._bridge.subscribe(topic, qos)

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, expiry_s: int | None = None
    ) -> bool:
        """Queue a publish; returns False when not connected (the caller counts it)."""
        try:
            self._bridge.publish(topic, payload, qos, retain, expiry_s)
        except NotConnected:
            return False
        return True

    async def close(self, final: tuple[str, bytes, int, bool] | None = None) -> None:
        """Publish `final` (topic, payload, qos, retain) if connected, disconnect cleanly, stop the tasks."""
        self._closing = True
        if final is not None and self.connected:
            topic, payload, qos, retain = final
            with contextlib.suppress(MqttError, TimeoutError):
                if qos == 0:
                    self._bridge.publish(topic, payload, qos, retain)
                else:
                    await asyncio.wait_for(self._bridge.publish_acked(topic, payload, retain), 1.0)
        await self._bridge.disconnect(wait_s=0)
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._ticker.close()
