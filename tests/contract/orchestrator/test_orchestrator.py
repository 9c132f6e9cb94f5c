"""The orchestrator for real: Mosquitto, a local Ray holding the shards, gRPC on a free port, /metrics.

A scripted device (a real MQTT client speaking the real protobufs) publishes a birth and telemetry;
the test waits for the orchestrator to have handled each message (its own counters), never sleeps
for a fixed time, then checks what was published and what the operator API says.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from orchestrator.app import Orchestrator, build
from orchestrator.fleet.ray_backend import RayOwner, start_local_ray
from orchestrator.mqtt.connection import MqttConnection, Received, Will
from orchestrator.settings import load_settings
from protos import PROTOCOL_VERSION
from protos.topics import device_topic
from protos.v1 import control_pb2, operator_pb2, operator_pb2_grpc
from tests.support.mosquitto import MosquittoBroker
from tests.unit.orchestrator.fleetkit import tiny_scenario

pytestmark = [pytest.mark.contract, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

FLEET = "f1"
OPERATOR = [("authorization", "Bearer op-token")]
FAST, SLOW = 1000.0, 2.0


@pytest.fixture(scope="module")
def ray_local() -> Iterator[RayOwner]:
    owner = start_local_ray(num_cpus=1)
    yield owner
    owner.close()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    mosquitto = MosquittoBroker(tmp_path_factory.mktemp("mosquitto"))
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def orchestrator(
    broker: MosquittoBroker, ray_local: RayOwner, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Orchestrator]:
    folder = tmp_path_factory.mktemp("orchestrator")
    scenario = folder / "tiny.json"
    scenario.write_text(json.dumps(tiny_scenario()))
    settings = load_settings(
        None,
        mqtt={"broker": broker.address, "status_fleets": [FLEET]},
        fleet={"backend": "ray", "shards": 2},
        models=[{"name": "tiny", "scenario": str(scenario)}],
        replanning={"min_dwell_s": 0.0, "confirmations": 2},
        api={"port": 0, "operator_tokens": ["op-token"], "readonly_tokens": ["ro-token"]},
        metrics={"port": 0},
        events={"path": str(folder / "events.sqlite3")},
        tiers=[{"tier": "edge", "site": "s1"}, {"tier": "cloud", "site": "cloud"}],
    )
    app = build(settings)
    await app.startup()
    yield app
    await app.shutdown()


class Device:
    """A scripted device: a real MQTT session publishing real protobufs, collecting its commands."""

    def __init__(self, app: Orchestrator, device_id: str, port: int) -> None:
        self.app, self.id, self.port = app, device_id, port
        self.commands: list[control_pb2.Command] = []
        self.seq = 0
        self.conn: MqttConnection | None = None

    def _on_message(self, message: Received) -> None:
        command = control_pb2.Command()
        command.ParseFromString(message.payload)
        self.commands.append(command)

    async def start(self, bd_seq: int = 1) -> None:
        death = control_pb2.DeviceDeath(protocol_version=PROTOCOL_VERSION, bd_seq=bd_seq, reason="will")
        self.conn = MqttConnection(
            "127.0.0.1",
            self.port,
            f"dev-{self.id}",
            self._on_message,
            will=Will(device_topic(FLEET, self.id, "death"), death.SerializeToString(), 1, False),
        )
        await self.conn.connect()
        self.conn.subscribe([(device_topic(FLEET, self.id, "cmd"), 1)])
        birth = control_pb2.DeviceBirth(
            protocol_version=PROTOCOL_VERSION,
            device_id=self.id,
            fleet=FLEET,
            bd_seq=bd_seq,
            site="s1",
            capabilities=control_pb2.Capabilities(arch="aarch64", cpu_count=4, speed_factor=1.0),
            models=[control_pb2.ModelInfo(name="tiny")],
        )
        births = self.app.stats.outcomes.get("birth_new_session", 0)
        self.conn.publish(
            device_topic(FLEET, self.id, "birth"), birth.SerializeToString(), qos=1, retain=True
        )
        await until(lambda: self.app.stats.outcomes.get("birth_new_session", 0) > births)
        await until(lambda: bool(self.plans()))

    async def telemetry(self, mbps: float) -> None:
        """Publish one telemetry message and wait until the orchestrator has handled it."""
        assert self.conn is not None
        message = control_pb2.Telemetry(
            protocol_version=PROTOCOL_VERSION,
            seq=self.seq,
            bd_seq=1,
            links=[
                control_pb2.LinkEstimate(target="edge", rtt_ms=10.0, uplink_mbps=mbps, downlink_mbps=mbps)
            ],
        )
        self.seq += 1
        handled = self.app.stats.outcomes.get("telemetry_accepted", 0)
        self.conn.publish(device_topic(FLEET, self.id, "state"), message.SerializeToString(), qos=1)
        await until(lambda: self.app.stats.outcomes.get("telemetry_accepted", 0) > handled)
        await asyncio.sleep(0.05)  # let a command published in that step reach us

    def plans(self) -> list[tuple[int, tuple[str, ...], bool]]:
        return [
            (c.plan_update.version, tuple(c.plan_update.tiers), c.plan_update.pinned)
            for c in self.commands
            if c.WhichOneof("body") == "plan_update"
        ]

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()


async def until(check: Any, limit_s: float = 20.0) -> None:
    """Wait until `check()` holds (polling), or fail naming the limit."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {limit_s}s")
        await asyncio.sleep(0.02)


