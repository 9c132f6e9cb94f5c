"""Store and forward against a real broker that is SIGKILLed and restarted."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from protos.v1 import control_pb2 as pb
from tests.contract.agent.conftest import agent_settings, running_agent
from tests.contract.agent.recorder import Recorder
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract

STATE = "continuum/v1/testfleet/dev-1/state"


def saved_after(database: Path, moment: float) -> None:
    """Wait until Mosquitto autosaves (every second) after `moment`, so the recorder's persistent session
    survives the crash."""
    for _ in range(200):
        if database.exists() and database.stat().st_mtime > moment + 0.1:
            return
        time.sleep(0.1)
    raise AssertionError(f"{database} was not saved; is persistence writable?")


async def test_telemetry_buffered_while_the_broker_is_down_is_replayed_in_order_and_complete(
    durable_broker: MosquittoBroker, tmp_path: Path
) -> None:
    recorder = Recorder(durable_broker.port, STATE, client_id="replay-recorder", persistent=True).start()
    await asyncio.to_thread(saved_after, durable_broker.workdir / "mosquitto.db", time.time())
    try:
        async with running_agent(agent_settings(durable_broker.port, tmp_path / "state")) as agent:
            session = agent.session
            await asyncio.to_thread(recorder.wait, lambda: session.counters["telemetry_sent"] >= 3)
            killed_ms = int(time.time() * 1000)
            durable_broker.kill()
            await asyncio.to_thread(recorder.wait, lambda: session.counters["telemetry_buffered"] >= 10)
            durable_broker.restart()
            await asyncio.to_thread(
                recorder.wait,
                lambda: (
                    session.counters["telemetry_replayed"] >= session.counters["telemetry_buffered"] >= 10
                ),
                30,
            )
            buffered = session.counters["telemetry_buffered"]
            assert agent.buffer.pending("dev-1") == 0

            def history() -> list[pb.Telemetry]:
                seen = [pb.Telemetry.FromString(m.payload) for m in recorder.on("/state")]
                return [t for t in seen if t.historical]

            replayed: list[pb.Telemetry] = await asyncio.to_thread(
                recorder.wait, lambda: history() if len(history()) >= buffered else None
            )
    finally:
        recorder.stop()
    stamps = [t.timestamp_ms for t in replayed]
    assert len(replayed) == buffered
    assert stamps == sorted(stamps)
    outage = [t for t in replayed if t.timestamp_ms >= killed_ms]
    assert len(outage) >= 10
    assert all((b.seq - a.seq) % 256 == 1 for a, b in itertools.pairwise(outage))
