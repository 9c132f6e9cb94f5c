"""The real agent and the real orchestrator work through a broker locked down by `continuum broker
config` (devices on the main listener, the orchestrator on its own listener, plain and TLS): every
subscription, retained birth, last will, shared subscription and command the protocol needs is inside
the ACL."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.device_classes import device_class
from agents.plans import PlanStore
from agents.session.bdseq import MemoryBdSeq
from agents.session.device import DeviceIdentity, DeviceSession
from agents.sim.devices import SimBirth, TraceTelemetry
from agents.sim.traces import Trace
from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectOptions, MqttConnection
from agents.transport.ticker import MiscTicker
from tests.faults.support import OrchestratorProcess, eventually
from tests.security.broker import ConfiguredBroker, write_config
from tests.security.certs import make_pki
from tests.support.ports import free_port

pytestmark = [pytest.mark.contract, pytest.mark.slow]

FLAT = Trace(np.array([0.0, 1e6]), np.array([20.0, 20.0]), "flat")
SECRETS = {"d1": "secret-1", "d2": "secret-2"}


def _session(port: int, device: str, password: str, ticker: MiscTicker, ca: Path | None) -> DeviceSession:
    options = ConnectOptions(
        host="127.0.0.1",
        port=port,
        client_id=f"f1.{device}",
        keepalive_s=5,
        username=device,
        password=password,
        tls=ca is not None,
        ca_file=ca,
    )
    return DeviceSession(
        DeviceIdentity("f1", device, "default", "test"),
        MqttConnection(options, ticker),
        MemoryBdSeq(),
        SimBirth(device_class("rpi4")),
        TraceTelemetry(FLAT, 0.0, 1),
        PlanStore(None),
        backoff=Backoff(0.2, 1.0),
    )


@pytest.fixture(params=["plain", "tls", "one-listener"])
async def secured(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[ConfiguredBroker, OrchestratorProcess, Path | None]]:
    """The locked-down broker (plain, TLS with a throwaway CA, or with one listener for everyone, where
    the orchestrator must keep to one connection) and an orchestrator logged in to it."""
    ca: Path | None = None
    extra: tuple[str, ...] = ()
    mqtt: dict[str, str] = {"username": "orch", "password": "secret-o"}
    if request.param == "tls":
        pki = make_pki(tmp_path / "pki")
        ca, extra = pki.ca, ("--tls-dir", str(pki.directory))
        mqtt["tls_ca"] = str(pki.ca)
    orchestrator_port = free_port()
    conf, port = write_config(tmp_path / "broker", "--orchestrator-port", str(orchestrator_port), *extra)
    broker = ConfiguredBroker(conf, port, orchestrator_port)
    broker.start()
    orchestrator = OrchestratorProcess(
        tmp_path / "orchestrator", orchestrator_port, "f1", extra={"mqtt": mqtt}
    )
    orchestrator.start()
    try:
        yield broker, orchestrator, ca
    finally:
        orchestrator.stop()
        broker.stop()


async def test_agents_and_orchestrator_work_through_the_acl_broker(
    secured: tuple[ConfiguredBroker, OrchestratorProcess, Path | None],
) -> None:
    broker, orchestrator, ca = secured
    ticker = MiscTicker()
    sessions = [_session(broker.port, device, secret, ticker, ca) for device, secret in SECRETS.items()]
    tasks = [asyncio.create_task(s.run()) for s in sessions]
    try:
        await eventually(lambda: all(s.online for s in sessions), 20)

        async def ticking() -> None:
            while True:
                for s in sessions:
                    s.tick(asyncio.get_running_loop().time())
                await asyncio.sleep(0.5)

        ticker_task = asyncio.create_task(ticking())
        try:
            await eventually(
                lambda: sorted(d.id for d in orchestrator.devices() if d.state == "online") == ["d1", "d2"],
                30,
            )
            await eventually(lambda: all(s.plans.models() for s in sessions), 30)
        finally:
            ticker_task.cancel()
        assert all(s.orchestrator_online for s in sessions), "agents cannot read the orchestrator state"
        assert all(s.counters["commands_rejected:internal_error"] == 0 for s in sessions)
    finally:
        for s in sessions:
            await s.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await ticker.close()


def test_orchestrator_on_the_device_listener_does_not_reconnect_in_a_tight_loop(tmp_path: Path) -> None:
    """With client id = username on the only listener, two connections of one account take each other
    over; whatever the orchestrator does about it, it must back off instead of spinning."""
    conf, port = write_config(tmp_path / "broker")
    broker = ConfiguredBroker(conf, port)
    broker.start()
    metrics_port = free_port()
    orchestrator = OrchestratorProcess(
        tmp_path / "orchestrator",
        port,
        "f1",
        extra={"mqtt": {"username": "orch", "password": "secret-o"}, "metrics": {"port": metrics_port}},
    )
    try:
        orchestrator.start()
        time.sleep(3.0)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        disconnects = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "continuum_broker_disconnects_total"
        )
        assert disconnects <= 10, f"{disconnects:.0f} broker disconnects in 3 s: reconnecting without backoff"
    finally:
        orchestrator.stop()
        broker.stop()
