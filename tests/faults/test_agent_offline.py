"""A device cut off from the broker (and so from the orchestrator) for a long time, in compressed time:
it keeps serving with its last plan down the fallback ladder, stores telemetry on disk, applies the
buffer's TTL and size policies with counts, and replays the rest in order once the broker is back
(real Mosquitto, the real DeviceSession and TelemetryBuffer, real ONNX Runtime)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import paho.mqtt.publish as mqtt_publish
import pytest

from agents.buffer import TelemetryBuffer
from agents.dataplane import DeviceInference
from agents.device_classes import device_class
from agents.plans import PlanStore
from agents.session.bdseq import MemoryBdSeq
from agents.session.device import DeviceIdentity, DeviceSession
from agents.sim.devices import SimBirth, TraceTelemetry
from agents.sim.traces import Trace
from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectOptions, MqttConnection
from agents.transport.ticker import MiscTicker
from continuum_inference import zoo
from continuum_inference.runtime import SegmentRunner, example_inputs, session
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2
from tests.faults.support import (
    PersistentObserver,
    checkpoint_then_kill,
    eventually,
    persistence_errors,
    persistent_broker,
)
from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port

pytestmark = [pytest.mark.contract, pytest.mark.slow]

FLEET = "offline"
DEVICE = "dev-1"
MODEL = "mobilenetv2"
FLAT = Trace(np.array([0.0, 1e6]), np.array([20.0, 20.0]), "flat")
T0 = 1_800_000_000.0


class FakeClock:
    """Wall time that the test moves forward: hours of outage pass in a few hundred ticks."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@dataclass
class Agent:
    """One real agent session and its parts."""

    session: DeviceSession
    buffer: TelemetryBuffer
    clock: FakeClock
    task: asyncio.Task[None]
    ticker: MiscTicker

    async def close(self) -> None:
        """Stop the session and release the buffer file."""
        await self.session.stop()
        await asyncio.wait_for(self.task, 10)
        await self.ticker.close()
        self.buffer.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[MosquittoBroker, PersistentObserver, Path]]:
    broker = persistent_broker(tmp_path / "broker")
    broker.start()
    observer = PersistentObserver(broker.port, (f"continuum/v1/{FLEET}/{DEVICE}/state",))
    observer.start()
    try:
        yield broker, observer, tmp_path
        assert persistence_errors(broker) == []
    finally:
        observer.stop()
        broker.stop()


async def _agent(broker: MosquittoBroker, state_dir: Path, max_messages: int, ttl_s: float) -> Agent:
    clock = FakeClock()
    ticker = MiscTicker()
    options = ConnectOptions(host="127.0.0.1", port=broker.port, client_id=f"{FLEET}.{DEVICE}", keepalive_s=5)
    buffer = TelemetryBuffer(state_dir / "buffer.sqlite3", max_messages, ttl_s, clock)
    session = DeviceSession(
        DeviceIdentity(FLEET, DEVICE, "site-a", "test"),
        MqttConnection(options, ticker),
        MemoryBdSeq(),
        SimBirth(device_class("rpi4")),
        TraceTelemetry(FLAT, 0.0, 1),
        PlanStore(state_dir / "plans"),
        buffer=buffer,
        backoff=Backoff(0.2, 1.0),
        wall_clock=clock,
    )
    task = asyncio.create_task(session.run())
    await eventually(lambda: session.online, 20)
    return Agent(session, buffer, clock, task, ticker)


async def _go_offline(broker: MosquittoBroker, agent: Agent) -> None:
    await checkpoint_then_kill(broker)
    await eventually(lambda: not agent.session.online, 10)


def _historical(observer: PersistentObserver) -> list[int]:
    return [m.timestamp_ms for _, m in observer.telemetry() if m.historical]


