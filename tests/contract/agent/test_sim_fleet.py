"""The simulated fleet against a real Mosquitto: every device births, reports its trace, dies cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agents.device_classes import DEVICE_CLASSES
from agents.sim.fleet import SimulatedFleet
from agents.sim.traces import load_trace
from protos.v1 import control_pb2 as pb
from tests.contract.agent.recorder import Recorder
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract


async def test_simulated_devices_speak_the_protocol_with_trace_driven_links(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    steady = tmp_path / "steady.txt"
    steady.write_text("0 8.0\n100 8.0\n")
    fleet = SimulatedFleet(
        "127.0.0.1",
        mosquitto.port,
        "simfleet",
        12,
        traces=[load_trace(steady)],
        device_classes=["rpi4", "jetson-gpu"],
        telemetry_interval_s=0.2,
        state_dir=tmp_path / "sim",
    )
    await fleet.start()
    try:
        assert await fleet.wait_online(30) == 12

        def all_reported() -> bool:
            devices = {m.topic.split("/")[3] for m in recorder.on("/state")}
            return len(devices) == 12

        await asyncio.to_thread(recorder.wait, all_reported)
    finally:
        await fleet.stop()
    births = [pb.DeviceBirth.FromString(m.payload) for m in recorder.on("/birth")]
    assert len({b.device_id for b in births}) == 12
    classes = {b.device_id: b.capabilities.device_class for b in births}
    assert classes["sim-000"] == "rpi4"
    assert classes["sim-001"] == "jetson-gpu"
    speed = {b.capabilities.device_class: b.capabilities.speed_factor for b in births}
    assert speed["rpi4"] == DEVICE_CLASSES["rpi4"].speed_factor
    telemetry = [pb.Telemetry.FromString(m.payload) for m in recorder.on("/state")]
    edge = [link for t in telemetry for link in t.links if link.target == "edge"]
    assert edge
    assert all(link.uplink_mbps == pytest.approx(8.0) for link in edge)
    deaths = await asyncio.to_thread(
        recorder.wait, lambda: recorder.on("/death") if len(recorder.on("/death")) >= 12 else None
    )
    assert {pb.DeviceDeath.FromString(m.payload).reason for m in deaths} == {"shutdown"}


async def test_a_changing_trace_shows_as_a_changed_link(mosquitto: MosquittoBroker, tmp_path: Path) -> None:
    step = tmp_path / "step.txt"
    step.write_text("0 10.0\n1 10.0\n2 10.0\n3 1.0\n4 1.0\n")
    fleet = SimulatedFleet(
        "127.0.0.1", mosquitto.port, "simfleet", 1, traces=[load_trace(step)], telemetry_interval_s=0.1
    )
    device = None
    await fleet.start()
    try:
        await fleet.wait_online(30)
        device = fleet.devices[0]
        for _ in range(600):
            if device.telemetry.links[0].uplink.changes:
                break
            await asyncio.sleep(0.05)
    finally:
        await fleet.stop()
    assert device is not None
    assert device.telemetry.links[0].uplink.changes >= 1
