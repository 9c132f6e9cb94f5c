"""A real Mosquitto started from `continuum broker config` output enforces the ACL model.

Publishers are `mosquitto_pub` processes; spoofed messages are checked with a marker: the broker is
single-threaded, so anything it would deliver from a spoofed publish reaches the observer before the
marker that the same device publishes afterwards on its own topic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.broker import CONNECTION_REFUSED, ConfiguredBroker, Observer, mqtt_pub, write_config
from tests.support.ports import free_port

pytestmark = pytest.mark.contract

F = "continuum/v1/f1"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredBroker]:
    """One broker for the module: d1, d2 and orch in fleet f1, 4 KiB packets, an orchestrator listener."""
    orchestrator_port = free_port()
    conf, port = write_config(
        tmp_path_factory.mktemp("broker"),
        "--max-packet-bytes", "4096", "--orchestrator-port", str(orchestrator_port),
    )  # fmt: skip
    running = ConfiguredBroker(conf, port, orchestrator_port)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def orch(broker: ConfiguredBroker, request: pytest.FixtureRequest) -> Iterator[Observer]:
    """The orchestrator account watching the whole fleet."""
    observer = Observer(broker.port, "orch", "secret-o", client_id="orch")
    observer.start([f"{F}/#"])
    yield observer
    observer.stop()


def _publish_then_marker(port: int, topic: str, user: str = "d1", password: str = "secret-1") -> str:
    """Publish a spoof attempt as `user`, then a unique marker on its own state topic; return the marker."""
    mqtt_pub(port, topic, "SPOOF", user=user, password=password)
    marker = f"marker-after-{topic}"
    assert mqtt_pub(port, f"{F}/{user}/state", marker, user=user, password=password).returncode == 0
    return marker


def test_device_publishes_its_own_birth_state_and_death(broker: ConfiguredBroker, orch: Observer) -> None:
    for kind in ("birth", "state", "death"):
        assert mqtt_pub(broker.port, f"{F}/d1/{kind}", kind, user="d1", password="secret-1").returncode == 0
    assert orch.wait_for(lambda r: len(r) >= 3)
    assert orch.received == [
        (f"{F}/d1/birth", "birth"),
        (f"{F}/d1/state", "state"),
        (f"{F}/d1/death", "death"),
    ]


@pytest.mark.parametrize(
    "topic",
    [f"{F}/d2/state", f"{F}/d2/birth", f"{F}/d2/death", f"{F}/d2/cmd", f"{F}/d1/cmd", f"{F}/orchestrator"],
)
def test_spoofed_publish_never_reaches_a_subscriber(
    broker: ConfiguredBroker, orch: Observer, topic: str
) -> None:
    marker = _publish_then_marker(broker.port, topic)
    assert orch.wait_for(lambda r: any(payload == marker for _, payload in r))
    assert [t for t, payload in orch.received if payload == "SPOOF"] == []


def test_spoof_is_refused_with_not_authorised_over_mqtt_5(broker: ConfiguredBroker, orch: Observer) -> None:
    spoof = mqtt_pub(broker.port, f"{F}/d2/state", "SPOOF", user="d1", password="secret-1", version="mqttv5")
    assert "Not authorized" in spoof.stderr
    marker = _publish_then_marker(broker.port, f"{F}/d2/birth")
    assert orch.wait_for(lambda r: any(payload == marker for _, payload in r))
    assert all(payload != "SPOOF" for _, payload in orch.received)


def test_device_receives_only_its_own_commands(broker: ConfiguredBroker) -> None:
    device = Observer(broker.port, "d2", "secret-2", client_id="d2")
    device.start(["#", f"{F}/d2/cmd", f"{F}/d1/cmd", f"{F}/+/state"])
    try:
        for target in ("d1", "d2"):
            assert (
                mqtt_pub(
                    broker.port, f"{F}/{target}/cmd", f"cmd-{target}", user="orch", password="secret-o"
                ).returncode
                == 0
            )
        assert (
            mqtt_pub(broker.port, f"{F}/orchestrator", "online", user="orch", password="secret-o").returncode
            == 0
        )
        mqtt_pub(broker.port, f"{F}/d1/state", "d1-telemetry", user="d1", password="secret-1")
        assert device.wait_for(lambda r: ("continuum/v1/f1/orchestrator", "online") in r)
        payloads = [payload for _, payload in device.received]
        assert "cmd-d2" in payloads
        assert "cmd-d1" not in payloads
        assert "d1-telemetry" not in payloads
    finally:
        device.stop()


@pytest.mark.parametrize(
    ("user", "password"),
    [("d1", "wrong"), ("d1", "secret-2"), ("stranger", "secret-1"), (None, None), ("d1", None)],
    ids=["wrong-password", "other-devices-password", "unknown-user", "anonymous", "no-password"],
)
def test_bad_credentials_are_refused_at_connect(
    broker: ConfiguredBroker, orch: Observer, user: str | None, password: str | None
) -> None:
    result = mqtt_pub(broker.port, f"{F}/d1/state", "INTRUDER", user=user, password=password)
    assert result.returncode == CONNECTION_REFUSED, result.stderr
    marker = _publish_then_marker(broker.port, f"{F}/d1/birth")
    assert orch.wait_for(lambda r: any(payload == marker for _, payload in r))
    assert all(payload != "INTRUDER" for _, payload in orch.received)


def test_a_device_cannot_take_over_another_devices_session(broker: ConfiguredBroker) -> None:
    device = Observer(broker.port, "d2", "secret-2", client_id="d2")
    device.start([f"{F}/d2/cmd"])
    try:
        assert (
            mqtt_pub(
                broker.port, f"{F}/d1/state", "x", user="d1", password="secret-1", client_id="d2"
            ).returncode
            == 0
        )
        assert (
            mqtt_pub(broker.port, f"{F}/d2/cmd", "still-here", user="orch", password="secret-o").returncode
            == 0
        )
        assert device.wait_for(lambda r: any(payload == "still-here" for _, payload in r))
        assert device.disconnects == 0
    finally:
        device.stop()


def test_orchestrator_listener_lets_one_account_hold_several_connections(broker: ConfiguredBroker) -> None:
    assert broker.orchestrator_port is not None
    first = Observer(broker.orchestrator_port, "orch", "secret-o", client_id="orch-ingest")
    second = Observer(broker.orchestrator_port, "orch", "secret-o", client_id="orch-telemetry")
    first.start([f"{F}/+/birth"])
    second.start([f"{F}/+/state"])
    try:
        assert mqtt_pub(broker.port, f"{F}/d1/birth", "b", user="d1", password="secret-1").returncode == 0
        assert mqtt_pub(broker.port, f"{F}/d1/state", "s", user="d1", password="secret-1").returncode == 0
        assert first.wait_for(lambda r: (f"{F}/d1/birth", "b") in r)
        assert second.wait_for(lambda r: (f"{F}/d1/state", "s") in r)
        assert (first.disconnects, second.disconnects) == (0, 0)
    finally:
        first.stop()
        second.stop()


def test_the_acl_applies_on_the_orchestrator_listener_too(broker: ConfiguredBroker, orch: Observer) -> None:
    assert broker.orchestrator_port is not None
    mqtt_pub(broker.orchestrator_port, f"{F}/d2/state", "SPOOF", user="d1", password="secret-1")
    marker = _publish_then_marker(broker.port, f"{F}/d2/death")
    assert orch.wait_for(lambda r: any(payload == marker for _, payload in r))
    assert all(payload != "SPOOF" for _, payload in orch.received)
    refused = mqtt_pub(broker.orchestrator_port, f"{F}/d1/state", "x", user="d1", password="bad")
    assert refused.returncode == CONNECTION_REFUSED


def test_oversized_packet_is_dropped(broker: ConfiguredBroker, orch: Observer) -> None:
    mqtt_pub(broker.port, f"{F}/d1/state", "HUGE" + "x" * 8192, user="d1", password="secret-1")
    marker = _publish_then_marker(broker.port, f"{F}/d1/birth")
    assert orch.wait_for(lambda r: any(payload == marker for _, payload in r))
    assert all(not payload.startswith("HUGE") for _, payload in orch.received)


def test_shared_subscription_lets_orchestrator_replicas_split_telemetry(broker: ConfiguredBroker) -> None:
    replica = Observer(broker.port, "orch", "secret-o", client_id="orch")
    replica.start([f"$share/orchestrators/{F}/+/state"])
    try:
        assert (
            mqtt_pub(broker.port, f"{F}/d2/state", "shared", user="d2", password="secret-2").returncode == 0
        )
        assert replica.wait_for(lambda r: (f"{F}/d2/state", "shared") in r)
    finally:
        replica.stop()


def test_passwords_written_by_us_are_accepted_by_mosquitto(broker: ConfiguredBroker) -> None:
    results = [
        mqtt_pub(broker.port, f"{F}/{user}/state", "ok", user=user, password=secret).returncode
        for user, secret in (("d1", "secret-1"), ("d2", "secret-2"))
    ]
    assert results == [0, 0]


def test_written_config_starts_cleanly(broker: ConfiguredBroker) -> None:
    log = (Path(broker.conf).parent / "mosquitto.log").read_text()
    assert "Error" not in log
    assert broker.process is not None
    assert broker.process.poll() is None
