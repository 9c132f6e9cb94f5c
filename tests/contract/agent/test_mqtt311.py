"""Against a broker that speaks only MQTT 3.1.1 (amqtt, the demo's embedded broker) the agent falls back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.contract.agent.conftest import agent_settings, running_agent
from tests.support.ports import free_port

pytestmark = pytest.mark.contract
amqtt_broker = pytest.importorskip("amqtt.broker")


@pytest.fixture
async def amqtt_port() -> AsyncIterator[int]:
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    port = free_port()
    broker = amqtt_broker.Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}", "max_connections": -1}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    await broker.start()
    try:
        yield port
    finally:
        await broker.shutdown()


async def test_the_agent_falls_back_to_mqtt_311_and_keeps_its_session(
    amqtt_port: int, tmp_path: Path
) -> None:
    async with running_agent(agent_settings(amqtt_port, tmp_path / "state")) as agent:
        session = agent.session
        for _ in range(600):
            if session.counters["births"] and session.counters["telemetry_sent"] >= 3:
                break
            await asyncio.sleep(0.05)
        assert agent.connection.protocol == "3.1.1"
        assert session.counters["births"] == 1
        assert session.counters["telemetry_sent"] >= 3
