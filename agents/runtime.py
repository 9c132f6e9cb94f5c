"""The agent process: `build(settings)` wires every object; `Agent.run()` reads like its lifecycle.

startup (state directory, plan cache, buffer, host probes, MQTT connection) -> main loop (session, probes
and telemetry on one cadence, systemd watchdog) -> shutdown on SIGTERM/SIGINT (death published, DISCONNECT,
files closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.buffer import TelemetryBuffer
from agents.device_classes import detect_device_class, device_class
from agents.plans import PlanStore
from agents.probes.active import ActiveProbe
from agents.probes.capabilities import HostBirth
from agents.probes.network import LinkMonitor, default_interface, link_type
from agents.probes.passive import observe_inference
from agents.probes.system import InferenceRecorder, SystemSampler
from agents.profiling import profile_present_model
from agents.sdnotify import Notifier
from agents.session.bdseq import FileBdSeq
from agents.session.device import BirthSource, DeviceIdentity, DeviceSession
from agents.settings import AgentSettings
from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectOptions, MqttConnection
from agents.transport.ticker import MiscTicker
from agents.version import agent_version
from protos.v1 import control_pb2 as pb

__all__ = ["Agent", "HostTelemetry", "build", "connect_options"]

log = logging.getLogger("continuum.agent")


class HostTelemetry:
    """The telemetry source of a real device: system load, link estimates, inference statistics."""

    def __init__(self, links: LinkMonitor, system: SystemSampler, inference: InferenceRecorder) -> None:
        self.links = links
        self.system = system
        self.inference = inference

    def fill(self, telemetry: pb.Telemetry, now_s: float) -> None:
        """Fill one Telemetry message from the host."""
        self.system.fill(telemetry)
        self.links.fill(telemetry, link_type(default_interface()))
        self.inference.fill(telemetry)


def connect_options(settings: AgentSettings) -> ConnectOptions:
    """The MQTT connection options the settings describe."""
    broker, tls = settings.broker, settings.broker.tls
    return ConnectOptions(
        host=broker.host,
        port=broker.port,
        client_id=f"{settings.identity.fleet}.{settings.identity.device_id}",
        keepalive_s=broker.keepalive_s,
        protocol=broker.protocol,
        username=broker.username,
        password=broker.password.get_secret_value() if broker.password else None,
        tls=tls.enabled,
        ca_file=tls.ca_file,
        cert_file=tls.cert_file,
        key_file=tls.key_file,
        check_hostname=tls.check_hostname,
        session_expiry_s=broker.session_expiry_s,
        connect_timeout_s=broker.connect_timeout_s,
    )


@dataclass
class Agent:
    """Everything one agent process runs; built by `build`."""

    settings: AgentSettings
    session: DeviceSession
    connection: MqttConnection
    links: LinkMonitor
    buffer: TelemetryBuffer
    ticker: MiscTicker
    notifier: Notifier
    active_probe: ActiveProbe | None = None
    inference: InferenceRecorder = field(default_factory=InferenceRecorder)

    def observe_inference(self, result: Any) -> None:
        """Feed one finished request of the data plane (an `agents.dataplane.InferenceResult`) into the
        telemetry statistics and the passive uplink estimates."""
        observe_inference(result, self.links, self.inference, asyncio.get_running_loop().time())

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until `stop` is set or SIGTERM/SIGINT arrives, then shut down cleanly."""
        stop = stop or asyncio.Event()
        with _capture_signals(stop):
            session_task = asyncio.create_task(self.session.run(), name="session")
            telemetry_task = asyncio.create_task(self._telemetry_loop(), name="telemetry")
            watchdog_task = asyncio.create_task(self._watchdog_loop(), name="watchdog")
            self.notifier.ready(f"device {self.settings.identity.device_id} running")
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({stopped, session_task}, return_when=asyncio.FIRST_COMPLETED)
            await self.shutdown(session_task, telemetry_task, watchdog_task)

    async def _telemetry_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.telemetry.interval_s
        deadline = loop.time()
        probing: asyncio.Task[None] | None = None
        try:
            while True:
                if probing is None or probing.done():
                    probing = asyncio.create_task(self._probe_round(loop.time()), name="probes")
                try:
                    self.session.tick(loop.time())
                except Exception:  # one bad sample must not end telemetry for good
                    self.session.counters["telemetry_errors"] += 1
                    log.exception("building telemetry failed")
                deadline = max(deadline + interval, loop.time())  # late: skip ahead, never burst
                await asyncio.sleep(deadline - loop.time())
        finally:
            if probing is not None:
                probing.cancel()

    async def _probe_round(self, now_s: float) -> None:
        """RTT probes and (when due) the active probe, off the telemetry cadence: a slow link delays the
        estimates, never the telemetry."""
        if self.links.targets:
            await self.links.probe()
        if self.active_probe is not None:
            await self.active_probe.maybe_run(now_s)

    async def _watchdog_loop(self) -> None:
        period = self.notifier.watchdog_period_s()
        if period is None:
            return
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(period)

    async def shutdown(self, *tasks: asyncio.Task[None]) -> None:
        """Publish the death, disconnect, stop every task and close the buffer."""
        self.notifier.stopping()
        log.info("stopping: publishing death and disconnecting")
        session_task, *others = tasks
        for task in others:
            task.cancel()
        await self.session.stop()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(session_task, 5.0)
        for task in others:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.ticker.close()
        self.buffer.close()


@contextlib.contextmanager
def _capture_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield None
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def build(
    settings: AgentSettings, notifier: Notifier | None = None, birth: BirthSource | None = None
) -> Agent:
    """Wire an agent from its settings (probing the host takes a moment: run it off the loop).

    `birth` replaces the host probe (tests pass a HostBirth with known providers to skip the
    onnxruntime child process).
    """
    state_dir: Path = settings.state_dir
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: state_dir.mkdir(parents=True, exist_ok=True))
    identity = settings.identity
    klass = device_class(identity.device_class) if identity.device_class else detect_device_class()
    if birth is None:
        birth = await loop.run_in_executor(
            None, lambda: HostBirth(state_dir, device_class=klass, speed_factor=identity.speed_factor)
        )
    links = LinkMonitor(settings.probes.targets, settings.probes.timeout_s)
    recorder = InferenceRecorder()
    telemetry = HostTelemetry(links, SystemSampler(), recorder)
    buffer = TelemetryBuffer(
        state_dir / "buffer.sqlite3", settings.buffer.max_messages, settings.buffer.ttl_s, time.time
    )
    ticker = MiscTicker()
    connection = MqttConnection(connect_options(settings), ticker)
    session = DeviceSession(
        DeviceIdentity(identity.fleet, identity.device_id, identity.site, agent_version()),
        connection,
        FileBdSeq(state_dir / "bdseq"),
        birth,
        telemetry,
        PlanStore(state_dir / "plans"),
        buffer=buffer,
        backoff=Backoff(settings.broker.reconnect_min_s, settings.broker.reconnect_max_s),
        replay_batch=settings.buffer.replay_batch,
        on_profile=lambda request: profile_present_model(state_dir, request),
        drain_file=state_dir / "drained",
        max_command_bytes=settings.broker.max_command_bytes,
    )
    probes = settings.probes
    active = ActiveProbe(
        connection,
        f"{session.topics['state'].rsplit('/', 1)[0]}/probe",
        links,
        target=probes.broker_target,
        nbytes=probes.active_bytes,
        interval_s=probes.active_interval_s,
        timeout_s=max(5.0, probes.timeout_s * 5),
    )
    return Agent(
        settings, session, connection, links, buffer, ticker, notifier or Notifier(), active, recorder
    )
