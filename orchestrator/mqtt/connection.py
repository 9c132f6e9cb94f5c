"""The orchestrator's MQTT connection. This module owns paho-mqtt; nothing else imports it.

paho is driven on the asyncio loop, never by its own thread: the socket is watched with
`add_reader`/`add_writer` and a one-second task calls `loop_misc()` for keep-alives (the aiomqtt
pattern). paho types stop here: received messages become our frozen `Received`, failures become
`MqttError` with a message saying what to check. The blocking TCP connect runs in an executor so
an unreachable broker never stalls the loop; reconnection is automatic with capped exponential
backoff and jitter. The backoff only resets once a session has stayed up a while, so a broker that
accepts us and then drops us at once (an ACL refusal, a client-id takeover) is retried ever more
slowly instead of in a tight loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["MqttConnection", "MqttError", "Received", "Will"]

log = logging.getLogger(__name__)

_READ_BURST = 2000
_BACKOFF_BASE_S = 0.2
_BACKOFF_CAP_S = 10.0
_STABLE_SESSION_S = 10.0
"""A session that lasted this long resets the reconnect backoff to its base."""
_SESSION_TAKEN_OVER = 142  # MQTT v5 DISCONNECT reason: another connection used our client id


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


class MqttError(RuntimeError):
    """The broker could not be reached or refused us; the message says what to check."""


@dataclass(frozen=True, slots=True)
class Received:
    """One received message, converted from paho's type at the boundary."""

    topic: str
    payload: bytes
    retain: bool


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes for us if we vanish."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


