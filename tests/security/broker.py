"""Run Mosquitto with a configuration written by `continuum broker config`, and talk to it.

Publishers are `mosquitto_pub` subprocesses (their exit status is what a refused client sees);
the observer is a paho client in this process that records everything it receives.
"""

from __future__ import annotations

import getpass
import pwd
import signal
import ssl
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from continuum_cli.main import main as cli_main
from tests.support.mosquitto import mosquitto_binary
from tests.support.ports import free_port, wait_for_port

CONNECTION_REFUSED = 5
"""mosquitto_pub's exit status when the broker refuses the CONNECT (bad credentials, no TLS, ...)."""


def write_config(out: Path, *extra: str, port: int | None = None, fleet: str = "f1") -> tuple[Path, int]:
    """Run `continuum broker config` for devices d1, d2 and orchestrator orch; return (conf, port)."""
    port = port or free_port()
    argv = [
        "broker", "config", "--out", str(out), "--port", str(port), "--bind", "127.0.0.1",
        "--fleet", fleet, "--device", "d1:secret-1", "--device", "d2:secret-2",
        "--orchestrator", "orch:secret-o", "--run-as", getpass.getuser(), *extra,
    ]  # fmt: skip
    status = cli_main(argv)
    assert status == 0, f"broker config exited {status}"
    return out / "mosquitto.conf", port


@dataclass
class ConfiguredBroker:
    """A mosquitto process started from a generated mosquitto.conf."""

    conf: Path
    port: int
    orchestrator_port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    user: str | None = None
    """Start the broker as this user (we must be root); None: as we are."""

    def start(self) -> None:
        """Start and wait until the port accepts connections."""
        log = (self.conf.parent / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.conf)],
            stdout=log,
            stderr=log,
            user=self.user,
            group=pwd.getpwnam(self.user).pw_gid if self.user else None,
            extra_groups=[] if self.user else None,
        )
        wait_for_port(self.port)
        if self.orchestrator_port is not None:
            wait_for_port(self.orchestrator_port)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """Terminate and reap."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass(frozen=True)
class Tls:
    """Client-side TLS options."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None


def mqtt_pub(
    port: int,
    topic: str,
    message: str,
    *,
    user: str | None,
    password: str | None,
    client_id: str | None = None,
    tls: Tls | None = None,
    version: str = "mqttv311",
) -> subprocess.CompletedProcess[str]:
    """One `mosquitto_pub -q 1` (waits for PUBACK); the caller inspects `.returncode`."""
    argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", message, "-q", "1"]
    argv += ["-V", version]
    if user is not None:
        argv += ["-u", user]
    if password is not None:
        argv += ["-P", password]
    if client_id is not None:
        argv += ["-i", client_id]
    if tls is not None:
        argv += ["--cafile", str(tls.ca)]
        if tls.cert is not None and tls.key is not None:
            argv += ["--cert", str(tls.cert), "--key", str(tls.key)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)


@dataclass
class Observer:
    """A paho client that subscribes and records (topic, payload) pairs in arrival order."""

    port: int
    user: str
    password: str
    client_id: str
    tls: Tls | None = None
    received: list[tuple[str, str]] = field(default_factory=list)
    disconnects: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _client: mqtt.Client | None = None

    def start(self, filters: Sequence[str]) -> None:
        """Connect, subscribe and wait for the SUBACK."""
        subscribed = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
        client.username_pw_set(self.user, self.password)
        if self.tls is not None:
            client.tls_set(ca_certs=str(self.tls.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)

        def on_connect(c: mqtt.Client, _u: object, _f: object, rc: object, _p: object = None) -> None:
            c.subscribe([(f, 1) for f in filters])

        def on_subscribe(*_args: object) -> None:
            subscribed.set()

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            with self._cond:
                self.received.append((msg.topic, msg.payload.decode(errors="replace")))
                self._cond.notify_all()

        def on_disconnect(*_args: object) -> None:
            self.disconnects += 1

        client.on_disconnect = on_disconnect
        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        self._client = client
        if not subscribed.wait(10):
            raise TimeoutError("observer never got its SUBACK")

    def wait_for(self, predicate: Callable[[list[tuple[str, str]]], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate(received)` holds or `timeout` passes; return whether it held."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.received), timeout)

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