@pytest_asyncio.fixture(loop_scope="module")
async def stub(orchestrator: Orchestrator) -> AsyncIterator[Any]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{orchestrator.grpc_port}") as channel:
        yield operator_pb2_grpc.OperatorStub(channel)


async def device(app: Orchestrator, broker: MosquittoBroker, name: str) -> Device:
    d = Device(app, name, broker.port)
    await d.start()
    return d


async def test_a_birth_appears_in_the_fleet_with_its_first_plan(
    orchestrator: Orchestrator, broker: MosquittoBroker, stub: Any
) -> None:
    d = await device(orchestrator, broker, "born-1")
    response = await stub.ListDevices(operator_pb2.ListDevicesRequest(fleet=FLEET), timeout=5)
    summary = next(s for s in response.devices if s.id == "born-1")
    assert (summary.state, summary.site) == ("online", "s1")
    assert d.plans() == [(1, ("device", "device"), False)]
    telemetry_session = orchestrator.telemetry_mqtt
    assert orchestrator.mqtt is not None
    assert orchestrator.mqtt.v5, "births, deaths and commands use MQTT v5 on Mosquitto"
    assert telemetry_session is not None
    assert not telemetry_session.v5, "telemetry arrives on the 3.1.1 shared-subscription session"
    detail = await stub.GetDevice(operator_pb2.GetDeviceRequest(device_id="born-1"), timeout=5)
    assert {a.name for a in detail.plans[0].alternatives} == {"device_only", "edge_only", "cloud_only"}
    assert any(e.kind == "birth" for e in detail.recent_events)
    await d.stop()


async def test_a_bandwidth_drop_switches_within_two_intervals_and_a_blip_does_not(
    orchestrator: Orchestrator, broker: MosquittoBroker
) -> None:
    d = await device(orchestrator, broker, "mover-1")
    await d.telemetry(FAST)
    await d.telemetry(FAST)
    assert d.plans()[-1][:2] == (2, ("edge", "edge"))
    await d.telemetry(SLOW)
    await d.telemetry(FAST)
    await d.telemetry(FAST)
    assert d.plans()[-1][0] == 2, "a one-interval blip must not switch the plan"
    await d.telemetry(SLOW)
    await d.telemetry(SLOW)
    assert d.plans()[-1][:2] == (3, ("device", "device"))
    await d.stop()


async def test_edge_load_reported_by_the_data_plane_moves_plans_off_the_edge(
    orchestrator: Orchestrator, broker: MosquittoBroker, stub: Any
) -> None:
    d = await device(orchestrator, broker, "loaded-1")
    await d.telemetry(FAST)
    await d.telemetry(FAST)
    assert d.plans()[-1][1] == ("edge", "edge")
    try:
        await orchestrator.report_tier_load("edge", "s1", workers=1, capacity=4, queue_depth=400)
        tiers = await stub.ListTiers(operator_pb2.ListTiersRequest(), timeout=5)
        assert [t.queue_depth for t in tiers.tiers if t.tier == "edge"] == [400]
        await d.telemetry(FAST)
        await until(lambda: d.plans()[-1][1] == ("device", "device"))
    finally:
        await orchestrator.report_tier_load("edge", "s1", workers=1, capacity=8, queue_depth=0)
        await d.stop()


