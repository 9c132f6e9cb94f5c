"""Fixtures for agent contract tests: a recorder on the broker and an in-process agent."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.probes.capabilities import HostBirth
from agents.runtime import Agent, build
from agents.settings import AgentSettings
from tests.contract.agent.recorder import Recorder
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract


def keep_root() -> str:
    """Mosquitto config that keeps running as root when started as root: it otherwise switches to the
    `mosquitto` user, which cannot read the test's private temporary folder (files, persistence)."""
    return "user root\n" if os.geteuid() == 0 else ""


@pytest.fixture
def durable_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A broker whose persistence file really gets written (as root, Mosquitto would otherwise switch to
    the `mosquitto` user, which cannot write the test's temporary folder)."""
    broker = MosquittoBroker(tmp_path / "durable-mosquitto", extra_config=keep_root())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def recorder(mosquitto: MosquittoBroker) -> Iterator[Recorder]:
    """Everything published under continuum/ on the test broker."""
    rec = Recorder(mosquitto.port).start()
    try:
        yield rec
    finally:
        rec.stop()


def agent_settings(port: int, state_dir: Path, **overrides: Any) -> AgentSettings:
    """Settings for a fast test agent (short telemetry interval and reconnect delays)."""
    values: dict[str, Any] = {
        "state_dir": state_dir,
        "broker": {
            "host": "127.0.0.1",
            "port": port,
            "keepalive_s": 5,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.3,
        },
        "identity": {"fleet": "testfleet", "device_id": "dev-1", "device_class": "x86"},
        "telemetry": {"interval_s": 0.1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict):
            values[key] = {**values.get(key, {}), **value}
        else:
            values[key] = value
    return AgentSettings(**values)


@contextlib.asynccontextmanager
async def running_agent(settings: AgentSettings) -> AsyncIterator[Agent]:
    """An agent built by the real builder, running on this loop until the block ends."""
    agent = await build(settings, birth=HostBirth(settings.state_dir, providers=["CPUExecutionProvider"]))
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        yield agent
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
