"""DeviceSession's protocol rules with a hand-written fake transport and a fake wall clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.buffer import TelemetryBuffer
from agents.plans import PlanStore
from agents.session.bdseq import MemoryBdSeq
from agents.session.device import DeviceIdentity, DeviceSession
from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectFailed, Message, NotConnected, Will
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2 as pb

CMD = "continuum/v1/f/d/cmd"
ORCH = "continuum/v1/f/orchestrator"


class FakeTransport:
    """Records what the session sends; `up` says whether a connection exists."""

    def __init__(self, fail_connects: int = 0) -> None:
        self.on_message: Callable[[Message], None] | None = None
        self.up = False
        self.fail_connects = fail_connects
        self.wills: list[Will] = []
        self.sent: list[tuple[str, bytes, int, bool]] = []
        self.subscriptions: list[str] = []
        self._closed: asyncio.Future[str] | None = None

    @property
    def connected(self) -> bool:
        return self.up

    async def connect(self, will: Will) -> None:
        self.wills.append(will)
        if self.fail_connects:
            self.fail_connects -= 1
            raise ConnectFailed("refused")
        self.up = True
        self._closed = asyncio.get_running_loop().create_future()

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int:
        if not self.up:
            raise NotConnected("down")
        self.sent.append((topic, payload, qos, retain))
        return len(self.sent)

    async def publish_acked(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.publish(topic, payload, 1, retain)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.subscriptions.append(topic)

    async def wait_closed(self) -> str:
        assert self._closed is not None
        return await self._closed

    def drop(self) -> None:
        self.up = False
        if self._closed is not None and not self._closed.done():
            self._closed.set_result("dropped")

    async def disconnect(self) -> None:
        self.drop()

    def on(self, kind: str) -> list[bytes]:
        return [payload for topic, payload, _, _ in self.sent if topic.endswith(f"/{kind}")]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Nothing:
    def fill(self, telemetry: pb.Telemetry, now_s: float) -> None:
        pass

    def capabilities(self) -> pb.Capabilities:
        return pb.Capabilities(arch="test")

    def models(self) -> list[pb.ModelInfo]:
        return []


def make_session(
    transport: FakeTransport, clock: Clock, buffer: TelemetryBuffer | None = None
) -> DeviceSession:
    return DeviceSession(
        DeviceIdentity("f", "d", "site", "1.0"),
        transport,
        MemoryBdSeq(10),
        Nothing(),
        Nothing(),
        PlanStore(None),
        buffer=buffer,
        backoff=Backoff(0.001, 0.002),
        wall_clock=clock,
    )


async def started(session: DeviceSession) -> asyncio.Task[None]:
    task = asyncio.create_task(session.run())
    for _ in range(2000):
        if session.online:
            break
        await asyncio.sleep(0.001)
    return task


def command(issued_ms: int = 0, **body: object) -> Message:
    payload = pb.Command(protocol_version=PROTOCOL_VERSION, issued_ms=issued_ms, **body)  # type: ignore[arg-type]
    return Message(CMD, payload.SerializeToString(), False, qos=1)


async def test_connect_subscribes_and_births_with_the_bdseq_in_the_will() -> None:
    transport, clock = FakeTransport(fail_connects=2), Clock()
    session = make_session(transport, clock)
    task = await started(session)
    birth = pb.DeviceBirth.FromString(transport.on("birth")[0])
    will = pb.DeviceDeath.FromString(transport.wills[-1].payload)
    assert birth.bd_seq == will.bd_seq == 10  # failed attempts reuse the reserved bdSeq
    assert len(transport.wills) == 3
    assert session.counters["connect_failures"] == 2
    assert set(transport.subscriptions) == {CMD, ORCH}
    await session.stop()
    await task
    death = pb.DeviceDeath.FromString(transport.on("death")[0])
    assert (death.bd_seq, death.reason) == (10, "shutdown")


async def test_a_new_connection_gets_a_new_bdseq_and_seq_restarts() -> None:
    transport, clock = FakeTransport(), Clock()
    session = make_session(transport, clock)
    task = await started(session)
    session.tick(0.0)
    session.tick(1.0)
    transport.drop()
    for _ in range(100):
        await asyncio.sleep(0.001)
        if session.online and session.state is not None and session.state.bd_seq == 11:
            break
    session.tick(2.0)
    seen = [pb.Telemetry.FromString(p) for p in transport.on("state")]
    assert [(t.bd_seq, t.seq) for t in seen] == [(10, 0), (10, 1), (11, 0)]
    await session.stop()
    await task


async def test_commands_older_than_an_hour_are_rejected_as_expired() -> None:
    transport, clock = FakeTransport(), Clock()
    session = make_session(transport, clock)
    task = await started(session)
    stale = int(clock.now * 1000) - 2 * 3600_000
    session.handle_message(command(issued_ms=stale, rebirth=pb.Rebirth()))
    session.handle_message(command(issued_ms=int(clock.now * 1000), rebirth=pb.Rebirth()))
    assert session.counters["commands_rejected:expired"] == 1
    assert len(transport.on("birth")) == 2
    await session.stop()
    await task


async def test_only_an_orchestrator_coming_online_during_the_session_triggers_a_rebirth() -> None:
    transport, clock = FakeTransport(), Clock()
    session = make_session(transport, clock)
    task = await started(session)

    def state(online: bool, instance: str) -> Message:
        payload = pb.OrchestratorState(protocol_version=PROTOCOL_VERSION, online=online, instance=instance)
        return Message(ORCH, payload.SerializeToString(), True, qos=1)

    session.handle_message(state(True, "a"))  # the retained state on subscribe: no rebirth
    session.handle_message(state(True, "a"))  # same instance again: no rebirth
    assert len(transport.on("birth")) == 1
    session.handle_message(state(True, "b"))  # a new instance took over
    session.handle_message(state(False, "b"))
    session.handle_message(state(True, "b"))  # came back
    assert len(transport.on("birth")) == 3
    await session.stop()
    await task


async def test_offline_ticks_are_buffered_historical_and_replayed_after_reconnect(tmp_path: Path) -> None:
    transport, clock = FakeTransport(), Clock()
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", 100, 3600, clock)
    session = make_session(transport, clock, buffer)
    task = await started(session)
    session.tick(0.0)
    transport.fail_connects = 10**6
    transport.drop()
    await asyncio.sleep(0.01)
    for second in range(1, 4):
        session.tick(float(second))
    assert buffer.pending("d") == 3
    transport.fail_connects = 0
    for _ in range(200):
        await asyncio.sleep(0.001)
        if buffer.pending("d") == 0:
            break
    history = [pb.Telemetry.FromString(p) for p in transport.on("state")][1:]
    assert [(t.historical, t.bd_seq, t.seq) for t in history] == [(True, 10, 1), (True, 10, 2), (True, 10, 3)]
    assert session.counters["telemetry_replayed"] == 3
    await session.stop()
    await task


async def test_a_message_on_an_unexpected_topic_is_counted() -> None:
    transport, clock = FakeTransport(), Clock()
    session = make_session(transport, clock)
    session.handle_message(Message("continuum/v1/f/other/cmd", b"", False, qos=0))
    assert session.counters["messages_unexpected"] == 1


@pytest.mark.parametrize("outcome", ["applied", "duplicate", "stale"])
async def test_plan_outcomes_are_counted(outcome: str) -> None:
    transport, clock = FakeTransport(), Clock()
    session = make_session(transport, clock)
    versions = {"applied": [1], "duplicate": [1, 1], "stale": [2, 1]}[outcome]
    for version in versions:
        plan = pb.PlanUpdate(model="m", version=version, layers=["a"], tiers=["edge"])
        session.handle_message(command(plan_update=plan))
    assert session.counters[f"plans_{outcome}"] == 1


def test_a_buffer_that_cannot_store_is_counted_not_raised(tmp_path: Path) -> None:
    clock = Clock()
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", 100, 3600, clock)
    buffer.close()  # every write now fails
    session = make_session(FakeTransport(), clock, buffer)
    session.tick(0.0)
    assert session.counters["telemetry_lost_buffer_error"] == 1
