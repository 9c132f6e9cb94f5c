"""Two orchestrator replicas on one broker elect one publisher over a Lease; the standby takes over.

Real Mosquitto, two in-process orchestrators (local shards), and the Kubernetes wrapper's real client
against the local wire-compatible API server of tests/contract/kube (no cluster can run here). A scripted
device publishes its birth; both replicas ingest it (the standby stays warm), but only the leader's
PlanUpdate reaches the device's cmd topic and only the leader's state is retained. When the leader shuts
down it releases the Lease; the standby starts leading, announces itself and publishes the next plan.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from orchestrator.app import Orchestrator, build
from orchestrator.kube import KubeClient, KubeSettings, build_kube
from orchestrator.mqtt.connection import MqttConnection, Received
from orchestrator.settings import load_settings
from protos import PROTOCOL_VERSION
from protos.topics import device_topic, orchestrator_topic
from protos.v1 import control_pb2
from tests.contract.kube.apiserver import FakeApiServer
from tests.support.mosquitto import MosquittoBroker
from tests.unit.orchestrator.fleetkit import tiny_scenario

pytestmark = [pytest.mark.contract, pytest.mark.slow]

FLEET = "lf"
DEVICE = "d1"


async def until(check: Callable[[], bool], what: str, within_s: float = 20.0) -> None:
    """Poll `check` on the loop until it holds (or fail naming `what`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"never happened within {within_s:.0f} s: {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    mosquitto = MosquittoBroker(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def apiserver() -> Iterator[FakeApiServer]:
    server = FakeApiServer(token="test-token")
    server.start()
    yield server
    server.stop()


def _replica(broker: MosquittoBroker, apiserver: FakeApiServer, folder: Path, name: str) -> Orchestrator:
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "tiny.json"
    scenario.write_text(json.dumps(tiny_scenario()))
    settings = load_settings(
        None,
        instance=name,
        mqtt={"broker": broker.address, "status_fleets": [FLEET], "client_id": f"orch-{name}"},
        models=[{"name": "tiny", "scenario": str(scenario)}],
        api={"port": 0},
        metrics={"port": -1},
        events={"path": str(folder / "events.sqlite3")},
        tiers=[{"tier": "edge", "site": "s1"}, {"tier": "cloud", "site": "cloud"}],
    )
    kube_settings = KubeSettings(
        namespace="continuum", identity=name, lease_duration_s=2, renew_deadline_s=1.0, retry_period_s=0.2
    )

    def kube(**callbacks: Any) -> Any:
        client = KubeClient.for_host(apiserver.url, token="test-token", request_timeout_s=5)
        return build_kube(kube_settings, client=client, **callbacks)

    return build(settings, kube=kube)


class Device:
    """A scripted device: real MQTT, real protobufs; records its commands and the retained state."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.plans: list[control_pb2.PlanUpdate] = []
        self.states: list[control_pb2.OrchestratorState] = []
        self.conn: MqttConnection | None = None

    def _on_message(self, message: Received) -> None:
        if message.topic == orchestrator_topic(FLEET):
            state = control_pb2.OrchestratorState()
            state.ParseFromString(message.payload)
            self.states.append(state)
            return
        command = control_pb2.Command()
        command.ParseFromString(message.payload)
        if command.WhichOneof("body") == "plan_update":
            self.plans.append(command.plan_update)

    async def start(self) -> None:
        self.conn = MqttConnection("127.0.0.1", self.port, "dev-d1", self._on_message)
        await self.conn.connect()
        self.conn.subscribe([(device_topic(FLEET, DEVICE, "cmd"), 1), (orchestrator_topic(FLEET), 1)])
        birth = control_pb2.DeviceBirth(
            protocol_version=PROTOCOL_VERSION,
            device_id=DEVICE,
            fleet=FLEET,
            bd_seq=1,
            site="s1",
            capabilities=control_pb2.Capabilities(arch="aarch64", cpu_count=4, speed_factor=1.0),
            models=[control_pb2.ModelInfo(name="tiny")],
        )
        self.conn.publish(device_topic(FLEET, DEVICE, "birth"), birth.SerializeToString(), qos=1)

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()


@pytest_asyncio.fixture
async def replicas(
    broker: MosquittoBroker, apiserver: FakeApiServer, tmp_path: Path
) -> AsyncIterator[tuple[Orchestrator, Orchestrator]]:
    a = _replica(broker, apiserver, tmp_path / "a", "replica-a")
    b = _replica(broker, apiserver, tmp_path / "b", "replica-b")
    await a.startup()
    await until(lambda: a.is_leader, "the first replica leads")
    await b.startup()
    try:
        yield a, b
    finally:
        for app in (b, a):
            if app.loop is not None and app.mqtt is not None:
                await app.shutdown()


async def test_only_the_leader_publishes_and_the_standby_takes_over(
    replicas: tuple[Orchestrator, Orchestrator], broker: MosquittoBroker
) -> None:
    a, b = replicas
    device = Device(broker.port)
    await device.start()
    try:
        births = "birth_new_session"
        await until(lambda: a.stats.outcomes.get(births, 0) >= 1, "the leader ingests the birth")
        await until(lambda: b.stats.outcomes.get(births, 0) >= 1, "the standby ingests the birth (warm)")
        await until(lambda: bool(device.plans), "a PlanUpdate reaches the device")
        assert isinstance(b.loop, type(a.loop))
        await until(lambda: getattr(b.loop, "suppressed", 0) >= 1, "the standby holds its plan back")

        assert a.is_leader
        assert not b.is_leader
        assert a.stats.commands.get("plan_update", 0) == len(device.plans) == 1
        assert b.stats.commands.get("plan_update", 0) == 0
        assert {s.instance for s in device.states if s.online} == {"replica-a"}
        first = device.plans[0].version

        await a.shutdown()
        await until(lambda: b.is_leader, "the standby leads once the Lease is released")
        await until(
            lambda: bool(device.states) and device.states[-1].instance == "replica-b",
            "the new leader announces itself",
        )
        assert device.states[-1].online
        assert [s.instance for s in device.states if not s.online] == ["replica-a"]

        result = await b.controls.act("pin", DEVICE, "tiny", ["edge", "edge"], True)
        assert result.status == "ok", result.message
        await until(lambda: len(device.plans) == 2, "the new leader's PlanUpdate reaches the device")
        assert b.stats.commands.get("plan_update", 0) == 1
        assert device.plans[1].pinned
        assert device.plans[1].version > first
    finally:
        await device.stop()
