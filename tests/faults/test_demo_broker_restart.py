"""`continuum demo --broker` on an external Mosquitto survives that broker's SIGKILL and restart: every
simulated device comes back online in a new session (a higher bdSeq) at the orchestrator."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from protos.v1 import operator_pb2, operator_pb2_grpc
from tests.faults.support import checkpoint_then_kill, eventually, persistent_broker
from tests.support.ports import free_port

pytestmark = [pytest.mark.contract, pytest.mark.slow]

DEVICES = 10


def _sessions(port: int) -> dict[str, tuple[str, int]]:
    """Device id -> (state, bdSeq) as the demo's orchestrator reports them ({} while unreachable)."""
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = operator_pb2_grpc.OperatorStub(channel)
            out: dict[str, tuple[str, int]] = {}
            for summary in stub.ListDevices(operator_pb2.ListDevicesRequest(), timeout=2).devices:
                detail = stub.GetDevice(operator_pb2.GetDeviceRequest(device_id=summary.id), timeout=2)
                out[summary.id] = (detail.summary.state, detail.bd_seq)
            return out
    except grpc.RpcError:
        return {}


def _start_demo(broker: str, grpc_port: int, log_path: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "continuum_cli.main", "demo", "--headless", "--devices", str(DEVICES),
        "--no-ray",
        "--broker", broker, "--grpc-port", str(grpc_port), "--metrics-port", "-1",
    ]  # fmt: skip
    log = log_path.open("wb")
    return subprocess.Popen(argv, stdout=log, stderr=log)


async def test_demo_on_external_broker_survives_broker_sigkill_and_restart(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "broker")
    broker.start()
    grpc_port = free_port()
    demo = _start_demo(broker.address, grpc_port, tmp_path / "demo.log")
    try:
        await eventually(
            lambda: [s for s, _ in _sessions(grpc_port).values()].count("online") == DEVICES, 120
        )
        before = _sessions(grpc_port)
        await checkpoint_then_kill(broker)
        await asyncio.sleep(2.0)
        broker.restart()

        def all_back() -> bool:
            now = _sessions(grpc_port)
            return len(now) == DEVICES and all(
                state == "online" and bd > before[device][1] for device, (state, bd) in now.items()
            )

        await eventually(all_back, 60)
        assert demo.poll() is None, "the demo exited"
    finally:
        demo.terminate()
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(timeout=10)
        broker.stop()
