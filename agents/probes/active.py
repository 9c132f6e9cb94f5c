"""The active bandwidth probe: a rate-limited QoS 1 publish of a bounded number of bytes to the broker.

The broker acknowledges a QoS 1 PUBLISH only after it has read the whole packet, so the time from sending
to PUBACK, less one RTT, is the time the uplink took to carry the payload. The probe goes to
`continuum/v1/<fleet>/<device>/probe`, which nobody subscribes to (with the chart's ACL the broker refuses
it after reading it, which times the same). It runs at most once per `interval_s`, only while a session is
up, and feeds the uplink estimator of the target where the broker lives (`target`, default "edge").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from agents.probes.network import LinkMonitor
from agents.transport.mqtt import MqttConnection, NotConnected

__all__ = ["ActiveProbe", "uplink_mbps"]


def uplink_mbps(nbytes: int, elapsed_s: float, rtt_s: float) -> float:
    """Uplink Mbps from one timed transfer: bytes over (elapsed - one RTT), floored at 10 % of elapsed."""
    transfer_s = max(elapsed_s - rtt_s, 0.1 * elapsed_s, 1e-6)
    return nbytes * 8 / transfer_s / 1e6


@dataclass
class ActiveProbe:
    """Times a bounded publish now and then; `maybe_run` is called on every telemetry tick."""

    connection: MqttConnection
    topic: str
    monitor: LinkMonitor
    target: str = "edge"
    nbytes: int = 64 * 1024
    interval_s: float = 60.0
    timeout_s: float = 10.0
    last_run_s: float | None = None
    runs: int = 0
    failures: int = 0

    async def maybe_run(self, now_s: float) -> float | None:
        """Probe if enabled, connected and due; returns the Mbps measured (None when not run or failed)."""
        if self.nbytes <= 0 or not self.connection.connected:
            return None
        if self.last_run_s is not None and now_s - self.last_run_s < self.interval_s:
            return None
        self.last_run_s = now_s
        payload = bytes(self.nbytes)
        start = time.perf_counter()
        try:
            await asyncio.wait_for(self.connection.publish_acked(self.topic, payload), self.timeout_s)
        except (NotConnected, TimeoutError):
            self.failures += 1
            return None
        elapsed = time.perf_counter() - start
        link = self.monitor.ensure(self.target)
        mbps = uplink_mbps(self.nbytes, elapsed, link.rtt.estimate / 1000.0)
        link.observe_bandwidth("up", mbps, now_s)
        self.runs += 1
        return mbps
