"""The control loop: take a batch of inbound messages, hand it to the fleet, publish and log the result.

Commands are encoded to bytes here, as they are published (`orchestrator.mqtt.encoding`).

`step()` runs the phases in a fixed order and never dies on one error (it is counted and logged);
`run()` repeats it whenever messages are waiting, and at least every `sweep_s` for staleness.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord, ShardOutput
from orchestrator.fleet.sharding import ShardedFleet
from orchestrator.gc_tending import GcTender
from orchestrator.ingest.intake import Intake
from orchestrator.metrics.stats import LoopStats
from orchestrator.mqtt.connection import MqttConnection
from orchestrator.mqtt.encoding import encode_command

__all__ = ["ControlLoop"]

log = logging.getLogger(__name__)


class ControlLoop:
    """Moves messages from the intake through the fleet to the broker and the event log."""

    def __init__(
        self,
        intake: Intake,
        fleet: ShardedFleet,
        mqtt: MqttConnection | None,
        events: EventStore,
        stats: LoopStats,
        max_batch: int = 5000,
        sweep_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.intake = intake
        self.fleet = fleet
        self.mqtt = mqtt
        self.events = events
        self.stats = stats
        self._max_batch = max_batch
        self._sweep_s = sweep_s
        self._clock = clock
        self._last_sweep = 0.0
        self._gc = GcTender()
        self._stopping = False
        self.state_counts: dict[str, int] = {"online": 0, "stale": 0, "offline": 0}

    async def step(self) -> None:
        """One pass: apply a batch, sweep staleness when due, publish commands, log events."""
        stats = self.stats
        stats.steps += 1
        t0 = time.perf_counter()
        out = ShardOutput()
        try:
            batch = self.intake.take(self._max_batch)
            if batch:
                out = await self.fleet.apply(batch, self._clock())
            t1 = time.perf_counter()
            stats.phase("apply", t1 - t0)
            now = self._clock()
            if now - self._last_sweep >= self._sweep_s:
                self._last_sweep = now
                out.merge(await self.fleet.tick(now))
                self.state_counts = await self.fleet.counts()
                self._gc.tend(now)
                stats.phase("sweep", time.perf_counter() - t1)
        except Exception as exc:  # the loop must survive any one failure
            stats.errors += 1
            log.exception("control loop step failed")
            out.events.append(EventRecord(int(self._clock() * 1000), "error", "", f"control loop: {exc}"))
        self.dispatch(out)

    def dispatch(self, out: ShardOutput) -> None:
        """Publish a shard output's commands, count its outcomes and log its events."""
        stats = self.stats
        t0 = time.perf_counter()
        for command in out.commands:
            ok = self.mqtt is not None and self.mqtt.publish(
                command.topic, encode_command(command.command), qos=1, expiry_s=command.expiry_s
            )
            stats.commands[command.kind] = stats.commands.get(command.kind, 0) + 1
            if not ok:
                stats.publish_failures += 1
            elif command.received_s is not None:
                stats.decision_latency.observe(max(0.0, self._clock() - command.received_s))
        t1 = time.perf_counter()
        stats.phase("publish", t1 - t0)
        stats.add_outcomes(out.outcomes)
        stats.replans += out.replans
        stats.switches += out.switches
        try:
            self.events.append(out.events)
        except Exception:
            stats.errors += 1
            log.exception("event log write failed")
        stats.phase("log", time.perf_counter() - t1)

    async def run(self) -> None:
        """Step whenever messages wait (and at least every sweep interval) until `stop()`."""
        while not self._stopping:
            if not len(self.intake):
                try:
                    async with asyncio.timeout(self._sweep_s):
                        await self.intake.wakeup.wait()
                except TimeoutError:
                    pass
            if self._stopping:
                break
            await self.step()
            await asyncio.sleep(0)

    def stop(self) -> None:
        """Ask `run()` to return after the current step."""
        self._stopping = True
        self.intake.wakeup.set()
