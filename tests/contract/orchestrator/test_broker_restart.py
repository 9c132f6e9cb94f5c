"""The orchestrator survives its broker: after Mosquitto is killed and restarted it reconnects by itself,
resubscribes, announces itself again, and hears devices born after the restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import build
from orchestrator.mqtt.connection import MqttConnection, Received
from orchestrator.settings import load_settings
from protos import PROTOCOL_VERSION
from protos.topics import device_topic, orchestrator_topic
from protos.v1 import control_pb2
from tests.support.mosquitto import MosquittoBroker

pytestmark = [pytest.mark.contract, pytest.mark.slow]


async def until(check: Any, limit_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {limit_s}s")
        await asyncio.sleep(0.05)


async def test_the_orchestrator_reconnects_after_the_broker_restarts(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path / "mosquitto")
    broker.start()
    app = build(
        load_settings(
            None,
            mqtt={"broker": broker.address, "status_fleets": ["r1"]},
            api={"port": 0},
            metrics={"port": -1},
            models=[],
        )
    )
    states: list[control_pb2.OrchestratorState] = []

    def on_state(message: Received) -> None:
        state = control_pb2.OrchestratorState()
        state.ParseFromString(message.payload)
        states.append(state)

    watcher: MqttConnection | None = None
    try:
        await app.startup()
        assert app.mqtt is not None
        connection = app.mqtt
        broker.kill()
        await until(lambda: not connection.connected)
        restarted_ms = int(time.time() * 1000)
        broker.restart()
        await until(lambda: connection.connected)
        watcher = MqttConnection("127.0.0.1", broker.port, "watcher", on_state)
        await watcher.connect()
        watcher.subscribe([(orchestrator_topic("r1"), 1)])
        await until(lambda: any(s.online and s.timestamp_ms >= restarted_ms for s in states))
        birth = control_pb2.DeviceBirth(
            protocol_version=PROTOCOL_VERSION, device_id="after", fleet="r1", bd_seq=1
        )
        watcher.publish(device_topic("r1", "after", "birth"), birth.SerializeToString(), qos=1, retain=True)
        await until(lambda: app.stats.outcomes.get("birth_new_session", 0) >= 1)
        assert connection.disconnects >= 1
    finally:
        if watcher is not None:
            await watcher.close()
        await app.shutdown()
        broker.stop()
