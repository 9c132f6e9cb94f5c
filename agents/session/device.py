"""One device's session with the orchestrator: the same code for a real agent and a simulated device.

`DeviceSession.run()` keeps a connection up (backoff with jitter between attempts), and on every new
connection: reserves a bdSeq, sets the last will (DeviceDeath with that bdSeq), subscribes to its command
topic and the fleet's retained orchestrator state, publishes the retained birth and replays buffered
telemetry (QoS 1, in order, marked historical). `tick()` publishes one telemetry message, or stores it when
offline. Commands are decoded by the pure protocol module; anything malformed is counted, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agents.buffer import TelemetryBuffer
from agents.files import write_atomically
from agents.plans import PlanStore
from agents.session.bdseq import BdSeqSource
from agents.session.protocol import (
    MAX_COMMAND_BYTES,
    CommandRejected,
    SessionState,
    decode_command,
    decode_orchestrator_state,
    encode_death,
)
from agents.transport.backoff import Backoff
from agents.transport.mqtt import ConnectFailed, Message, NotConnected, Will
from protos import PROTOCOL_VERSION
from protos.topics import device_topic, orchestrator_topic
from protos.v1 import control_pb2 as pb

__all__ = ["BirthSource", "DeviceIdentity", "DeviceSession", "TelemetrySource", "Transport"]

log = logging.getLogger("continuum.agent.session")
COMMAND_MAX_AGE_MS = 3600_000
STABLE_SESSION_S = 10.0


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who is speaking: fleet, device id, edge site and agent version."""

    fleet: str
    device_id: str
    site: str = ""
    agent_version: str = ""


