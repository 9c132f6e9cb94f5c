"""Link EMULATION on the device side of the data path: a token bucket shaping bytes to a (trace-driven) rate.

This is emulation, not a network: the data plane really sends its bytes over loopback gRPC, and this bucket
makes the sender wait as long as a link of the given bandwidth would take, plus half an RTT each way. The rate
may follow a trace (a function of time, e.g. `Trace.mbps_at`), so observed latencies follow real networks.
The kernel's `tbf` could shape real interfaces, but `netem` is missing here and per-device shaping of one
process's loopback traffic is not possible with it, hence user space.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["EmulatedLink", "TokenBucket"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class TokenBucket:
    """A token bucket of `burst_bytes` refilled at `rate_mbps(now)`; `delay_for(n)` says how long to wait.

    Pure: the caller supplies the time, so tests use a fake clock.
    """

    rate_mbps: Callable[[float], float]
    burst_bytes: int = 16 * 1024
    _tokens: float = field(init=False, default=0.0)
    _last: float | None = field(init=False, default=None)

    step_s: float = 0.05
    horizon_s: float = 3600.0

    def delay_for(self, nbytes: int, now_s: float) -> float:
        """Take `nbytes` from the bucket at `now_s`; returns how many seconds the sender must wait first.

        The refill integrates the rate over time in `step_s` steps rather than assuming the rate at `now_s`
        holds: a trace that drops to 0 Mbps and recovers must release the bytes when it recovers.
        """
        if self._last is None:
            self._tokens, self._last = float(self.burst_bytes), now_s
        elif now_s > self._last:
            room = float(self.burst_bytes) - self._tokens
            self._tokens = min(float(self.burst_bytes), self._tokens + self._carried(self._last, now_s, room))
            self._last = now_s
        self._tokens -= nbytes
        if self._tokens >= 0:
            return 0.0
        ready = self._last
        deficit = -self._tokens
        while deficit > 0 and ready - now_s < self.horizon_s:
            rate = self._bytes_per_s(ready)
            if rate * self.step_s >= deficit:
                ready += deficit / rate
                deficit = 0.0
            else:
                deficit -= rate * self.step_s
                ready += self.step_s
        self._tokens, self._last = 0.0, ready
        return ready - now_s

    def _bytes_per_s(self, t: float) -> float:
        return max(self.rate_mbps(t), 0.0) * 1e6 / 8.0

    def _carried(self, start: float, end: float, enough: float) -> float:
        """Bytes carried between `start` and `end` (integrating the rate), or `enough` once reached."""
        carried, t = 0.0, start
        while t < end and carried < enough:
            dt = min(self.step_s, end - t)
            carried += self._bytes_per_s(t) * dt
            t += dt
        return carried


@dataclass
class EmulatedLink:
    """An emulated device link: shaped uplink and downlink plus a fixed RTT, awaited on the data path."""

    uplink_mbps: Callable[[float], float]
    downlink_mbps: Callable[[float], float] | None = None
    rtt_ms: float = 0.0
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    _up: TokenBucket = field(init=False)
    _down: TokenBucket | None = field(init=False)

    def __post_init__(self) -> None:
        self._up = TokenBucket(self.uplink_mbps)
        self._down = TokenBucket(self.downlink_mbps) if self.downlink_mbps else None

    @classmethod
    def fixed(
        cls, uplink_mbps: float, rtt_ms: float = 0.0, downlink_mbps: float | None = None
    ) -> EmulatedLink:
        """A link of constant rates."""
        down = (lambda _t: downlink_mbps) if downlink_mbps else None
        return cls(lambda _t: uplink_mbps, down, rtt_ms)

    @classmethod
    def following(
        cls, mbps_at: Callable[[float], float], rtt_ms: float = 0.0, clock: Clock = time.monotonic
    ) -> EmulatedLink:
        """A link whose uplink follows a trace (`mbps_at(seconds since now)`, e.g. `Trace.mbps_at`)."""
        start = clock()
        return cls(lambda t: mbps_at(t - start), None, rtt_ms, clock=clock)

    async def propagate(self) -> None:
        """Half an RTT: the one-way propagation delay paid once per direction of a hop."""
        if self.rtt_ms > 0:
            await self.sleep(self.rtt_ms / 2000.0)

    async def send(self, nbytes: int) -> None:
        """Wait until the uplink would have carried `nbytes`."""
        wait = self._up.delay_for(nbytes, self.clock())
        if wait > 0:
            await self.sleep(wait)

    async def receive(self, nbytes: int) -> None:
        """Wait until the downlink would have carried `nbytes` (no wait when the downlink is unshaped)."""
        if self._down is None:
            return
        wait = self._down.delay_for(nbytes, self.clock())
        if wait > 0:
            await self.sleep(wait)
