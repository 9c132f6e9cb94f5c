"""Username and password against a Mosquitto that refuses anonymous clients."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.runtime import Agent
from tests.contract.agent.conftest import agent_settings, keep_root, running_agent
from tests.support.mosquitto import MosquittoBroker

pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(
        shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd makes the password file"
    ),
]


@pytest.fixture
def auth_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "dev-1", "right"], check=True)
    passwords.chmod(0o644)
    broker = MosquittoBroker(
        tmp_path / "auth-mosquitto",
        extra_config=f"allow_anonymous false\npassword_file {passwords}\n" + keep_root(),
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def until(agent: Agent, name: str, count: int) -> None:
    for _ in range(600):
        if agent.session.counters[name] >= count:
            return
        await asyncio.sleep(0.05)


async def test_the_right_password_gets_a_session(auth_broker: MosquittoBroker, tmp_path: Path) -> None:
    settings = agent_settings(
        auth_broker.port, tmp_path / "state", broker={"username": "dev-1", "password": "right"}
    )
    async with running_agent(settings) as agent:
        await until(agent, "births", 1)
        assert agent.session.counters["births"] == 1


async def test_a_wrong_password_is_refused_and_retried_at_the_longest_delay(
    auth_broker: MosquittoBroker, tmp_path: Path
) -> None:
    settings = agent_settings(
        auth_broker.port,
        tmp_path / "state",
        broker={"username": "dev-1", "password": "wrong", "reconnect_max_s": 60.0},
    )
    async with running_agent(settings) as agent:
        await until(agent, "connect_failures", 1)
        await asyncio.sleep(1.0)
        assert agent.session.counters["connect_failures"] == 1  # not hammering the broker
        assert agent.session.counters["births"] == 0
