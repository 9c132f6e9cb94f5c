"""The inbound side of the control loop: decode each received message and queue it for the next batch.

Runs inside the MQTT read callback, so it does only cheap work: size check, topic parse, protobuf
decode. The queue is bounded; what does not fit is dropped and counted, never blocking the socket.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from orchestrator.ingest.decoding import Inbound, Rejected, decode
from orchestrator.mqtt.connection import Received

__all__ = ["Intake"]


class Intake:
    """Decoded messages waiting for the control loop, with counts of what was refused and why."""

    def __init__(self, max_payload_bytes: int, limit: int, clock: Callable[[], float] = time.time) -> None:
        self._max_bytes = max_payload_bytes
        self._limit = limit
        self._clock = clock
        self._queue: deque[Inbound] = deque()
        self.rejected: dict[str, int] = {}
        self.received = 0
        self.dropped = 0
        self.ignored = 0
        self.last_lag_s = 0.0
        self.wakeup = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    def on_message(self, message: Received) -> None:
        """Decode one message and queue it (or count why not)."""
        self.received += 1
        result = decode(message.topic, message.payload, self._clock(), self._max_bytes, message.retain)
        if result is None:
            self.ignored += 1
            return
        if isinstance(result, Rejected):
            self.rejected[result.reason] = self.rejected.get(result.reason, 0) + 1
            return
        if len(self._queue) >= self._limit:
            self.dropped += 1
            return
        self._queue.append(result)
        if not self.wakeup.is_set():
            self.wakeup.set()

    def take(self, max_items: int) -> list[Inbound]:
        """Up to `max_items` queued messages, oldest first; records the oldest one's queueing lag."""
        queue = self._queue
        n = min(max_items, len(queue))
        batch = [queue.popleft() for _ in range(n)]
        if not queue:
            self.wakeup.clear()
        if batch:
            self.last_lag_s = max(0.0, self._clock() - batch[0].received_s)
        return batch
