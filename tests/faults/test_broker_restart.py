"""Broker killed with SIGKILL and restarted: agents reconnect, the telemetry they buffered while the broker
was down arrives afterwards at QoS 1, in order, none lost, and the orchestrator's fleet is whole again
within 30 s (real Mosquitto, simulated agents, the real `continuum orchestrator` process over gRPC)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

from agents.sim.fleet import SimulatedFleet
from tests.faults.support import (
    OrchestratorProcess,
    PersistentObserver,
    checkpoint_then_kill,
    eventually,
    persistence_errors,
    persistent_broker,
)

pytestmark = [pytest.mark.contract, pytest.mark.slow]

FLEET = "faults"
DEVICES = 5
WHOLE_BOUND_S = 30.0


async def test_broker_sigkill_then_restart_replays_buffered_telemetry_in_order_with_none_lost(
    tmp_path: Path,
) -> None:
    broker = persistent_broker(tmp_path / "broker")
    broker.start()
    observer = PersistentObserver(broker.port, (f"continuum/v1/{FLEET}/+/state",))
    observer.start()
    orchestrator = OrchestratorProcess(tmp_path / "orchestrator", broker.port, FLEET)
    orchestrator.start()
    fleet = SimulatedFleet(
        "127.0.0.1",
        broker.port,
        FLEET,
        DEVICES,
        telemetry_interval_s=0.1,
        state_dir=tmp_path / "agents",
        keepalive_s=5,
    )
    try:
        await fleet.start()
        assert await fleet.wait_online(30) == DEVICES
        await eventually(lambda: _online(orchestrator) == DEVICES, 30)
        await asyncio.sleep(1.0)  # live telemetry flows
        await checkpoint_then_kill(broker)
        await eventually(lambda: fleet.online_count == 0, 10)
        await asyncio.sleep(2.0)  # ~20 telemetry ticks per device go to the on-disk buffer
        assert fleet.counters().get("telemetry_buffered", 0) >= DEVICES * 10
        broker.restart()
        whole_s = await eventually(lambda: _current(orchestrator, fleet) == DEVICES, WHOLE_BOUND_S)
        print(f"orchestrator fleet whole {whole_s:.1f} s after the broker restarted")
        await eventually(lambda: fleet.online_count == DEVICES, 30)
        await eventually(
            lambda: all(
                d.session.counters["telemetry_replayed"] >= d.session.counters["telemetry_buffered"]
                for d in fleet.devices
            ),
            30,
        )
        buffered = {d.device_id: d.session.counters["telemetry_buffered"] for d in fleet.devices}

        def historical_by_device() -> dict[str, list[int]]:
            seen: dict[str, list[int]] = defaultdict(list)
            for device, message in observer.telemetry():
                if message.historical and message.timestamp_ms not in seen[device]:
                    seen[device].append(message.timestamp_ms)
            return seen

        await eventually(lambda: all(len(historical_by_device()[d]) >= n for d, n in buffered.items()), 30)
        received = historical_by_device()
        for device, count in buffered.items():
            stamps = received[device]
            assert len(stamps) == count, f"{device}: buffered {count}, received {len(stamps)} distinct"
            assert stamps == sorted(stamps), f"{device}: replay out of order"
        totals = fleet.counters()
        assert totals.get("telemetry_replayed", 0) >= sum(buffered.values())
        assert totals.get("telemetry_lost_offline", 0) == 0
        assert persistence_errors(broker) == []
    finally:
        await fleet.stop()
        observer.stop()
        orchestrator.stop()
        broker.stop()


def _online(orchestrator: OrchestratorProcess) -> int:
    return sum(1 for d in orchestrator.devices() if d.state == "online")


def _current(orchestrator: OrchestratorProcess, fleet: SimulatedFleet) -> int:
    """Devices the orchestrator shows online in the agent's current session (its new connection's bdSeq)."""
    count = 0
    for device in fleet.devices:
        state = device.session.state
        detail = orchestrator.detail(device.device_id)
        if state is not None and detail is not None and detail.summary.state == "online":
            count += int(detail.bd_seq == state.bd_seq)
    return count
