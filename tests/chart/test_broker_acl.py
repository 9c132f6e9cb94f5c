"""The chart's broker run for real: its rendered mosquitto.conf, ACL and password script on a local Mosquitto.

The only changes to what the chart renders are the in-pod paths (/mosquitto/... mapped to a temp folder), the
listener (a free loopback port) and, when the tests run as root, `user root` (in the pod Mosquitto already
runs as uid 1883 and never switches user; started as root it would drop to `mosquitto` and lose the 0600
password file). Clients are real paho MQTT v5 clients with the chart's accounts.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from tests.chart.render import find, helm_binary, render
from tests.support.mosquitto import mosquitto_binary
from tests.support.ports import free_port, wait_for_port

pytestmark = [pytest.mark.chart, pytest.mark.contract]

BASE = "continuum/v1/default"
ORCHESTRATOR_PASSWORD = "orchestrator-secret"
DEVICES = {"cam-01": "secret-01", "cam-02": "secret-02"}


@dataclass(frozen=True)
class Ports:
    """The device-facing listener and the orchestrators' internal one."""

    devices: int
    internal: int


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ports]:
    """Mosquitto started from the chart's rendered ConfigMap, Secret and init script."""
    helm = helm_binary()
    if helm is None:
        pytest.fail("helm is not installed: run scripts/fetch-helm.sh or `make test`")
    root = tmp_path_factory.mktemp("chart-broker")
    values = root / "values.yaml"
    devices = [{"id": name, "password": secret} for name, secret in DEVICES.items()]
    values.write_text(yaml.safe_dump({"broker": {"auth": {"devices": devices}}, "mqtt": {"password": "x"}}))
    docs = render(helm, [values])
    config = find(docs, "ConfigMap", "rel-continuum-broker")["data"]
    deployment = find(docs, "Deployment", "rel-continuum-broker")
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    device_lines = find(docs, "Secret", "rel-continuum-broker-devices")["stringData"]["passwords"]

    home = root / "mosquitto"
    for folder in ("config", "auth", "devices", "data"):
        (home / folder).mkdir(parents=True)
    ports = Ports(devices=free_port(), internal=free_port())
    conf = config["mosquitto.conf"].replace("/mosquitto/", f"{home}/")
    conf = conf.replace("listener 1883", f"listener {ports.devices} 127.0.0.1")
    conf = conf.replace("listener 1884", f"listener {ports.internal} 127.0.0.1")
    run_as = "user root\n" if os.geteuid() == 0 else ""
    (home / "config" / "mosquitto.conf").write_text(run_as + conf)
    (home / "config" / "acl").write_text(config["acl"])
    (home / "devices" / "passwords").write_text("# fleet accounts\n" + device_lines)
    script = init["command"][2].replace("/mosquitto/", f"{home}/")
    env = {"PATH": "/usr/bin:/bin:/usr/sbin", "ORCHESTRATOR_USERNAME": "orchestrator"}
    done = subprocess.run(
        ["/bin/sh", "-ec", script],
        env={**env, "ORCHESTRATOR_PASSWORD": ORCHESTRATOR_PASSWORD},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "3 accounts" in done.stdout
    assert ORCHESTRATOR_PASSWORD not in (home / "auth" / "passwd").read_text()  # hashed

    log = (root / "mosquitto.log").open("wb")
    process = subprocess.Popen(
        [mosquitto_binary(), "-c", str(home / "config" / "mosquitto.conf")], stdout=log, stderr=log
    )
    try:
        wait_for_port(ports.devices)
        wait_for_port(ports.internal)
        yield ports
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


class Client:
    """A paho v5 client with its connect result, received messages and publish acknowledgements."""

    def __init__(self, port: int, username: str | None, password: str | None, client_id: str = "") -> None:
        self.connected = threading.Event()
        self.reason: ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.arrived = threading.Condition()
        self.acks: dict[int, ReasonCode] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.disconnected = threading.Event()
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        self.reason = reason
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.messages.append((message.topic, bytes(message.payload)))
            self.arrived.notify_all()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        with self.arrived:
            self.acks[mid] = reason
            self.arrived.notify_all()

    def subscribe(self, *filters: str) -> None:
        self.subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        assert self.subscribed.wait(10), "no SUBACK"

    def publish(self, topic: str, payload: bytes) -> ReasonCode:
        """Publish at QoS 1 and return the broker's PUBACK reason (v5 says NotAuthorized for ACL denials)."""
        info = self.client.publish(topic, payload, qos=1)
        with self.arrived:
            assert self.arrived.wait_for(lambda: info.mid in self.acks, timeout=10), "no PUBACK"
            return self.acks[info.mid]

    def wait_for(self, payload: bytes) -> list[tuple[str, bytes]]:
        """Block until `payload` arrives; returns everything received up to then (in order)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: any(p == payload for _, p in self.messages), timeout=10), (
                f"{payload!r} never arrived; got {self.messages}"
            )
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients(broker: Ports) -> Iterator[dict[str, Client]]:
    made = {
        "orchestrator": Client(broker.internal, "orchestrator", ORCHESTRATOR_PASSWORD),
        **{name: Client(broker.devices, name, secret, client_id=name) for name, secret in DEVICES.items()},
    }
    try:
        yield made
    finally:
        for client in made.values():
            client.close()


@pytest.mark.parametrize(
    ("username", "password"),
    [(None, None), ("cam-01", "wrong"), ("intruder", "secret-01"), ("orchestrator", "")],
)
@pytest.mark.parametrize("listener", ["devices", "internal"])
def test_anonymous_unknown_users_and_wrong_passwords_are_refused(
    broker: Ports, listener: str, username: str | None, password: str | None
) -> None:
    client = Client(getattr(broker, listener), username, password)
    try:
        assert client.reason is not None
        assert client.reason.is_failure
        assert client.reason.getName() in ("Not authorized", "Bad user name or password")
    finally:
        client.close()


def test_a_device_publishes_only_under_its_own_id(clients: dict[str, Client]) -> None:
    orchestrator, cam = clients["orchestrator"], clients["cam-01"]
    orchestrator.subscribe(f"{BASE}/#")

    spoofs = [f"{BASE}/cam-02/state", f"{BASE}/cam-02/birth", f"{BASE}/orchestrator", f"{BASE}/cam-01/cmd"]
    for topic in spoofs:
        assert cam.publish(topic, b"spoof").getName() == "Not authorized", topic
    for kind in ("birth", "state", "death"):
        assert not cam.publish(f"{BASE}/cam-01/{kind}", kind.encode()).is_failure
    received = orchestrator.wait_for(b"death")

    assert received == [(f"{BASE}/cam-01/{k}", k.encode()) for k in ("birth", "state", "death")]


def test_a_device_reads_only_its_own_commands(clients: dict[str, Client]) -> None:
    orchestrator, cam = clients["orchestrator"], clients["cam-01"]
    cam.subscribe(f"{BASE}/cam-02/cmd", f"{BASE}/cam-01/cmd", f"{BASE}/orchestrator")

    assert not orchestrator.publish(f"{BASE}/cam-02/cmd", b"for cam-02").is_failure
    assert not orchestrator.publish(f"{BASE}/orchestrator", b"online").is_failure
    assert not orchestrator.publish(f"{BASE}/cam-01/cmd", b"for cam-01").is_failure
    received = cam.wait_for(b"for cam-01")

    assert received == [(f"{BASE}/orchestrator", b"online"), (f"{BASE}/cam-01/cmd", b"for cam-01")]


def test_the_orchestrator_shares_telemetry_through_a_shared_subscription(clients: dict[str, Client]) -> None:
    orchestrator = clients["orchestrator"]
    orchestrator.subscribe(f"$share/continuum/{BASE}/+/state")

    assert not clients["cam-02"].publish(f"{BASE}/cam-02/state", b"telemetry").is_failure
    assert orchestrator.wait_for(b"telemetry") == [(f"{BASE}/cam-02/state", b"telemetry")]


def test_the_orchestrator_cannot_publish_as_a_device(clients: dict[str, Client]) -> None:
    assert clients["orchestrator"].publish(f"{BASE}/cam-01/state", b"forged").getName() == "Not authorized"


def test_a_device_cannot_take_over_another_devices_client_id(
    broker: Ports, clients: dict[str, Client]
) -> None:
    impostor = Client(broker.devices, "cam-02", DEVICES["cam-02"], client_id="cam-01")
    try:
        assert impostor.reason is not None
        assert not impostor.reason.is_failure
        clients["cam-01"].subscribe(f"{BASE}/cam-01/cmd")  # the real cam-01 is still connected and served
        assert not clients["orchestrator"].publish(f"{BASE}/cam-01/cmd", b"still you").is_failure
        clients["cam-01"].wait_for(b"still you")
        assert not clients["cam-01"].disconnected.is_set()
    finally:
        impostor.close()


def test_orchestrator_replicas_share_one_account_on_the_internal_listener(
    broker: Ports, clients: dict[str, Client]
) -> None:
    second = Client(broker.internal, "orchestrator", ORCHESTRATOR_PASSWORD, client_id="replica-2")
    try:
        assert not clients["orchestrator"].disconnected.is_set()
        assert not second.publish(f"{BASE}/cam-01/cmd", b"from replica 2").is_failure
    finally:
        second.close()
