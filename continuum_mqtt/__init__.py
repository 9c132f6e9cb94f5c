"""MQTT on asyncio: the one bridge over paho-mqtt, below both the agent and the orchestrator.

It owns paho (no other package of ours imports it) and holds no policy: reconnecting, backoff, which will to
set and what to subscribe stay with each side (`agents.session`, `orchestrator.mqtt.connection`).
"""

from __future__ import annotations

from continuum_mqtt.bridge import V5_PROBE_TIMEOUT_S, Connection
from continuum_mqtt.ticker import MiscTicker
from continuum_mqtt.types import (
    BrokerUnreachable,
    ConnectFailed,
    ConnectOptions,
    Message,
    MqttError,
    NotConnected,
    Protocol,
    Version,
    Will,
)

__all__ = [
    "V5_PROBE_TIMEOUT_S",
    "BrokerUnreachable",
    "ConnectFailed",
    "ConnectOptions",
    "Connection",
    "Message",
    "MiscTicker",
    "MqttError",
    "NotConnected",
    "Protocol",
    "Version",
    "Will",
]
