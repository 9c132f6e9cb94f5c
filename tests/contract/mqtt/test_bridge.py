"""The MQTT bridge against a real Mosquitto on loopback: MQTT 5 and when it falls back to 3.1.1, QoS 1
acknowledgements, the last will on an abort, and the retained flag as set.

Mosquitto speaks MQTT 5, so a small proxy in front of it plays the broker that does not: it closes on, or
refuses, a v5 CONNECT and passes every other connection through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Literal

import pytest

from continuum_mqtt import (
    BrokerUnreachable,
    ConnectFailed,
    Connection,
    ConnectOptions,
    Message,
    MiscTicker,
    Will,
)
from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port

pytestmark = pytest.mark.contract

_V5_UNSUPPORTED_CONNACK = bytes([0x20, 0x03, 0x00, 0x84, 0x00])  # CONNACK, reason 0x84, no properties


class V5Refuser:
    """Forwards MQTT 3.1.1 connections to the broker; a v5 CONNECT is closed on or refused."""

    def __init__(self, broker_port: int, mode: Literal["close", "refuse"]) -> None:
        self.broker_port, self.mode = broker_port, mode
        self.levels: list[int] = []
        """The protocol level of every CONNECT seen (5 or 4), in order."""
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Fixed header (1 byte), remaining length (1 byte for a short CONNECT), name length, "MQTT", level.
        head = await reader.readexactly(9)
        level = head[8]
        self.levels.append(level)
        if level == 5:
            if self.mode == "refuse":
                writer.write(_V5_UNSUPPORTED_CONNACK)
                await writer.drain()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        up_writer.write(head)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.fixture
async def ticker() -> AsyncIterator[MiscTicker]:
    ticker = MiscTicker()
    yield ticker
    await ticker.close()


def options(port: int, client_id: str, protocol: Literal["auto", "5", "3.1.1"] = "auto") -> ConnectOptions:
    return ConnectOptions("127.0.0.1", port, client_id, protocol=protocol, connect_timeout_s=5.0)


class Watcher:
    """A subscriber (itself a bridge connection) that collects what arrives."""

    def __init__(self, port: int, ticker: MiscTicker, client_id: str = "watcher") -> None:
        self.messages: list[Message] = []
        self.connection = Connection(options(port, client_id), ticker, self.messages.append)

    async def start(self, topic: str) -> None:
        await self.connection.connect(None)
        self.connection.subscribe(topic, qos=1)
        # The SUBACK is not awaited: a message of our own proves the subscription is in place.
        probe = topic.replace("#", "probe")
        async with asyncio.timeout(10):
            while not any(m.topic == probe for m in self.messages):
                self.connection.publish(probe, b"", qos=0)
                await asyncio.sleep(0.05)
        self.messages.clear()

    async def wait_for(self, topic: str, timeout_s: float = 10.0) -> Message:
        async with asyncio.timeout(timeout_s):
            while True:
                for message in self.messages:
                    if message.topic == topic:
                        return message
                await asyncio.sleep(0.02)


async def test_connects_with_mqtt_5(mosquitto: MosquittoBroker, ticker: MiscTicker) -> None:
    connection = Connection(options(mosquitto.port, "c1"), ticker)
    await connection.connect(None)
    assert connection.connected
    assert connection.protocol == "5"
    await connection.disconnect()
    assert not connection.connected


@pytest.mark.parametrize("mode", ["close", "refuse"])
async def test_falls_back_to_311_where_v5_is_not_spoken_and_remembers(
    mosquitto: MosquittoBroker, ticker: MiscTicker, mode: Literal["close", "refuse"]
) -> None:
    proxy = V5Refuser(mosquitto.port, mode)
    await proxy.start()
    try:
        connection = Connection(options(proxy.port, "c1"), ticker)
        await connection.connect(None)
        assert connection.protocol == "3.1.1"
        connection.abort()
        await connection.connect(None)
        assert connection.protocol == "3.1.1"
        assert proxy.levels == [5, 4, 4], "the second connection goes straight to 3.1.1"
        await connection.disconnect()
    finally:
        await proxy.stop()


async def test_no_fallback_when_the_version_is_pinned(mosquitto: MosquittoBroker, ticker: MiscTicker) -> None:
    proxy = V5Refuser(mosquitto.port, "refuse")
    await proxy.start()
    try:
        connection = Connection(options(proxy.port, "c1", protocol="5"), ticker)
        with pytest.raises(ConnectFailed):
            await connection.connect(None)
        assert proxy.levels == [5]
    finally:
        await proxy.stop()


async def test_an_unreachable_broker_is_one_retryable_failure(ticker: MiscTicker) -> None:
    connection = Connection(options(free_port(), "c1"), ticker)
    with pytest.raises(BrokerUnreachable) as failure:
        await connection.connect(None)
    assert failure.value.retryable
    assert not connection.connected


async def test_publish_at_qos_1_is_acknowledged_and_delivered(
    mosquitto: MosquittoBroker, ticker: MiscTicker
) -> None:
    watcher = Watcher(mosquitto.port, ticker)
    await watcher.start("t/#")
    publisher = Connection(options(mosquitto.port, "publisher"), ticker)
    await publisher.connect(None)
    async with asyncio.timeout(10):
        await publisher.publish_acked("t/acked", b"payload")
    message = await watcher.wait_for("t/acked")
    assert (message.payload, message.qos, message.retain) == (b"payload", 1, False)
    await publisher.disconnect()
    await watcher.connection.disconnect()


@pytest.mark.parametrize("retain", [True, False])
async def test_the_will_is_delivered_on_abort_with_its_retain_flag(
    mosquitto: MosquittoBroker, ticker: MiscTicker, retain: bool
) -> None:
    watcher = Watcher(mosquitto.port, ticker)
    await watcher.start("w/#")
    device = Connection(options(mosquitto.port, "device"), ticker)  # a device's kept session, as agents use
    await device.connect(Will("w/death", b"gone", 1, retain))
    device.abort()
    live = await watcher.wait_for("w/death")
    assert (live.payload, live.qos) == (b"gone", 1)
    late = Watcher(mosquitto.port, ticker, "late")
    await late.connection.connect(None)
    late.connection.subscribe("w/death", qos=1)
    if retain:
        assert (await late.wait_for("w/death")).retain
    else:
        with pytest.raises(TimeoutError):
            await late.wait_for("w/death", timeout_s=1.0)
    await late.connection.disconnect()
    await watcher.connection.disconnect()


async def test_disconnect_drops_the_will_and_reports_no_loss(
    mosquitto: MosquittoBroker, ticker: MiscTicker
) -> None:
    watcher = Watcher(mosquitto.port, ticker)
    await watcher.start("w/#")
    lost: list[str] = []
    device = Connection(
        ConnectOptions("127.0.0.1", mosquitto.port, "device", clean_session=True),
        ticker,
        on_lost=lambda reason, code: lost.append(reason),
    )
    await device.connect(Will("w/death", b"gone", 1, False))
    await device.disconnect()
    with pytest.raises(TimeoutError):
        await watcher.wait_for("w/death", timeout_s=1.0)
    assert lost == []
    await watcher.connection.disconnect()


async def test_retained_flag_as_published(mosquitto: MosquittoBroker, ticker: MiscTicker) -> None:
    publisher = Connection(options(mosquitto.port, "publisher"), ticker)
    await publisher.connect(None)
    await publisher.publish_acked("r/kept", b"k", retain=True)
    await publisher.publish_acked("r/not", b"n", retain=False)
    late = Watcher(mosquitto.port, ticker, "late")
    await late.connection.connect(None)
    late.connection.subscribe("r/#", qos=1)
    kept = await late.wait_for("r/kept")
    assert (kept.payload, kept.retain) == (b"k", True)
    with pytest.raises(TimeoutError):
        await late.wait_for("r/not", timeout_s=1.0)
    await publisher.disconnect()
    await late.connection.disconnect()


async def test_a_broker_crash_is_reported_as_lost(mosquitto: MosquittoBroker, ticker: MiscTicker) -> None:
    lost: list[str] = []
    connection = Connection(
        options(mosquitto.port, "c1"), ticker, on_lost=lambda reason, code: lost.append(reason)
    )
    await connection.connect(None)
    mosquitto.kill()
    async with asyncio.timeout(10):
        reason = await connection.wait_closed()
    assert lost == [reason]
    assert not connection.connected