async def test_long_outage_serves_last_plan_expires_old_telemetry_and_replays_the_rest_in_order(
    world: tuple[MosquittoBroker, PersistentObserver, Path],
) -> None:
    broker, observer, state_dir = world
    agent = await _agent(broker, state_dir, max_messages=1000, ttl_s=7200.0)
    model = zoo.build(MODEL)
    runner = SegmentRunner(model)
    names = runner.cutter.graph.names()
    tiers = ["device"] * 5 + ["edge"] * 8 + ["cloud"] * (len(names) - 13)
    command = control_pb2.Command(
        protocol_version=PROTOCOL_VERSION, command_id="plan-1", issued_ms=int(T0 * 1000)
    )
    command.plan_update.CopyFrom(control_pb2.PlanUpdate(model=MODEL, version=1, layers=names, tiers=tiers))
    mqtt_publish.single(
        f"continuum/v1/{FLEET}/{DEVICE}/cmd",
        command.SerializeToString(),
        qos=1,
        hostname="127.0.0.1",
        port=broker.port,
    )
    try:
        await eventually(lambda: agent.session.plans.get(MODEL) is not None, 10)
        await _go_offline(broker, agent)

        ticks = 180  # three hours at one message a minute
        for _ in range(ticks):
            agent.clock.now += 60.0
            agent.session.tick(agent.clock.now)
        assert agent.buffer.pending(DEVICE) == ticks

        # Still serving, three hours in: the last plan is held (also across a restart of the agent) and
        # requests complete on the device when the edge and the cloud are unreachable.
        held = agent.session.plans.get(MODEL)
        assert held is not None
        assert list(held.tiers) == tiers
        reloaded = PlanStore(state_dir / "plans").get(MODEL)
        assert reloaded is not None
        assert list(reloaded.tiers) == tiers
        dead = f"127.0.0.1:{free_port()}"
        device = DeviceInference(MODEL, runner, {"edge": dead, "cloud": dead})
        inputs = example_inputs(model)
        result = await device.infer(inputs, list(held.tiers), deadline_s=10.0)
        await device.close()
        assert (result.outcome, result.placement) == ("fallback", "device"), result.errors
        assert np.allclose(
            next(iter(result.outputs.values())), session(model).run(None, inputs)[0], atol=1e-4
        )

        cutoff = agent.clock.now - 7200.0
        expected_expired = sum(1 for k in range(1, ticks + 1) if T0 + 60.0 * k < cutoff)
        broker.restart()
        await eventually(lambda: agent.session.online, 20)
        await eventually(lambda: agent.buffer.pending(DEVICE) == 0, 20)
        counters = agent.buffer.counters(DEVICE)
        assert (counters.stored, counters.expired, counters.dropped) == (ticks, expected_expired, 0)
        assert counters.replayed == ticks - expected_expired
        await eventually(lambda: len(set(_historical(observer))) >= counters.replayed, 20)
        stamps = list(dict.fromkeys(_historical(observer)))
        assert len(stamps) == ticks - expected_expired
        assert stamps == sorted(stamps)
        assert min(stamps) >= int(cutoff * 1000)
    finally:
        await agent.close()


async def test_full_buffer_drops_the_oldest_counts_them_and_replays_the_newest_in_order(
    world: tuple[MosquittoBroker, PersistentObserver, Path],
) -> None:
    broker, observer, state_dir = world
    agent = await _agent(broker, state_dir, max_messages=5, ttl_s=1e9)
    try:
        await _go_offline(broker, agent)
        for _ in range(12):
            agent.clock.now += 1.0
            agent.session.tick(agent.clock.now)
        counters = agent.buffer.counters(DEVICE)
        assert (counters.stored, counters.dropped, counters.pending) == (12, 7, 5)
        broker.restart()
        await eventually(lambda: agent.buffer.pending(DEVICE) == 0, 20)
        await eventually(lambda: len(set(_historical(observer))) >= 5, 20)
        stamps = list(dict.fromkeys(_historical(observer)))
        assert stamps == [int((T0 + k) * 1000) for k in range(8, 13)]
    finally:
        await agent.close()


async def test_buffer_drops_are_reported_to_the_orchestrator_in_telemetry(
    world: tuple[MosquittoBroker, PersistentObserver, Path],
) -> None:
    """Nothing silently lost: what the buffer dropped shows in the device's telemetry counters."""
    broker, observer, state_dir = world
    agent = await _agent(broker, state_dir, max_messages=5, ttl_s=1e9)
    try:
        await _go_offline(broker, agent)
        for _ in range(12):
            agent.clock.now += 1.0
            agent.session.tick(agent.clock.now)
        broker.restart()
        await eventually(lambda: len(set(_historical(observer))) >= 5, 20)  # replayed: all are connected
        agent.clock.now += 1.0
        agent.session.tick(agent.clock.now)
        await eventually(lambda: any(not m.historical for _, m in observer.telemetry()), 10)
        live = [m for _, m in observer.telemetry() if not m.historical][-1]
        assert live.counters.get("buffer_dropped") == 7, dict(live.counters)
    finally:
        await agent.close()
