"""The one module that owns paho-mqtt: an MQTT connection driven by the asyncio loop.

paho 2.x (`CallbackAPIVersion.VERSION2`) is run the way aiomqtt runs it: the socket is watched with
`loop.add_reader`, packets are written straight away from `publish()` (the socket is non-blocking; a writer
is added only while paho still has bytes queued), and a shared `MiscTicker` calls `loop_misc()` once a second
for keepalive. No `loop_start()` threads; only the blocking TCP/TLS connect runs in the default executor.
paho types stop here: callers see our frozen `Message`, `Will`, `ConnectOptions` and our exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from agents.transport.ticker import MiscTicker

__all__ = ["ConnectFailed", "ConnectOptions", "Message", "MqttConnection", "NotConnected", "Will"]

Protocol = Literal["auto", "5", "3.1.1"]
_UNSUPPORTED_PROTOCOL = (132, 1)  # MQTT 5 reason code 0x84 and MQTT 3.1.1 CONNACK return code 1
V5_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Message:
    """A received message, free of paho types."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class Will:
    """The last will the broker publishes when the connection dies without a DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """Everything one connection needs; built from the agent settings (or the simulator)."""

    host: str
    port: int
    client_id: str
    keepalive_s: int = 30
    protocol: Protocol = "auto"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True
    session_expiry_s: int = 3600
    connect_timeout_s: float = 10.0


class ConnectFailed(Exception):
    """A connection attempt failed; `retryable` says whether backing off and retrying can help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class _ProtocolRefused(ConnectFailed):
    """The broker does not speak the MQTT version we tried (or hung up before answering it)."""


class NotConnected(Exception):
    """The operation needs a live connection; buffer the message or wait for the next session."""


