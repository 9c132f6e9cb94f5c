"""The agent's MQTT connection: the shared bridge (`continuum_mqtt`) under the names agents use.

A device's connection options are the bridge's defaults (a persistent session, 30 s keepalive, MQTT 5
with fallback to 3.1.1); the device's policy (backoff between attempts, a will per bdSeq, its subscriptions
on every new connection) lives in `agents.session.device`.
"""

from __future__ import annotations

from continuum_mqtt import ConnectFailed, ConnectOptions, Message, NotConnected, Will
from continuum_mqtt import Connection as MqttConnection

__all__ = ["ConnectFailed", "ConnectOptions", "Message", "MqttConnection", "NotConnected", "Will"]