async def test_pin_and_drain_are_honoured(
    orchestrator: Orchestrator, broker: MosquittoBroker, stub: Any
) -> None:
    d = await device(orchestrator, broker, "steer-1")
    await stub.PinPlan(
        operator_pb2.PinPlanRequest(device_id="steer-1", model="tiny", tiers=["device", "edge"]),
        timeout=5,
        metadata=OPERATOR,
    )
    await until(lambda: d.plans()[-1][1:] == (("device", "edge"), True))
    await d.telemetry(FAST)
    await d.telemetry(FAST)
    assert d.plans()[-1][1:] == (("device", "edge"), True), "a pinned plan is never replaced"
    await stub.UnpinPlan(
        operator_pb2.UnpinPlanRequest(device_id="steer-1", model="tiny"), timeout=5, metadata=OPERATOR
    )
    await stub.DrainDevice(
        operator_pb2.DrainDeviceRequest(device_id="steer-1", drained=True), timeout=5, metadata=OPERATOR
    )
    await until(lambda: any(c.WhichOneof("body") == "drain" and c.drain.drained for c in d.commands))
    await until(lambda: d.plans()[-1][1] == ("device", "device"))
    summary = (await stub.GetDevice(operator_pb2.GetDeviceRequest(device_id="steer-1"), timeout=5)).summary
    assert summary.drained
    await d.stop()


async def test_mutations_need_an_operator_token_and_ids_are_checked(
    orchestrator: Orchestrator, stub: Any
) -> None:
    request = operator_pb2.ReplanRequest(device_id="")
    cases = [
        (stub.Replan(request, timeout=5), grpc.StatusCode.UNAUTHENTICATED),
        (
            stub.Replan(request, timeout=5, metadata=[("authorization", "Bearer ro-token")]),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            stub.GetDevice(operator_pb2.GetDeviceRequest(device_id="nobody"), timeout=5),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            stub.GetDevice(operator_pb2.GetDeviceRequest(device_id="bad/id"), timeout=5),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            stub.DrainSite(
                operator_pb2.DrainSiteRequest(site="nowhere", drained=True), timeout=5, metadata=OPERATOR
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
    ]
    for call, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == code
    ok = await stub.Replan(request, timeout=5, metadata=OPERATOR)
    assert ok.ok


async def test_watch_fleet_sends_a_snapshot_then_changes(
    orchestrator: Orchestrator, broker: MosquittoBroker, stub: Any
) -> None:
    stream = stub.WatchFleet(operator_pb2.WatchFleetRequest(), timeout=30)
    seen: list[operator_pb2.FleetChange] = []
    async for change in stream:
        seen.append(change)
        if change.snapshot_done:
            break
    d = await device(orchestrator, broker, "watched-1")
    async for change in stream:
        if change.upsert.id == "watched-1":
            assert change.upsert.state == "online"
            break
    stream.cancel()
    await d.stop()


async def test_health_serves_and_reflection_lists_the_operator_service(orchestrator: Orchestrator) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{orchestrator.grpc_port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "continuum.v1.Operator"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for reply in replies:
            names = {s.name for s in reply.list_services_response.service}
            assert {"continuum.v1.Operator", "grpc.health.v1.Health"} <= names
            break


async def test_metrics_parse_and_pass_promtool(orchestrator: Orchestrator, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{orchestrator.metrics_port}/metrics"
    text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
    assert 'continuum_devices{state="online"}' in text
    assert "continuum_broker_connected 1.0" in text
    if shutil.which("promtool"):
        checked = await asyncio.to_thread(
            subprocess.run, ["promtool", "check", "metrics"], input=text.encode(), capture_output=True
        )
        assert checked.returncode == 0, checked.stdout
        assert not checked.stdout.strip(), checked.stdout


async def _cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "continuum_cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_fleet_show_json_gives_each_plan_in_plan_v1_form_and_pin_needs_a_token(
    orchestrator: Orchestrator, broker: MosquittoBroker
) -> None:
    d = await device(orchestrator, broker, "cli-1")
    target = f"127.0.0.1:{orchestrator.grpc_port}"
    status, out = await _cli("fleet", "show", "cli-1", "--target", target, "--json")
    assert status == 0, out
    plan = json.loads(out)["plans"]["tiny"]
    assert plan["format"] == "continuum.plan/v1"
    assert plan["assignment"] == {"l1": "device", "l2": "device"}
    assert set(plan["alternatives"]) == {"device_only", "edge_only", "cloud_only"}
    assert plan["breakdown"]["compute_ms"]["device"] > 0
    status, out = await _cli("fleet", "pin", "cli-1", "tiny", "--tiers", "edge,edge", "--target", target)
    assert status == 1
    assert "unauthenticated" in out
    status, out = await _cli(
        "fleet",
        "pin",
        "cli-1",
        "tiny",
        "--tiers",
        "edge,edge",
        "--target",
        target,
        "--token",
        "op-token",
        "--json",
    )
    assert status == 0, out
    await until(lambda: d.plans()[-1][1:] == (("edge", "edge"), True))
    await d.stop()