class MqttConnection:
    """One MQTT connection (one client id, one last will), reconnectable by calling `connect` again."""

    def __init__(
        self,
        options: ConnectOptions,
        ticker: MiscTicker,
        on_message: Callable[[Message], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.options = options
        self.on_message = on_message
        """Called on the loop for every received message; must not raise."""
        self._ticker = ticker
        self._loop = loop or asyncio.get_running_loop()
        self._client: paho.Client | None = None
        self._sock: Any = None
        self._writer_on = False
        self._connack: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[str] = self._loop.create_future()
        self._acks: dict[int, asyncio.Future[None]] = {}
        self.protocol: Literal["5", "3.1.1"] | None = None
        self._opened: tuple[paho.Client, Any] | None = None
        self._fallback = False

    @property
    def connected(self) -> bool:
        """Whether the broker accepted us and the socket is still up."""
        return self._client is not None and self._client.is_connected()

    async def connect(self, will: Will) -> None:
        """Connect, raising ConnectFailed on any failure.

        With protocol "auto", MQTT 5 is tried first; when the broker refuses it, closes before CONNACK, or
        stays silent for `V5_PROBE_TIMEOUT_S` (amqtt ignores a v5 CONNECT), 3.1.1 is tried, and remembered
        once it works.
        """
        versions: list[Literal["5", "3.1.1"]]
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
                await asyncio.wait_for(self._attempt(version, will), timeout)
            except _ProtocolRefused:
                if can_fall_back:
                    continue
                raise
            except TimeoutError:
                self._teardown()
                if can_fall_back:
                    continue
                raise ConnectFailed(
                    f"no CONNACK from {self.options.host}:{self.options.port} within {timeout:g} s"
                ) from None
            self.protocol = version
            self._fallback = self.options.protocol == "auto" and version == "3.1.1"
            return

    async def _attempt(self, version: Literal["5", "3.1.1"], will: Will) -> None:
        self._teardown()
        client = self._build_client(version, will)
        self._client = client
        self._closed = self._loop.create_future()
        self._connack = self._loop.create_future()
        kwargs: dict[str, Any] = {"keepalive": self.options.keepalive_s}
        if version == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.options.session_expiry_s
            kwargs["clean_start"] = False
            kwargs["properties"] = props
        try:
            await self._loop.run_in_executor(
                None, lambda: client.connect(self.options.host, self.options.port, **kwargs)
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._teardown()
            raise ConnectFailed(f"cannot reach {self.options.host}:{self.options.port}: {exc}") from exc
        self._watch_opened(client)
        self._sync_writer()
        try:
            await asyncio.shield(self._connack)
        except ConnectFailed:
            self._teardown()
            raise

    def _build_client(self, version: Literal["5", "3.1.1"], will: Will) -> paho.Client:
        protocol = MQTTProtocolVersion.MQTTv5 if version == "5" else MQTTProtocolVersion.MQTTv311
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.options.client_id,
            protocol=protocol,
            clean_session=None if version == "5" else False,
            reconnect_on_failure=False,
        )
        client.suppress_exceptions = True
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        if self.options.username is not None:
            client.username_pw_set(self.options.username, self.options.password)
        if self.options.tls:
            context = ssl.create_default_context(
                cafile=str(self.options.ca_file) if self.options.ca_file else None
            )
            if self.options.cert_file is not None:
                key = str(self.options.key_file) if self.options.key_file else None
                context.load_cert_chain(str(self.options.cert_file), key)
            context.check_hostname = self.options.check_hostname
            client.tls_set_context(context)
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_socket_open = self._handle_socket_open
        client.on_socket_close = self._handle_socket_close
        return client

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int:
        """Queue and write a message now; returns its mid. Raises NotConnected when offline."""
        client = self._client
        if client is None or not client.is_connected():
            raise NotConnected(f"not connected to {self.options.host}:{self.options.port}")
        info = client.publish(topic, payload, qos=qos, retain=retain)
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

    async def disconnect(self) -> None:
        """Send DISCONNECT (so the broker drops the will) and close."""
        client = self._client
        if client is not None and client.is_connected():
            client.disconnect()
            self._sync_writer()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._closed), 2.0)
        self._teardown()

    def abort(self) -> None:
        """Drop the socket without DISCONNECT, as a crash would: the broker publishes the will."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._teardown()

    def _teardown(self) -> None:
        client, self._client = self._client, None
        self._unwatch()
        if client is not None:
            self._ticker.remove(client)
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
            _fail(self._connack, ConnectFailed(f"connection closed before CONNACK ({reason})"))
        acks, self._acks = self._acks, {}
        for future in acks.values():
            if not future.done():
                _fail(future, NotConnected(f"connection lost before PUBACK ({reason})"))

    def _sync_writer(self) -> None:
        client = self._client
        if client is None or self._sock is None:
            return
        if client.want_write():
            client.loop_write()
        wants = client is self._client and client.want_write() and self._sock is not None
        if wants and not self._writer_on:
            self._loop.add_writer(self._sock, self._on_writable)
            self._writer_on = True
        elif not wants and self._writer_on:
            self._loop.remove_writer(self._sock)
            self._writer_on = False

    def _on_readable(self) -> None:
        client = self._client
        if client is None:
            return
        client.loop_read()
        sock = self._sock
        while client is self._client and isinstance(sock, ssl.SSLSocket) and sock.pending():
            client.loop_read()
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
        self._ticker.add(client)

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
        if code in _UNSUPPORTED_PROTOCOL:
            _fail(connack, _ProtocolRefused(f"broker refused MQTT {self.options.protocol}: {reason}"))
        else:
            retryable = code not in (4, 5, 134, 135, 133, 140)
            _fail(connack, ConnectFailed(f"broker refused the connection: {reason}", retryable=retryable))

    def _handle_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if client is not self._client:
            return
        self._unwatch()
        self._ticker.remove(client)
        connack = self._connack
        if connack is not None and not connack.done():
            _fail(connack, _ProtocolRefused(f"the broker closed the connection before CONNACK ({reason})"))
        self._finish(str(reason))

    def _handle_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if self.on_message is not None:
            self.on_message(Message(msg.topic, bytes(msg.payload), int(msg.qos), bool(msg.retain)))

    def _handle_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        future = self._acks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)
        if not self._acks:
            client.on_publish = None


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    """Fail `future` and mark the exception retrieved (whoever awaits it still gets it)."""
    if not future.done():
        future.set_exception(exc)
        future.exception()
