"""The bridge: one MQTT connection driven by the asyncio loop (this package is the only code importing paho).

paho 2.x (`CallbackAPIVersion.VERSION2`) is run the way aiomqtt runs it: the socket is watched with
`loop.add_reader`, packets are written straight away from `publish()` (the socket is non-blocking; a writer
is added only while paho still has bytes queued), and a `MiscTicker` calls `loop_misc()` once a second for
keepalive. No `loop_start()` threads; only the blocking TCP/TLS connect runs in the default executor, and
paho is not driven from the loop until it has returned, so it never runs in two threads at once.
paho types stop here: callers see `Message`, `Will`, `ConnectOptions` and the errors of
`continuum_mqtt.types`. Reconnecting, backoff and what to subscribe are the caller's policy: a `Connection`
is one session at a time, reconnectable by calling `connect` again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from continuum_mqtt.client import connect_arguments, fail, has_data, new_client
from continuum_mqtt.ticker import MiscTicker
from continuum_mqtt.types import (
    BrokerUnreachable,
    ConnectFailed,
    ConnectOptions,
    Message,
    NotConnected,
    Version,
    Will,
)

__all__ = ["V5_PROBE_TIMEOUT_S", "Connection"]

log = logging.getLogger(__name__)

_UNSUPPORTED_PROTOCOL = (132, 1)  # MQTT 5 reason code 0x84 and MQTT 3.1.1 CONNACK return code 1
_NOT_RETRYABLE = (4, 5, 133, 134, 135, 140)  # bad credentials, not authorised, bad client id, bad auth method
_READ_BURST = 2000
V5_PROBE_TIMEOUT_S = 3.0


class _ProtocolRefused(ConnectFailed):
    """The broker does not speak the MQTT version we tried (or hung up before answering it)."""


class Connection:
    """One MQTT connection (one client id, one last will at a time)."""

    def __init__(
        self,
        options: ConnectOptions,
        ticker: MiscTicker,
        on_message: Callable[[Message], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        on_lost: Callable[[str, int | None], None] | None = None,
    ) -> None:
        self.options = options
        self.on_message = on_message
        """Called on the loop for every received message; an exception it raises is logged, not raised."""
        self.on_lost = on_lost
        """Called on the loop with the reason and its code when an accepted session ends (not by us)."""
        self._ticker = ticker
        self._loop = loop or asyncio.get_running_loop()
        self._client: paho.Client | None = None
        self._sock: Any = None
        self._writer_on = False
        self._driving = False
        """True while paho runs our callbacks (inside loop_read or loop_misc)."""
        self._established = False
        self._connack: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[str] = self._loop.create_future()
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._expiry: dict[int, Properties] = {}
        self.protocol: Version | None = None
        self._opened: tuple[paho.Client, Any] | None = None
        self._fallback = False

    @property
    def connected(self) -> bool:
        """Whether the broker accepted us and the socket is still up."""
        return self._client is not None and self._client.is_connected()

    async def connect(self, will: Will | None) -> None:
        """Connect, raising ConnectFailed on any failure.

        With protocol "auto", MQTT 5 is tried first; when the broker refuses it, closes before CONNACK, or
        stays silent for `V5_PROBE_TIMEOUT_S` (amqtt ignores a v5 CONNECT), 3.1.1 is tried, and remembered
        once it works.
        """
        versions: list[Version]
        if self.options.protocol == "auto":
            versions = ["3.1.1"] if self._fallback else ["5", "3.1.1"]
        else:
            versions = [self.options.protocol]
        for index, version in enumerate(versions):
            can_fall_back = index + 1 < len(versions)
            timeout = self.options.connect_timeout_s
            if can_fall_back:
                timeout = min(timeout, V5_PROBE_TIMEOUT_S)
            try:
                await self.connect_version(version, will, timeout)
            except _ProtocolRefused:
                if can_fall_back:
                    continue
                raise
            except TimeoutError:
                if can_fall_back:
                    continue
                raise ConnectFailed(
                    f"no CONNACK from {self.options.host}:{self.options.port} within {timeout:g} s"
                ) from None
            self._fallback = self.options.protocol == "auto" and version == "3.1.1"
            return

    async def connect_version(self, version: Version, will: Will | None, timeout_s: float) -> None:
        """One attempt at one MQTT version: ConnectFailed when refused or unreachable, TimeoutError when
        no CONNACK came within `timeout_s` (for callers with their own rule for falling back)."""
        try:
            await asyncio.wait_for(self._attempt(version, will), timeout_s)
        except TimeoutError:
            self._teardown()
            raise
        self.protocol = version

    async def _attempt(self, version: Version, will: Will | None) -> None:
        self._teardown()
        client = new_client(self.options, version, will)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_socket_open = self._handle_socket_open
        client.on_socket_close = self._handle_socket_close
        self._client = client
        self._closed = self._loop.create_future()
        self._connack = self._loop.create_future()
        kwargs = connect_arguments(self.options, version)
        try:
            await self._loop.run_in_executor(
                None, lambda: client.connect(self.options.host, self.options.port, **kwargs)
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._teardown()
            raise BrokerUnreachable(f"cannot reach {self.options.host}:{self.options.port}: {exc}") from exc
        self._watch_opened(client)
        self._sync_writer()
        try:
            await asyncio.shield(self._connack)
        except ConnectFailed:
            self._teardown()
            raise
        self._established = True

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, expiry_s: int | None = None
    ) -> int:
        """Queue and write a message now; returns its mid. Raises NotConnected when offline.

        `expiry_s` is the MQTT 5 message expiry; on a 3.1.1 session it is dropped (3.1.1 has none)."""
        client = self._client
        if client is None or not client.is_connected():
            raise NotConnected(f"not connected to {self.options.host}:{self.options.port}")
        properties = None
        if expiry_s is not None and self.protocol == "5":
            properties = self._expiry.get(expiry_s)
            if properties is None:  # built once per value: paho's Properties are costly to make
                properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                properties.MessageExpiryInterval = expiry_s
                self._expiry[expiry_s] = properties
        info = client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_QUEUE_SIZE):
            raise NotConnected(f"publish on {topic} failed: {paho.error_string(info.rc)}")
        self._sync_writer()
        return int(info.mid)

    async def publish_acked(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK (NotConnected if the connection drops)."""
        client = self._client
        if client is not None:
            # Only while acknowledgements are awaited: paho builds two objects per QoS 0 publish for it.
            client.on_publish = self._handle_publish
        mid = self.publish(topic, payload, qos=1, retain=retain)
        # A PUBACK is only read by a later loop_read, so registering after publish() cannot miss it.
        future: asyncio.Future[None] = self._loop.create_future()
        self._acks[mid] = future
        await future

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe (fire and forget: the SUBACK is not awaited)."""
        if self._client is None:
            raise NotConnected("subscribe before connect")
        self._client.subscribe(topic, qos=qos)
        self._sync_writer()

    async def wait_closed(self) -> str:
        """Wait until the connection ends; returns why."""
        return await asyncio.shield(self._closed)

    async def disconnect(self, wait_s: float = 2.0) -> None:
        """Send DISCONNECT (so the broker drops the will) and close, waiting up to `wait_s` for the broker
        to close its side."""
        client = self._client
        self._established = False
        if client is not None and client.is_connected():
            client.disconnect()
            self._sync_writer()
            if wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._closed), wait_s)
        self._teardown()

    def abort(self) -> None:
        """Drop the socket without DISCONNECT, as a crash would: the broker publishes the will."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._teardown()

    def loop_misc(self) -> None:
        """Keepalive, for the ticker. A socket gone without paho saying so still ends the session."""
        client = self._client
        if client is None:
            return
        self._driving = True
        try:
            rc = client.loop_misc()
        finally:
            self._driving = False
        if rc == MQTTErrorCode.MQTT_ERR_NO_CONN and client is self._client and self._established:
            self._ended(client, "Unspecified error", None)
        self._sync_writer()

    def _teardown(self) -> None:
        client, self._client = self._client, None
        self._established = False
        self._unwatch()
        if client is not None:
            self._ticker.remove(self)
            client.on_disconnect = client.on_socket_close = None
            sock = client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._finish("closed")

    def _finish(self, reason: str) -> None:
        if not self._closed.done():
            self._closed.set_result(reason)
        if self._connack is not None and not self._connack.done():
            fail(self._connack, ConnectFailed(f"connection closed before CONNACK ({reason})"))
        acks, self._acks = self._acks, {}
        for future in acks.values():
            if not future.done():
                fail(future, NotConnected(f"connection lost before PUBACK ({reason})"))

    def _ended(self, client: paho.Client, reason: str, code: int | None) -> None:
        was_established, self._established = self._established, False
        self._unwatch()
        self._ticker.remove(self)
        connack = self._connack
        if connack is not None and not connack.done():
            where = f"{self.options.host}:{self.options.port}"
            fail(
                connack,
                _ProtocolRefused(
                    f"the broker at {where} closed the connection before accepting it ({reason})"
                ),
            )
        self._finish(reason)
        if was_established and self.on_lost is not None:
            self.on_lost(reason, code)

    def _sync_writer(self) -> None:
        client = self._client
        if client is None or self._sock is None:
            return
        # Not from inside a paho callback (a handler that publishes): paho would call back into its own
        # non-reentrant callback lock there and hang the loop. The read's end writes it instead.
        if client.want_write() and not self._driving:
            client.loop_write()
        wants = client is self._client and client.want_write() and self._sock is not None
        if wants and not self._writer_on:
            self._loop.add_writer(self._sock, self._on_writable)
            self._writer_on = True
        elif not wants and self._writer_on:
            self._loop.remove_writer(self._sock)
            self._writer_on = False

    def _on_readable(self) -> None:
        # Every packet already buffered, not just one (loop_read reads one at a time): a burst becomes one
        # batch for the orchestrator's control loop instead of one loop iteration per message.
        client = self._client
        self._driving = True
        try:
            for _ in range(_READ_BURST):
                if client is None or client is not self._client:
                    return
                if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or not has_data(client.socket()):
                    break
        finally:
            self._driving = False
        self._sync_writer()

    def _on_writable(self) -> None:
        if self._client is not None:
            self._client.loop_write()
        self._sync_writer()

    def _unwatch(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._sock)
                self._loop.remove_writer(self._sock)
        self._sock = None
        self._writer_on = False

    # paho callbacks: they only translate and hand over.

    def _handle_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        # Runs in the executor thread inside connect(): only note the socket; the loop starts watching it
        # once connect() has returned, so paho is never driven from two threads at once.
        self._opened = (client, sock)

    def _watch_opened(self, client: paho.Client) -> None:
        opened, self._opened = self._opened, None
        if opened is None or opened[0] is not client or client is not self._client:
            return
        sock = opened[1]
        if sock.fileno() < 0:
            return
        self._sock = sock
        self._loop.add_reader(sock, self._on_readable)
        self._ticker.add(self)

    def _handle_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if client is self._client:
            self._unwatch()

    def _handle_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        connack = self._connack
        if connack is None or connack.done():
            return
        if not reason.is_failure:
            connack.set_result(None)
            return
        code = reason.value
        where = f"{self.options.host}:{self.options.port}"
        if code in _UNSUPPORTED_PROTOCOL:
            fail(connack, _ProtocolRefused(f"the broker at {where} refused this MQTT version: {reason}"))
        else:
            refused = ConnectFailed(
                f"the broker at {where} refused the connection: {reason}",
                retryable=code not in _NOT_RETRYABLE,
            )
            fail(connack, refused)

    def _handle_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if client is self._client:
            self._ended(client, str(reason), getattr(reason, "value", None))

    def _handle_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if self.on_message is None:
            return
        try:
            self.on_message(Message(msg.topic, bytes(msg.payload), bool(msg.retain), qos=int(msg.qos)))
        except Exception:
            log.exception("the handler of a message on %s failed", msg.topic)

    def _handle_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        future = self._acks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)
        if not self._acks:
            client.on_publish = None
