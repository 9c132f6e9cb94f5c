"""Reconnect delays: exponential backoff with full jitter (pure; the random source is injected)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Delay before reconnect attempt n: uniform in [min_s, min(max_s, min_s * 2**n)].

    Jitter spreads the reconnects of a whole fleet after a broker restart instead of a thundering herd.
    """

    min_s: float = 0.5
    max_s: float = 30.0
    uniform: Callable[[float, float], float] = field(default=random.uniform)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.max_s, self.min_s * (2 ** min(self.attempt, 32)))
        self.attempt += 1
        return self.uniform(self.min_s, max(self.min_s, ceiling))

    def reset(self) -> None:
        """After a successful connection, start again from the shortest delay."""
        self.attempt = 0
