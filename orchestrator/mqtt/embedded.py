"""An in-process MQTT broker (amqtt) for the one-command demo. This module owns amqtt.

amqtt speaks MQTT 3.1.1 only (no shared subscriptions, no message expiry); the orchestrator falls
back to 3.1.1 against it automatically. For production use Mosquitto (`continuum broker config`).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

__all__ = ["EmbeddedBroker"]


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """amqtt on host:port (0 picks a free port), anonymous, loopback by default."""

    name = "broker"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self._broker: Any = None

    async def start(self) -> None:
        """Start listening."""
        from amqtt.broker import Broker

        for noisy in ("amqtt", "transitions"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        self._broker = Broker(
            {
                "listeners": {
                    "default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": -1}
                },
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
            }
        )
        try:
            await self._broker.start()
        except Exception as exc:
            self._broker = None
            raise OSError(f"cannot start the embedded MQTT broker on {self.host}:{self.port}: {exc}") from exc

    async def stop(self) -> None:
        """Stop the broker."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    def describe(self) -> str:
        """Where it listens."""
        return f"MQTT broker (embedded amqtt, 3.1.1) on {self.host}:{self.port}"
