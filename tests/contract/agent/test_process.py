"""A real `continuum agent run` process: last will after SIGKILL, bdSeq growing across restarts."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from protos.v1 import control_pb2 as pb
from tests.contract.agent.recorder import Recorder
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract

PREFIX = "continuum/v1/procfleet/dev-p"


def start_agent(
    broker: MosquittoBroker, state_dir: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "continuum_cli.main", "agent", "run",
        "--broker", broker.address, "--fleet", "procfleet", "--device-id", "dev-p",
        "--state-dir", str(state_dir), "--telemetry-interval", "0.2", "--keepalive", "5",
        "--device-class", "x86",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)


def births(rec: Recorder) -> list[pb.DeviceBirth]:
    return [pb.DeviceBirth.FromString(m.payload) for m in rec.on(f"{PREFIX}/birth")]


def deaths(rec: Recorder) -> list[pb.DeviceDeath]:
    return [pb.DeviceDeath.FromString(m.payload) for m in rec.on(f"{PREFIX}/death")]


def test_sigkill_makes_the_broker_publish_the_will_with_the_session_bdseq(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    agent = start_agent(mosquitto, tmp_path / "state", tmp_path / "agent.log")
    try:
        recorder.wait(lambda: births(recorder), timeout=60)
        recorder.wait(lambda: recorder.on(f"{PREFIX}/state"))
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)
    recorder.wait(lambda: deaths(recorder))
    death = deaths(recorder)[0]
    assert death.reason == "will"
    assert death.bd_seq == births(recorder)[0].bd_seq


def test_bdseq_grows_across_restarts_so_an_old_death_is_stale(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    for run in range(2):
        agent = start_agent(mosquitto, state_dir, tmp_path / "agent.log")
        try:
            recorder.wait(lambda: len(births(recorder)) > run, timeout=60)  # noqa: B023
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(20) == 0
        recorder.wait(lambda: len(deaths(recorder)) > run)  # noqa: B023
    first, second = births(recorder)
    first_death, second_death = deaths(recorder)
    assert second.bd_seq == first.bd_seq + 1
    assert first_death.bd_seq == first.bd_seq
    assert first_death.reason == "shutdown"
    assert first_death.bd_seq < second.bd_seq  # the orchestrator ignores it for the newer session
    assert second_death.bd_seq == second.bd_seq


def test_sigterm_stops_the_agent_even_while_the_broker_is_unreachable(tmp_path: Path) -> None:
    closed = MosquittoBroker(tmp_path / "never-started")  # a free port nothing listens on
    agent = start_agent(closed, tmp_path / "state", tmp_path / "agent.log")
    time.sleep(2.0)
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(20) == 0
    assert "retrying" in (tmp_path / "agent.log").read_text()


def test_under_systemd_the_agent_reports_ready_and_pets_the_watchdog(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(address)
        server.settimeout(30)
        env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}
        agent = start_agent(mosquitto, tmp_path / "state", tmp_path / "agent.log", env=env)
        try:
            received = [server.recv(1024).decode() for _ in range(4)]
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(20) == 0
        server.setblocking(False)
        later = []
        with contextlib.suppress(BlockingIOError):
            while True:
                later.append(server.recv(1024).decode())
    assert received[0].startswith("READY=1")
    assert received[1:] == ["WATCHDOG=1"] * 3
    assert "STOPPING=1" in later