class Transport(Protocol):
    """What the session needs of a connection (`agents.transport.mqtt.MqttConnection` in production)."""

    on_message: Callable[[Message], None] | None

    @property
    def connected(self) -> bool:
        """Whether a connection is up."""
        ...

    async def connect(self, will: Will) -> None:
        """Connect with this last will; ConnectFailed on failure."""
        ...

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int:
        """Send now; NotConnected when offline."""
        ...

    async def publish_acked(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Send at QoS 1 and wait for the PUBACK."""
        ...

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe."""
        ...

    async def wait_closed(self) -> str:
        """Wait for the connection to end; why it ended."""
        ...

    async def disconnect(self) -> None:
        """Disconnect cleanly."""
        ...


class TelemetrySource(Protocol):
    """Fills a Telemetry message with what the probes (or a trace) see now."""

    def fill(self, telemetry: pb.Telemetry, now_s: float) -> None:
        """Set links, load, battery and inference stats on `telemetry`."""
        ...


class BirthSource(Protocol):
    """Describes the device for its birth certificate."""

    def capabilities(self) -> pb.Capabilities:
        """What the device can do now."""
        ...

    def models(self) -> list[pb.ModelInfo]:
        """Models present, with their profile digests."""
        ...


ProfileHandler = Callable[[pb.ProfileRequest], Awaitable[object]]


class DeviceSession:
    """The protocol state machine of one device around one connection (`Transport`)."""

    def __init__(
        self,
        identity: DeviceIdentity,
        connection: Transport,
        bdseq: BdSeqSource,
        birth: BirthSource,
        telemetry: TelemetrySource,
        plans: PlanStore,
        buffer: TelemetryBuffer | None = None,
        backoff: Backoff | None = None,
        replay_batch: int = 50,
        on_profile: ProfileHandler | None = None,
        wall_clock: Callable[[], float] = time.time,
        drain_file: Path | None = None,
        max_command_bytes: int = MAX_COMMAND_BYTES,
    ) -> None:
        self.identity = identity
        self.connection = connection
        self.bdseq = bdseq
        self.birth = birth
        self.telemetry = telemetry
        self.plans = plans
        self.buffer = buffer
        self.backoff = backoff or Backoff()
        self.replay_batch = replay_batch
        self.on_profile = on_profile
        self.wall_clock = wall_clock
        self.counters: Counter[str] = Counter()
        self.drain_file = drain_file
        self.max_command_bytes = max_command_bytes
        self.drained = drain_file is not None and drain_file.is_file() and drain_file.read_bytes() == b"1"
        self.state: SessionState | None = None
        self._offline = SessionState(0)
        self.orchestrator_online: bool | None = None
        self._orchestrator_instance = ""
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        fleet, device = identity.fleet, identity.device_id
        self.topics = {kind: device_topic(fleet, device, kind) for kind in ("birth", "state", "death", "cmd")}
        self.orchestrator_topic = orchestrator_topic(fleet)
        connection.on_message = self.handle_message

    @property
    def online(self) -> bool:
        """Whether a session is up right now."""
        return self.state is not None and self.connection.connected

    def _now_ms(self) -> int:
        return int(self.wall_clock() * 1000)

    async def run(self) -> None:
        """Keep a session up until `stop()`; returns after the clean shutdown.

        Every failed attempt, and every session that ends within `STABLE_SESSION_S` of starting (a broker
        that accepts and then drops us), waits a backoff delay first, so nothing spins.
        """
        loop = asyncio.get_running_loop()
        bd: int | None = None
        while not self._stopping.is_set():
            if bd is None:
                bd = self.bdseq.next()
            will = Will(self.topics["death"], encode_death(bd, self._now_ms(), "will"), qos=1, retain=False)
            try:
                await self.connection.connect(will)
            except ConnectFailed as exc:
                self.counters["connect_failures"] += 1
                await self._pause(f"{exc}", longest=not exc.retryable)
                continue
            log.info("%s: session up (bdSeq %d)", self.identity.device_id, bd)
            self.state, bd = SessionState(bd), None
            self.counters["sessions"] += 1
            started = loop.time()
            self._on_connected()
            reason = await self._hold_session()
            if reason is None:
                continue
            self._offline, self.state = self.state, None
            self.orchestrator_online = None
            self.counters["disconnects"] += 1
            if loop.time() - started >= STABLE_SESSION_S:
                self.backoff.reset()
                log.warning("%s: connection lost (%s); reconnecting", self.identity.device_id, reason)
            else:
                await self._pause(f"connection lost after a short session ({reason})")

    async def _hold_session(self) -> str | None:
        """Wait until the connection drops (its reason) or `stop()` is called (None)."""
        closed = asyncio.ensure_future(self.connection.wait_closed())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not closed.done():
            closed.cancel()
            return None
        return closed.result()

    async def _pause(self, why: str, longest: bool = False) -> None:
        """Wait a backoff delay (the longest one when retrying soon cannot help, e.g. bad credentials)."""
        delay = self.backoff.max_s if longest else self.backoff.next_delay()
        log.warning("%s: %s; retrying in %.1f s", self.identity.device_id, why, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    def _on_connected(self) -> None:
        self.connection.subscribe(self.topics["cmd"], qos=1)
        self.connection.subscribe(self.orchestrator_topic, qos=1)
        self.publish_birth()
        if self.buffer is not None and self.buffer.pending(self.identity.device_id):
            self._spawn(self._replay())

    def publish_birth(self) -> None:
        """Publish the retained birth of the current session (QoS 1)."""
        if self.state is None:
            return
        birth = pb.DeviceBirth(
            protocol_version=PROTOCOL_VERSION,
            device_id=self.identity.device_id,
            fleet=self.identity.fleet,
            bd_seq=self.state.bd_seq,
            agent_version=self.identity.agent_version,
            capabilities=self.birth.capabilities(),
            models=self.birth.models(),
            timestamp_ms=self._now_ms(),
            site=self.identity.site,
            plans=self.plans.plans(),
        )
        try:
            self.connection.publish(self.topics["birth"], birth.SerializeToString(), qos=1, retain=True)
            self.counters["births"] += 1
        except NotConnected:
            self.counters["births_failed"] += 1

    def tick(self, now_s: float) -> None:
        """Publish one telemetry message now; offline, store it for replay (or count it lost).

        Offline messages keep counting the last session's seq, so replayed history stays ordered.
        """
        live = self.state is not None and self.connection.connected
        state = self.state or self._offline
        telemetry = pb.Telemetry(
            protocol_version=PROTOCOL_VERSION,
            seq=state.next_seq(),
            bd_seq=state.bd_seq,
            timestamp_ms=self._now_ms(),
            plan_version=self.plans.version,
            drained=self.drained,
        )
        self.telemetry.fill(telemetry, now_s)
        for name, value in self.counters.items():
            telemetry.counters[name] = value
        if self.buffer is not None:
            with contextlib.suppress(sqlite3.Error):
                for name, value in self.buffer.loss_counters(self.identity.device_id).items():
                    if value:
                        telemetry.counters[f"buffer_{name}"] = value
        if live:
            try:
                self.connection.publish(self.topics["state"], telemetry.SerializeToString(), qos=0)
                self.counters["telemetry_sent"] += 1
                return
            except NotConnected:
                pass
        telemetry.historical = True
        if self.buffer is None:
            self.counters["telemetry_lost_offline"] += 1
            return
        try:
            self.buffer.push(self.identity.device_id, self.topics["state"], telemetry.SerializeToString())
        except (sqlite3.Error, OSError) as exc:
            self.counters["telemetry_lost_buffer_error"] += 1
            log.error("%s: cannot store telemetry for replay: %s", self.identity.device_id, exc)
            return
        self.counters["telemetry_buffered"] += 1

    async def _replay(self) -> None:
        buffer, stream = self.buffer, self.identity.device_id
        assert buffer is not None
        while self.connection.connected:
            batch = buffer.peek(stream, self.replay_batch)
            if not batch:
                return
            results = await asyncio.gather(
                *(self.connection.publish_acked(m.topic, m.payload) for m in batch), return_exceptions=True
            )
            acked = [m.id for m, r in zip(batch, results, strict=True) if r is None]
            buffer.ack(stream, acked)
            self.counters["telemetry_replayed"] += len(acked)
            if len(acked) < len(batch):
                return

    def handle_message(self, message: Message) -> None:
        """Route a received message: a command, or the orchestrator's state. Never raises."""
        try:
            if message.topic == self.topics["cmd"]:
                self._handle_command(message.payload)
            elif message.topic == self.orchestrator_topic:
                self._handle_orchestrator(message.payload)
            else:
                self.counters["messages_unexpected"] += 1
        except Exception:
            self.counters["commands_rejected:internal_error"] += 1
            log.exception("%s: handling a message on %s failed", self.identity.device_id, message.topic)

    def _handle_command(self, payload: bytes) -> None:
        try:
            command = decode_command(payload, self.max_command_bytes)
            if command.issued_ms and self._now_ms() - command.issued_ms > COMMAND_MAX_AGE_MS:
                raise CommandRejected("expired", f"issued {command.issued_ms}")
        except CommandRejected as exc:
            self.counters[f"commands_rejected:{exc.reason}"] += 1
            log.warning("%s: rejected a command: %s", self.identity.device_id, exc)
            return
        body = command.WhichOneof("body")
        self.counters[f"commands:{body}"] += 1
        if body == "rebirth":
            self.publish_birth()
        elif body == "plan_update":
            outcome = self.plans.apply(command.plan_update)
            self.counters[f"plans_{outcome}"] += 1
        elif body == "drain":
            self.drained = command.drain.drained
            if self.drain_file is not None:
                write_atomically(self.drain_file, b"1" if self.drained else b"0")
        elif body == "profile":
            if self.on_profile is None:
                self.counters["commands_rejected:profile_unavailable"] += 1
            else:
                self._spawn(self._profile(command.profile))

    async def _profile(self, request: pb.ProfileRequest) -> None:
        assert self.on_profile is not None
        try:
            await self.on_profile(request)
        except CommandRejected as exc:
            self.counters[f"commands_rejected:{exc.reason}"] += 1
            return
        self.publish_birth()

    def _handle_orchestrator(self, payload: bytes) -> None:
        state = decode_orchestrator_state(payload)
        online = bool(state is not None and state.online)
        instance = state.instance if state is not None else ""
        came_online = online and (
            self.orchestrator_online is False or instance != self._orchestrator_instance
        )
        first = self.orchestrator_online is None
        self.orchestrator_online = online
        self._orchestrator_instance = instance
        if came_online and not first:
            self.counters["rebirths_orchestrator_online"] += 1
            self.publish_birth()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Publish the death of the current session (a clean stop), disconnect, and end `run()`."""
        self._stopping.set()
        state = self.state
        if state is not None and self.connection.connected:
            payload = encode_death(state.bd_seq, self._now_ms(), "shutdown")
            with contextlib.suppress(NotConnected, TimeoutError):
                await asyncio.wait_for(self.connection.publish_acked(self.topics["death"], payload), 2.0)
        for task in list(self._tasks):
            task.cancel()
        await self.connection.disconnect()
        self.state = None
