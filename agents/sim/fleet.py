"""N simulated devices in one process and one asyncio loop, speaking the real protocol.

Every device is a real `DeviceSession` over its own `MqttConnection` (one MQTT connection per device, as
each needs its own last will); telemetry comes from a network trace through the real estimators. One
shared ticker drives keepalive for all connections and one scheduler task spreads the devices' telemetry
evenly over each interval, so the per-device cost is a publish, not a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agents.buffer import TelemetryBuffer
from agents.device_classes import DEVICE_CLASSES, DeviceClass, device_class
from agents.plans import PlanStore
from agents.session.bdseq import MemoryBdSeq
from agents.session.device import DeviceIdentity, DeviceSession
from agents.sim.devices import SimBirth, TraceTelemetry
from agents.sim.traces import SHIPPED_TRACES, Trace, load_trace, shipped_trace
from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectOptions, MqttConnection, Will
from agents.transport.ticker import MiscTicker
from agents.version import agent_version

__all__ = ["SimulatedDevice", "SimulatedFleet"]

log = logging.getLogger("continuum.agent.sim")
_SLOTS = 50
DEFAULT_CLASSES = ("rpi4", "jetson-cpu", "jetson-gpu", "laptop")


@dataclass
class SimulatedDevice:
    """One virtual device: its session, trace-driven telemetry and class."""

    session: DeviceSession
    connection: MqttConnection
    telemetry: TraceTelemetry
    device_class: DeviceClass
    task: asyncio.Task[None] | None = None

    @property
    def device_id(self) -> str:
        """The device id."""
        return self.session.identity.device_id


class SimulatedFleet:
    """A fleet of `n_devices` virtual devices against the broker at broker_host:broker_port.

    `traces`: Trace objects, paths of trace files, or names of shipped traces (default: all shipped).
    `device_classes`: class names (see agents.device_classes), assigned round-robin (default: rpi4,
    jetson-cpu, jetson-gpu, laptop). `state_dir`: where the shared store-and-forward buffer lives (None: no
    buffering; offline telemetry is counted as lost). bdSeq starts at the wall clock in milliseconds, so it
    keeps growing across restarts of the simulator without a file per device.
    """

    def __init__(
        self,
        broker_host: str,
        broker_port: int,
        fleet: str,
        n_devices: int,
        traces: Sequence[Trace | str | Path] | None = None,
        device_classes: Sequence[str] | None = None,
        telemetry_interval_s: float = 1.0,
        state_dir: Path | None = None,
        *,
        site: str = "site-a",
        id_prefix: str = "sim-",
        keepalive_s: int = 30,
        seed: int = 0,
        connect_concurrency: int = 64,
    ) -> None:
        if n_devices < 0:
            raise ValueError("n_devices must be >= 0")
        self.broker_host = broker_host
        self.broker_port = broker_port
        self.fleet = fleet
        self.n_devices = n_devices
        self.traces = [_as_trace(t) for t in (traces or SHIPPED_TRACES)]
        self.classes = [device_class(name) for name in (device_classes or DEFAULT_CLASSES)]
        self.telemetry_interval_s = telemetry_interval_s
        self.state_dir = state_dir
        self.site = site
        self.id_prefix = id_prefix
        self.keepalive_s = keepalive_s
        self.seed = seed
        self.connect_concurrency = connect_concurrency
        self.devices: list[SimulatedDevice] = []
        self.ticks = 0
        self.late_resets = 0
        self._ticker: MiscTicker | None = None
        self._buffer: TelemetryBuffer | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    @property
    def online_count(self) -> int:
        """Devices with a live session."""
        return sum(1 for d in self.devices if d.session.online)

    def counters(self) -> dict[str, int]:
        """Every device's counters, summed."""
        total: dict[str, int] = {}
        for device in self.devices:
            for name, value in device.session.counters.items():
                total[name] = total.get(name, 0) + value
        return total

    async def start(self) -> None:
        """Create every device and start connecting them (returns before all are online)."""
        if self._ticker is not None:
            return
        self._ticker = MiscTicker()
        if self.state_dir is not None:
            self._buffer = TelemetryBuffer(self.state_dir / "sim-buffer.sqlite3", 1000, 3600.0, time.time)
        rng = random.Random(self.seed)
        gate = asyncio.Semaphore(self.connect_concurrency)
        bd_start = int(time.time() * 1000)
        width = max(3, len(str(self.n_devices - 1)))
        protocol: Literal["auto", "5", "3.1.1"] = "auto"
        for index in range(self.n_devices):
            device = self._make_device(index, width, rng, gate, bd_start, protocol)
            self.devices.append(device)
            if index == 0 and self.n_devices > 1:
                # Learn the broker's MQTT version once instead of probing it from every device.
                await self.wait_online(timeout_s=10.0)
                protocol = device.connection.protocol or "auto"
        self._scheduler = asyncio.create_task(self._schedule(), name="sim-telemetry")

    def _make_device(
        self,
        index: int,
        width: int,
        rng: random.Random,
        gate: asyncio.Semaphore,
        bd_start: int,
        protocol: Literal["auto", "5", "3.1.1"],
    ) -> SimulatedDevice:
        assert self._ticker is not None
        device_id = f"{self.id_prefix}{index:0{width}d}"
        klass = self.classes[index % len(self.classes)]
        trace = self.traces[index % len(self.traces)]
        options = ConnectOptions(
            host=self.broker_host,
            port=self.broker_port,
            client_id=f"{self.fleet}.{device_id}",
            keepalive_s=self.keepalive_s,
            protocol=protocol,
        )
        telemetry = TraceTelemetry(trace, rng.uniform(0, trace.duration_s), rng.randrange(1 << 30))
        connection = _GatedConnection(options, self._ticker, gate)
        session = DeviceSession(
            DeviceIdentity(self.fleet, device_id, self.site, agent_version()),
            connection,
            MemoryBdSeq(bd_start),
            SimBirth(klass),
            telemetry,
            PlanStore(None),
            buffer=self._buffer,
            backoff=Backoff(0.5, 15.0),
        )
        device = SimulatedDevice(session, connection, telemetry, klass)
        device.task = asyncio.create_task(session.run(), name=f"sim-{device_id}")
        return device

    async def wait_online(self, timeout_s: float = 60.0) -> int:
        """Wait until every device has a session (or the timeout); returns how many are online."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.online_count < len(self.devices) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return self.online_count

    async def _schedule(self) -> None:
        """Tick every device once per interval, spread over `_SLOTS` slots to avoid bursts."""
        loop = asyncio.get_running_loop()
        slot_s = self.telemetry_interval_s / _SLOTS
        deadline = loop.time()
        slot = 0
        while True:
            now = loop.time()
            for device in self.devices[slot::_SLOTS]:
                try:
                    device.session.tick(now)
                except Exception:  # one device's failure must not stop the fleet
                    device.session.counters["telemetry_errors"] += 1
                    log.exception("%s: building telemetry failed", device.device_id)
                self.ticks += 1
            slot = (slot + 1) % _SLOTS
            deadline += slot_s
            if loop.time() - deadline > self.telemetry_interval_s:
                deadline = loop.time()  # fell a whole interval behind: skip ahead rather than burst
                self.late_resets += 1
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def run(self) -> None:
        """Start (if needed) and run until `stop()` is called."""
        await self.start()
        await self._stopped.wait()

    async def stop(self) -> None:
        """Publish every device's death cleanly, disconnect and release everything."""
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
            self._scheduler = None
        await asyncio.gather(*(d.session.stop() for d in self.devices), return_exceptions=True)
        for device in self.devices:
            if device.task is not None:
                device.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await device.task
        if self._ticker is not None:
            await self._ticker.close()
            self._ticker = None
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None
        self._stopped.set()


class _GatedConnection(MqttConnection):
    """A connection whose connect attempts share a semaphore, so thousands do not connect at once."""

    def __init__(self, options: ConnectOptions, ticker: MiscTicker, gate: asyncio.Semaphore) -> None:
        super().__init__(options, ticker)
        self._gate = gate

    async def connect(self, will: Will | None) -> None:
        """Connect, at most `connect_concurrency` devices at a time."""
        async with self._gate:
            await super().connect(will)


def _as_trace(item: Trace | str | Path) -> Trace:
    if isinstance(item, Trace):
        return item
    if isinstance(item, str) and item in SHIPPED_TRACES:
        return shipped_trace(item)
    return load_trace(Path(item))


def known_classes() -> list[str]:
    """Device class names the simulator accepts."""
    return list(DEVICE_CLASSES)
