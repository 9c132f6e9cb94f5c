"""A hostile or broken device on an unsecured broker: garbage, oversized payloads, wrong versions, NaN
telemetry and telemetry from nowhere. Ingest never stops (honest devices keep their sessions and plans),
every rejection is counted by reason, rebirth requests stay rate-limited, and no PlanUpdate the
orchestrator publishes carries a non-finite number (real Mosquitto, the real orchestrator process)."""

from __future__ import annotations

import asyncio
import math
import random
import urllib.request
from pathlib import Path

import numpy as np
import paho.mqtt.publish as mqtt_publish
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.device_classes import device_class
from agents.sim.devices import SimBirth
from agents.sim.fleet import SimulatedFleet
from agents.sim.traces import Trace
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2
from tests.faults.support import OrchestratorProcess, PersistentObserver, eventually, persistent_broker
from tests.support.ports import free_port

pytestmark = [pytest.mark.contract, pytest.mark.slow]

FLEET = "hostile"
HONEST = 5
FLAT = Trace(np.array([0.0, 1e6]), np.array([20.0, 20.0]), "flat")


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    flat: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            flat[f"{sample.name}{{{labels}}}"] = float(sample.value)
    return flat


def _is_plan(payload: bytes) -> bool:
    return control_pb2.Command.FromString(payload).HasField("plan_update")


def _impostor(port: int) -> None:
    """evil-2 starts like an ordinary device (a birth and sane telemetry) so that it gets a plan."""
    base = f"continuum/v1/{FLEET}/evil-2"
    birth = control_pb2.DeviceBirth(
        protocol_version=PROTOCOL_VERSION, device_id="evil-2", fleet=FLEET, bd_seq=7, site="site-a",
        capabilities=SimBirth(device_class("rpi4")).capabilities(),
    )  # fmt: skip
    messages = [(f"{base}/birth", birth.SerializeToString())]
    for seq in range(5):
        telemetry = control_pb2.Telemetry(protocol_version=PROTOCOL_VERSION, seq=seq, bd_seq=7)
        telemetry.links.add(target="edge", rtt_ms=8.0, uplink_mbps=20.0, downlink_mbps=20.0, link_type="wifi")
        telemetry.links.add(
            target="cloud", rtt_ms=45.0, uplink_mbps=20.0, downlink_mbps=20.0, link_type="wifi"
        )
        messages.append((f"{base}/state", telemetry.SerializeToString()))
    mqtt_publish.multiple(
        [{"topic": t, "payload": p, "qos": 1} for t, p in messages], hostname="127.0.0.1", port=port
    )


def _attack(port: int) -> None:
    """Publish the hostile traffic (QoS 1, so the broker has taken all of it when this returns)."""
    rng = random.Random(9)
    base = f"continuum/v1/{FLEET}"
    messages: list[tuple[str, bytes, int, bool]] = []
    messages += [(f"{base}/evil-1/state", rng.randbytes(rng.randrange(1, 200)), 1, False) for _ in range(300)]
    messages.append((f"{base}/evil-1/state", b"\x08\x01" + b"x" * 100_000, 1, False))
    wrong = control_pb2.DeviceBirth(protocol_version=PROTOCOL_VERSION + 1, device_id="evil-4", bd_seq=1)
    messages.append((f"{base}/evil-4/birth", wrong.SerializeToString(), 1, False))
    birth = control_pb2.DeviceBirth(
        protocol_version=PROTOCOL_VERSION, device_id="evil-2", fleet=FLEET, bd_seq=7
    )
    birth.capabilities.speed_factor = math.nan
    messages.append((f"{base}/evil-2/birth", birth.SerializeToString(), 1, False))
    for seq in range(20):
        telemetry = control_pb2.Telemetry(protocol_version=PROTOCOL_VERSION, seq=seq, bd_seq=7)
        for target in ("edge", "cloud"):
            value = (math.nan, math.inf, -1.0, 0.0)[seq % 4]
            telemetry.links.add(
                target=target, rtt_ms=value, uplink_mbps=value, downlink_mbps=value, loss=value
            )
        telemetry.cpu_percent = math.nan
        messages.append((f"{base}/evil-2/state", telemetry.SerializeToString(), 1, False))
    for seq in range(50):
        ghost = control_pb2.Telemetry(protocol_version=PROTOCOL_VERSION, seq=seq, bd_seq=3)
        messages.append((f"{base}/evil-3/state", ghost.SerializeToString(), 1, False))
    mqtt_publish.multiple(
        [{"topic": t, "payload": p, "qos": q, "retain": r} for t, p, q, r in messages],
        hostname="127.0.0.1",
        port=port,
    )


async def test_hostile_traffic_is_counted_and_never_stops_ingest_or_reaches_a_plan(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "broker")
    broker.start()
    metrics_port = free_port()
    orchestrator = OrchestratorProcess(
        tmp_path / "orchestrator", broker.port, FLEET, extra={"metrics": {"port": metrics_port}}
    )
    orchestrator.start()
    commands = PersistentObserver(broker.port, (f"continuum/v1/{FLEET}/+/cmd",), client_id="cmd-observer")
    commands.start()
    fleet = SimulatedFleet("127.0.0.1", broker.port, FLEET, HONEST, traces=[FLAT], telemetry_interval_s=0.5)

    def honest_planned() -> bool:
        devices = {d.id: d for d in orchestrator.devices()}
        return all(
            (d := devices.get(s.device_id)) is not None and d.state == "online" and len(d.plans) > 0
            for s in fleet.devices
        )

    try:
        await fleet.start()
        assert await fleet.wait_online(30) == HONEST
        await eventually(honest_planned, 30)
        await asyncio.to_thread(_impostor, broker.port)
        await eventually(lambda: any("/evil-2/" in t and _is_plan(p) for t, p in commands.snapshot()), 15)
        await asyncio.to_thread(_attack, broker.port)
        await asyncio.sleep(3.0)
        assert orchestrator.process is not None
        assert orchestrator.process.poll() is None, "the orchestrator died"
        await eventually(honest_planned, 10)

        metrics = _metrics(metrics_port)
        assert metrics.get("continuum_ingest_rejected_total{reason=undecodable}", 0) >= 250
        assert metrics.get("continuum_ingest_rejected_total{reason=oversized}", 0) >= 1
        assert metrics.get("continuum_ingest_rejected_total{reason=unknown_version}", 0) >= 1
        assert metrics.get("continuum_loop_errors_total{}", 0) == 0

        updates: list[tuple[str, control_pb2.PlanUpdate]] = []
        rebirths_to_ghost = 0
        for topic, payload in commands.snapshot():
            command = control_pb2.Command.FromString(payload)
            if command.HasField("plan_update"):
                updates.append((topic, command.plan_update))
            if command.HasField("rebirth") and "/evil-3/" in topic:
                rebirths_to_ghost += 1
        assert rebirths_to_ghost <= 2, f"{rebirths_to_ghost} rebirth requests to one unknown device in ~3 s"
        bad = [
            (topic, u.model, u.predicted_latency_ms, u.predicted_cost_usd, u.predicted_energy_j)
            for topic, u in updates
            if not all(
                math.isfinite(v) and v >= 0
                for v in (u.predicted_latency_ms, u.predicted_cost_usd, u.predicted_energy_j)
            )
            or not set(u.tiers) <= {"device", "edge", "cloud"}
        ]
        assert bad == [], f"PlanUpdates with garbage figures were published: {bad[:3]}"
    finally:
        await fleet.stop()
        commands.stop()
        orchestrator.stop()
        broker.stop()
