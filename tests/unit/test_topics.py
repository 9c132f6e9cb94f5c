"""The MQTT topic scheme: formatting, parsing and refusing ids that would change a topic's shape."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protos.topics import (
    DeviceTopic,
    InvalidId,
    InvalidTopic,
    OrchestratorTopic,
    device_topic,
    device_wildcard,
    orchestrator_topic,
    parse_topic,
    validate_id,
)


def test_device_topic_round_trips() -> None:
    topic = device_topic("plant-1", "cam-07", "state")
    assert topic == "continuum/v1/plant-1/cam-07/state"
    assert parse_topic(topic) == DeviceTopic("plant-1", "cam-07", "state")


def test_orchestrator_topic_round_trips() -> None:
    assert parse_topic(orchestrator_topic("f")) == OrchestratorTopic("f")


@pytest.mark.parametrize("bad", ["a/b", "a+", "#", "a\x00b", "", "x" * 129, " spaced", "-lead"])
def test_hostile_device_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidId):
        validate_id(bad)
    with pytest.raises((InvalidId, InvalidTopic)):
        device_topic("fleet", bad, "birth")


@pytest.mark.parametrize(
    "topic",
    [
        "continuum/v2/f/d/state",
        "continuum/v1/f/d/state/extra",
        "continuum/v1/f/d/telemetry",
        "continuum/v1/f/+/state",
        "other/v1/f/d/state",
        "continuum/v1/f",
    ],
)
def test_topics_outside_the_scheme_are_refused(topic: str) -> None:
    with pytest.raises(InvalidTopic):
        parse_topic(topic)


def test_wildcards_subscribe_one_kind() -> None:
    assert device_wildcard(None, "birth") == "continuum/v1/+/+/birth"
    assert device_wildcard("f", "+") == "continuum/v1/f/+/+"


@given(st.text(max_size=200))
def test_parse_topic_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        parsed = parse_topic(text)
    except InvalidTopic:
        return
    assert str(parsed) == text
