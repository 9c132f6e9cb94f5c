"""Fuzzing the MQTT topic scheme: any text either parses into our shape or raises InvalidTopic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protos.topics import DeviceTopic, InvalidId, InvalidTopic, OrchestratorTopic, parse_topic, validate_id
from tests.fuzz.strategies import KINDS, hostile_ids, topics

FUZZ = settings(max_examples=400, deadline=None)


@FUZZ
@given(topics)
def test_parse_topic_accepts_only_well_formed_topics(topic: str) -> None:
    try:
        parsed = parse_topic(topic)
    except InvalidTopic:
        return
    assert str(parsed) == topic
    assert isinstance(parsed, DeviceTopic | OrchestratorTopic)
    assert not any(ch in topic for ch in "+#\x00")


@FUZZ
@given(hostile_ids)
def test_validate_id_refuses_anything_that_would_change_a_topics_shape(value: str) -> None:
    try:
        validate_id(value)
    except InvalidId:
        return
    assert 0 < len(value) <= 128
    assert not any(ch in value for ch in "/+#\x00 \n")


@FUZZ
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True), st.sampled_from(KINDS))
def test_every_valid_device_topic_round_trips(device: str, kind: str) -> None:
    parsed = parse_topic(f"continuum/v1/fleet-1/{device}/{kind}")
    assert parsed == DeviceTopic("fleet-1", device, kind)  # type: ignore[arg-type]
