"""The bridge's values leave nothing to a default the two sides would read differently."""

from __future__ import annotations

import pytest

import continuum_mqtt
from orchestrator.events.store import EventStore
from orchestrator.leadership import Leadership
from orchestrator.mqtt.connection import Received, Will


def test_the_bridge_will_names_its_qos_and_retain() -> None:
    with pytest.raises(TypeError):
        continuum_mqtt.Will("t", b"p")  # type: ignore[call-arg]
    assert continuum_mqtt.Will("t", b"p", 1, False).retain is False


def test_the_orchestrator_will_is_its_retained_status() -> None:
    assert Will is continuum_mqtt.Will
    will = Leadership("orch-1", ["f"], EventStore(":memory:"), clock=lambda: 1.0).will()
    assert will is not None
    assert (will.topic, will.qos, will.retain) == ("continuum/v1/f/orchestrator", 1, True)


def test_one_message_type_with_qos_by_keyword() -> None:
    assert Received is continuum_mqtt.Message
    assert continuum_mqtt.Message("t", b"p", True, qos=1).retain is True
    with pytest.raises(TypeError):
        continuum_mqtt.Message("t", b"p", 1, False)  # type: ignore[arg-type, call-arg]
