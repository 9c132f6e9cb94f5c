"""The active bandwidth probe: a rate-limited QoS 1 publish of a bounded number of bytes to the broker.

The broker acknowledges a QoS 1 PUBLISH only after it has read the whole packet, so the time from sending
to PUBACK, less one RTT, is the time the uplink took to carry the payload. The probe goes to
`continuum/v1/<fleet>/<device>/probe`, which nobody subscribes to (with the chart's ACL the broker refuses
it after reading it, which times the same). The rule (`agents.probes.sampling.ProbeSchedule`, shared with
the trace-replay evaluation): probe only while the uplink saw no passive sample since the last telemetry
tick (an idle path, e.g. a device that fell back to device-only, would otherwise never see its link
recover), `nbytes` at most, at most once per `interval_s` (with a larger `max_interval_s` the wait doubles
with each probe of an idle spell, up to it), only while a session is up. It feeds the uplink estimator of the
target where the broker lives (`target`, default "edge").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from agents.probes.network import LinkMonitor
from agents.probes.sampling import PROBE_BYTES, PROBE_INTERVAL_S, PROBE_MAX_INTERVAL_S, ProbeSchedule
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
    nbytes: int = PROBE_BYTES
    interval_s: float = PROBE_INTERVAL_S
    max_interval_s: float = PROBE_MAX_INTERVAL_S
    timeout_s: float = 10.0
    last_tick_s: float | None = None
    runs: int = 0
    failures: int = 0
    schedule: ProbeSchedule = field(init=False)

    def __post_init__(self) -> None:
        self.schedule = ProbeSchedule(self.interval_s, self.max_interval_s)

    @property
    def last_run_s(self) -> float | None:
        """When the last probe started (None: never)."""
        return self.schedule.last_probe_s

    async def maybe_run(self, now_s: float) -> float | None:
        """Probe if enabled, connected and due (`ProbeSchedule.due`: no passive uplink sample of the target
        since the previous call, i.e. the last telemetry tick, and the backoff allows); returns the Mbps
        measured (None when not run or failed)."""
        last_report = now_s if self.last_tick_s is None else self.last_tick_s
        self.last_tick_s = now_s
        if self.nbytes <= 0 or not self.connection.connected:
            return None
        last_passive = self.monitor.ensure(self.target).last_passive_s["up"]
        if not self.schedule.due(now_s, last_passive, last_report):
            return None
        self.schedule.ran(now_s)
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
