"""One timer for many MQTT clients: calls paho's `loop_misc()` (keepalive pings, dead-peer detection).

A simulated fleet holds thousands of connections; one task ticking all of them once a second costs far less
than a timer per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

__all__ = ["MiscTicker"]


class _Ticking(Protocol):
    def loop_misc(self) -> Any: ...


class MiscTicker:
    """Calls `loop_misc()` on every registered client every `period_s` while started."""

    def __init__(self, period_s: float = 1.0) -> None:
        self.period_s = period_s
        self._clients: set[_Ticking] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, client: _Ticking) -> None:
        """Start ticking `client` (starts the timer task on first use)."""
        self._clients.add(client)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mqtt-misc-ticker")

    def remove(self, client: _Ticking) -> None:
        """Stop ticking `client`."""
        self._clients.discard(client)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            for client in list(self._clients):
                with contextlib.suppress(Exception):
                    client.loop_misc()

    async def close(self) -> None:
        """Stop the timer task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._clients.clear()
