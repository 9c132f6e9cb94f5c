"""Helpers for fault tests: a broker-side observer that survives broker restarts, and polling."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protos.topics import DeviceTopic, parse_topic
from protos.v1 import control_pb2, operator_pb2, operator_pb2_grpc
from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port, wait_for_port


@dataclass
class PersistentObserver:
    """A paho client with a persistent session (clean_session=False, QoS 1), so that messages published
    while it is disconnected (e.g. between a broker restart and its reconnect) are queued for it."""

    port: int
    filters: tuple[str, ...]
    client_id: str = "fault-observer"
    received: list[tuple[str, bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: mqtt.Client | None = None

    def start(self) -> None:
        """Connect, subscribe at QoS 1 and wait for the SUBACK."""
        subscribed = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.reconnect_delay_set(1, 2)

        def on_connect(c: mqtt.Client, _u: object, _f: object, _rc: object, _p: object = None) -> None:
            c.subscribe([(f, 1) for f in self.filters])

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            with self._lock:
                self.received.append((msg.topic, bytes(msg.payload)))

        client.on_connect = on_connect
        client.on_subscribe = lambda *_a: subscribed.set()
        client.on_message = on_message
        client.connect("127.0.0.1", self.port, keepalive=5)
        client.loop_start()
        self._client = client
        if not subscribed.wait(10):
            raise TimeoutError("observer never got its SUBACK")

    def snapshot(self) -> list[tuple[str, bytes]]:
        """Everything received so far, in arrival order."""
        with self._lock:
            return list(self.received)

    def telemetry(self) -> list[tuple[str, control_pb2.Telemetry]]:
        """Received telemetry as (device id, message), arrival order."""
        out: list[tuple[str, control_pb2.Telemetry]] = []
        for topic, payload in self.snapshot():
            parsed = parse_topic(topic)
            if isinstance(parsed, DeviceTopic) and parsed.kind == "state":
                out.append((parsed.device, control_pb2.Telemetry.FromString(payload)))
        return out

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None


async def eventually(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.2) -> float:
    """Poll `predicate` until it holds; return the seconds it took, or raise TimeoutError."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not predicate():
        if loop.time() - started > timeout_s:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(interval_s)
    return loop.time() - started


@dataclass
class OrchestratorProcess:
    """`continuum orchestrator` as a child process (so it can be SIGKILLed), with its gRPC port known."""

    workdir: Path
    broker_port: int
    fleet: str
    token: str = "fault-token"
    grpc_port: int = field(default_factory=free_port)
    extra: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Write the config, start the process and wait until its gRPC port accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "mqtt": {
                "broker": f"127.0.0.1:{self.broker_port}",
                "fleets": [self.fleet],
                "status_fleets": [self.fleet],
            },
            "api": {"port": self.grpc_port, "operator_tokens": [self.token]},
            "metrics": {"port": -1},
        }
        for key, value in self.extra.items():
            config[key] = {**config[key], **value} if isinstance(value, dict) and key in config else value
        path = self.workdir / "orchestrator.json"
        path.write_text(json.dumps(config))
        log = (self.workdir / "orchestrator.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "continuum_cli.main",
                "orchestrator",
                "--config",
                str(path),
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=log,
        )
        try:
            wait_for_port(self.grpc_port, timeout=60)
        except TimeoutError:
            self.stop()
            raise RuntimeError(
                f"orchestrator did not start; see {self.workdir / 'orchestrator.log'}"
            ) from None

    def kill(self) -> None:
        """SIGKILL, as a crash would (no offline state published; the broker sends its will)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """SIGTERM and reap."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    @property
    def target(self) -> str:
        """host:port of the operator API."""
        return f"127.0.0.1:{self.grpc_port}"

    def detail(self, device_id: str) -> operator_pb2.DeviceDetail | None:
        """GetDevice over the real gRPC API (None when unknown or unreachable)."""
        try:
            with grpc.insecure_channel(self.target) as channel:
                stub = operator_pb2_grpc.OperatorStub(channel)
                detail: operator_pb2.DeviceDetail = stub.GetDevice(
                    operator_pb2.GetDeviceRequest(device_id=device_id), timeout=2
                )
                return detail
        except grpc.RpcError:
            return None

    def devices(self) -> list[operator_pb2.DeviceSummary]:
        """ListDevices over the real gRPC API (an empty list while the server is unreachable)."""
        try:
            with grpc.insecure_channel(self.target) as channel:
                stub = operator_pb2_grpc.OperatorStub(channel)
                return list(stub.ListDevices(operator_pb2.ListDevicesRequest(), timeout=2).devices)
        except grpc.RpcError:
            return []


def persistent_broker(workdir: Path) -> MosquittoBroker:
    """A MosquittoBroker whose persistence really works when the tests run as root.

    MosquittoBroker runs the broker as the current user by default (as root, Mosquitto would drop to the
    `mosquitto` user, fail every autosave into pytest's root-owned folders, and lose sessions and retained
    messages on SIGKILL); the fault tests name this requirement explicitly.
    """
    return MosquittoBroker(workdir)


def persistence_errors(broker: MosquittoBroker) -> list[str]:
    """Lines of the broker log saying that saving its database failed."""
    if not broker.log_path.exists():
        return []
    return [line for line in broker.log_path.read_text().splitlines() if "Error saving" in line]


async def checkpoint_then_kill(broker: MosquittoBroker) -> None:
    """Make the broker write its database now (SIGUSR1), wait until the new file is in place, SIGKILL it.

    The test's observer is a long-lived subscriber; in production its session would have been saved by
    an autosave long before the crash. Forcing a save first makes that true here without waiting.
    Mosquitto writes `mosquitto.db.new` and renames it, so the save is complete once `mosquitto.db` is
    newer than the signal and no `.new` file is left.
    """
    assert broker.process is not None
    database = broker.workdir / "mosquitto.db"
    pending = broker.workdir / "mosquitto.db.new"
    asked_ns = time.time_ns()
    broker.process.send_signal(signal.SIGUSR1)

    def saved() -> bool:
        try:
            return database.stat().st_mtime_ns >= asked_ns and not pending.exists()
        except FileNotFoundError:
            return False

    await eventually(saved, 10, 0.02)
    broker.kill()
