"""A test-side MQTT observer: records every message under continuum/ and waits for conditions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

T = TypeVar("T")


@dataclass(frozen=True)
class Seen:
    """One observed message."""

    topic: str
    payload: bytes
    retain: bool


class Recorder:
    """Subscribes to `topic_filter` on a broker and keeps what arrives (paho's own thread; test side only)."""

    def __init__(
        self, port: int, topic_filter: str = "continuum/#", client_id: str = "", persistent: bool = False
    ) -> None:
        self.port = port
        self.topic_filter = topic_filter
        self.messages: list[Seen] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        self._client.reconnect_delay_set(1, 1)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe

    def _on_connect(
        self, client: paho.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        client.subscribe(self.topic_filter, qos=1)

    def _on_subscribe(
        self, client: paho.Client, userdata: object, mid: int, codes: object, props: object
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Seen(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def start(self) -> Recorder:
        """Connect and start receiving."""
        self._client.connect("127.0.0.1", self.port, keepalive=10)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise AssertionError("the recorder's subscription was not acknowledged")
        return self

    def stop(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish at QoS 1 and wait until it is sent."""
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def on(self, suffix: str) -> list[Seen]:
        """Messages whose topic ends with `suffix`."""
        with self._cond:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def wait(self, check: Callable[[], T | None], timeout: float = 20.0) -> T:
        """Wait until `check()` returns something truthy; fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"condition not met within {timeout}s; saw {len(self.messages)} messages"
                    )
                self._cond.wait(min(remaining, 0.2))
