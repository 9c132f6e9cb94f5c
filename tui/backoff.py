"""Reconnection backoff: doubling delays up to a ceiling, reset by a success. Pure."""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    """Delays initial, 2*initial, ... capped at `maximum`; `reset()` after a connection succeeds."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._initial = initial
        self._maximum = max(initial, maximum)
        self._next = initial
        self.attempts = 0

    def next_delay(self) -> float:
        """The wait before the next attempt, and count the attempt."""
        delay = self._next
        self._next = min(self._next * 2, self._maximum)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """Start again from the initial delay."""
        self._next = self._initial
        self.attempts = 0
