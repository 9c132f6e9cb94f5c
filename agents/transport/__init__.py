"""The agent's MQTT transport: the shared bridge (`continuum_mqtt`, which owns paho) and reconnect backoff."""

from __future__ import annotations

from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectFailed, ConnectOptions, Message, MqttConnection, NotConnected, Will
from agents.transport.ticker import MiscTicker

__all__ = [
    "Backoff",
    "ConnectFailed",
    "ConnectOptions",
    "Message",
    "MiscTicker",
    "MqttConnection",
    "NotConnected",
    "Will",
]