def _has_data(sock: Any) -> bool:
    """Whether more bytes wait on the socket (without blocking or consuming them)."""
    if isinstance(sock, ssl.SSLSocket):
        return sock.pending() > 0
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return False


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
        will: Will | None = None,
        protocol: Literal["auto", "v5", "v311"] = "auto",
        keepalive_s: int = 10,
        username: str = "",
        password: str = "",
        tls_ca: str = "",
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self._on_message_cb = on_message
        self._on_connected_cb = on_connected
        self._on_lost_cb = on_lost
        self._will = will
        self._protocol = protocol
        self._keepalive = keepalive_s
        self._auth = (username, password)
        self._tls_ca = tls_ca
        self._tls_client = (tls_cert, tls_key)
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._client: paho.Client | None = None
        self._subscriptions: list[tuple[str, int]] = []
        self._connected = asyncio.Event()
        self._closing = False
        self._misc_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._refused: str | None = None
        self.v5 = protocol != "v311"
        self.connects = 0
        self.disconnects = 0
        self.takeovers = 0
        self._backoff_s = 0.0
        self._connected_at = 0.0
        self._rng = random.Random()
        self._expiry: dict[int, Properties] = {}

    @property
    def connected_at(self) -> float:
        """Loop time (`loop.time()`) the current or last session came up; 0 before the first."""
        return self._connected_at

    @property
    def connected(self) -> bool:
        """True while a session with the broker is up."""
        return self._connected.is_set()

    async def connect(self, timeout_s: float = 10.0) -> None:
        """Connect (trying MQTT v5 first under "auto"); raises MqttError if the broker cannot be reached."""
        attempts: list[bool] = [True, False] if self._protocol == "auto" else [self._protocol == "v5"]
        last_error = ""
        for v5 in attempts:
            self.v5 = v5
            try:
                await self._connect_once(timeout_s)
                return
            except MqttError as exc:
                last_error = str(exc)
                await self._drop_client()
        raise MqttError(last_error)

    async def _connect_once(self, timeout_s: float) -> None:
        self._refused = None
        self._client = self._make_client()
        try:
            await self._loop.run_in_executor(
                None, self._client.connect, self.host, self.port, self._keepalive
            )
        except (TimeoutError, OSError) as exc:
            raise MqttError(
                f"cannot reach the MQTT broker at {self.host}:{self.port} ({exc}); is it running? "
                "start one or pass --broker HOST:PORT"
            ) from exc
        if self._misc_task is None:
            self._misc_task = self._loop.create_task(self._misc_loop())
        try:
            async with asyncio.timeout(timeout_s / 2 if self._protocol == "auto" and self.v5 else timeout_s):
                while not self._connected.is_set():
                    if self._refused is not None:
                        raise MqttError(self._refused)
                    await asyncio.sleep(0.02)
        except TimeoutError as exc:
            version = "v5" if self.v5 else "3.1.1"
            raise MqttError(
                f"the broker at {self.host}:{self.port} did not accept an MQTT {version} session"
            ) from exc

    def _make_client(self) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5 if self.v5 else paho.MQTTv311,
            clean_session=None if self.v5 else True,
        )
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(0)  # unlimited: paho rescans its whole queue per ack otherwise
        if self._auth[0]:
            client.username_pw_set(*self._auth)
        if self._tls_ca or self._tls_client[0]:
            client.tls_set(
                ca_certs=self._tls_ca or None,
                certfile=self._tls_client[0] or None,
                keyfile=self._tls_client[1] or None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if self._will is not None:
            client.will_set(self._will.topic, self._will.payload, self._will.qos, self._will.retain)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        return client

    def _in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if threading.get_ident() == self._loop_thread:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def _on_socket_open(self, client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._in_loop(self._loop.add_reader, sock, self._read, client)

    @staticmethod
    def _read(client: paho.Client) -> None:
        """Read every packet already buffered, not just one (paho's loop_read reads one at a time),
        so a burst becomes one batch for the control loop instead of one loop iteration per message."""
        for _ in range(_READ_BURST):
            if client.loop_read() != paho.MQTT_ERR_SUCCESS:
                return
            sock = client.socket()
            if sock is None or not _has_data(sock):
                return

    def _on_socket_close(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._in_loop(self._forget_socket, sock)

    def _forget_socket(self, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _on_register_write(self, client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._in_loop(self._loop.add_writer, sock, client.loop_write)

    def _on_unregister_write(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._in_loop(self._loop.remove_writer, sock)

    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = f"the broker at {self.host}:{self.port} refused the connection: {reason}"
            return
        self.connects += 1
        self._connected_at = self._loop.time()
        for topic, qos in self._subscriptions:
            client.subscribe(topic, qos)
        self._connected.set()
        if self._on_connected_cb is not None:
            self._on_connected_cb()

    def _on_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if not was_connected and self._refused is None:
            self._refused = f"the broker at {self.host}:{self.port} closed the connection before accepting it"
        if was_connected:
            self.disconnects += 1
            session_s = self._loop.time() - self._connected_at
            self._backoff_s = next_backoff(self._backoff_s, session_s)
            log.warning(
                "lost the MQTT broker at %s:%s (%s) after %.1f s; reconnecting in up to %.1f s",
                self.host,
                self.port,
                reason,
                session_s,
                self._backoff_s,
            )
            taken_over = reason is not None and getattr(reason, "value", None) == _SESSION_TAKEN_OVER
            self.takeovers += taken_over
            if self._on_lost_cb is not None:
                self._on_lost_cb(self._connected_at, taken_over)
        if not self._closing and was_connected and self._reconnect_task is None:
            self._reconnect_task = self._loop.create_task(self._reconnect())

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        self._on_message_cb(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))

    async def _reconnect(self) -> None:
        """Reconnect after a jittered, growing delay until connected or closed."""
        try:
            while not self._closing and not self._connected.is_set():
                await asyncio.sleep(jittered(max(self._backoff_s, _BACKOFF_BASE_S), self._rng))
                client = self._client
                if client is None or self._closing:
                    return
                try:
                    await self._loop.run_in_executor(None, client.reconnect)
                    async with asyncio.timeout(5):
                        await self._connected.wait()
                except (OSError, TimeoutError):
                    self._backoff_s = next_backoff(self._backoff_s, None)
        finally:
            self._reconnect_task = None

    async def _misc_loop(self) -> None:
        while not self._closing:
            client = self._client
            if client is not None and client.socket() is not None:
                rc = client.loop_misc()
                if rc == paho.MQTT_ERR_NO_CONN and self._connected.is_set():
                    self._on_disconnect(
                        client, None, None, ReasonCode(PacketTypes.DISCONNECT, "Unspecified error"), None
                    )
            await asyncio.sleep(1.0)

    def subscribe(self, filters: Sequence[tuple[str, int]]) -> None:
        """Subscribe now and after every reconnect."""
        self._subscriptions.extend(filters)
        if self._client is not None and self.connected:
            for topic, qos in filters:
                self._client.subscribe(topic, qos)

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, expiry_s: int | None = None
    ) -> bool:
        """Queue a publish; returns False when not connected (the caller counts it)."""
        client = self._client
        if client is None or not self.connected:
            return False
        properties = None
        if expiry_s is not None and self.v5:
            properties = self._expiry.get(expiry_s)
            if properties is None:  # built once per value: paho's Properties are costly to make
                properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                properties.MessageExpiryInterval = expiry_s
                self._expiry[expiry_s] = properties
        info = client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        return info.rc == paho.MQTT_ERR_SUCCESS

    async def close(self, final: tuple[str, bytes, int, bool] | None = None) -> None:
        """Publish `final` (topic, payload, qos, retain) if connected, disconnect cleanly, stop the tasks."""
        self._closing = True
        client = self._client
        if client is not None and self.connected and final is not None:
            info = client.publish(final[0], final[1], qos=final[2], retain=final[3])
            with contextlib.suppress(Exception):
                for _ in range(100):
                    if info.is_published():
                        break
                    await asyncio.sleep(0.01)
        await self._drop_client()
        for task in (self._misc_task, self._reconnect_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._misc_task = self._reconnect_task = None

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._connected.clear()
        if client is None:
            return
        sock = client.socket()
        if sock is not None:
            with contextlib.suppress(Exception):
                client.disconnect()
                client.loop_write()
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(sock)
                self._loop.remove_writer(sock)
            with contextlib.suppress(Exception):
                sock.close()
        await asyncio.sleep(0)
