"""The walking skeleton, all real: Mosquitto, `continuum agent run`, `continuum orchestrator`, `fleet ls`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port, wait_for_port

pytestmark = [pytest.mark.contract, pytest.mark.slow]

CLI = [sys.executable, "-m", "continuum_cli.main"]


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [*CLI, *args], stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _fleet_ls(port: int) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*CLI, "fleet", "ls", "--target", f"127.0.0.1:{port}", "--json"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    devices: list[dict[str, Any]] = json.loads(done.stdout)
    return devices


def _eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"never happened within {timeout}s: {what}")


@pytest.fixture
def orchestrator(mosquitto: MosquittoBroker, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    process = _spawn(
        ["orchestrator", "--broker", mosquitto.address, "--grpc-port", str(port), "--metrics-port", "-1"],
        tmp_path / "orchestrator.log",
    )
    try:
        wait_for_port(port, timeout=60)
        yield port
    finally:
        _stop(process)
    assert process.returncode == 0, (tmp_path / "orchestrator.log").read_text()


def test_fleet_ls_shows_the_agent_online_then_offline_after_sigkill(
    mosquitto: MosquittoBroker, orchestrator: int, tmp_path: Path
) -> None:
    agent = _spawn(
        [
            "agent",
            "run",
            "--broker",
            mosquitto.address,
            "--fleet",
            "thin",
            "--device-id",
            "pi-7",
            "--state-dir",
            str(tmp_path / "agent"),
            "--telemetry-interval",
            "0.5",
        ],
        tmp_path / "agent.log",
    )
    try:

        def state() -> str | None:
            found = [d for d in _fleet_ls(orchestrator) if d["id"] == "pi-7"]
            return found[0]["state"] if found else None

        _eventually(lambda: state() == "online", "the agent shows online")
        device = next(d for d in _fleet_ls(orchestrator) if d["id"] == "pi-7")
        assert device["fleet"] == "thin"
        assert device["last_seen"].startswith("20")
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=10)
        _eventually(lambda: state() == "offline", "the last will marks the agent offline")
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=5)
