"""The values and errors of the MQTT bridge: free of paho types, shared by the agent and the orchestrator."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "BrokerUnreachable",
    "ConnectFailed",
    "ConnectOptions",
    "Message",
    "MqttError",
    "NotConnected",
    "Protocol",
    "Version",
    "Will",
]

Version = Literal["5", "3.1.1"]
Protocol = Literal["auto", "5", "3.1.1"]


@dataclass(frozen=True, slots=True)
class Message:
    """A received message.

    `qos` is keyword-only: the two bridges this one replaced put the third positional field at qos on one
    side and retain on the other, so a stale positional call fails loudly instead of swapping them.
    """

    topic: str
    payload: bytes
    retain: bool = False
    _: KW_ONLY
    qos: int = 0


@dataclass(frozen=True, slots=True)
class Will:
    """The last will the broker publishes when the connection dies without a DISCONNECT.

    No defaults: a device's death is not retained and the orchestrator's status is, and a default would
    silently pick one of them for the other.
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """Everything one connection needs. The defaults are a device's; the orchestrator sets its own."""

    host: str
    port: int
    client_id: str
    keepalive_s: int = 30
    protocol: Protocol = "auto"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True
    clean_session: bool = False
    """False keeps the session across connections (v5: clean start off, `session_expiry_s`)."""
    session_expiry_s: int = 3600
    connect_timeout_s: float = 10.0
    max_inflight: int = 100
    """QoS>0 messages in flight at once; 0 is unlimited."""


class MqttError(RuntimeError):
    """Something the MQTT bridge could not do; the message says what to check."""


class ConnectFailed(MqttError):
    """A connection attempt failed; `retryable` says whether backing off and retrying can help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class BrokerUnreachable(ConnectFailed):
    """No TCP (or TLS) connection to the broker could be made."""


class NotConnected(MqttError):
    """The operation needs a live connection; buffer the message or wait for the next session."""
