"""Which replica speaks for the orchestrator, and the retained state it speaks with.

Replicas in a Kubernetes cluster elect a leader over a Lease (`orchestrator.kube`; off outside a cluster):
every replica ingests and plans (a warm standby), but only the leader publishes commands (PlanUpdates,
rebirths, drains) and the retained `continuum/v1/<fleet>/orchestrator` state. A replica that starts leading
publishes its online state, so the fleet rebirths and reports the plans it holds (numbering continues above
them). With election on, no MQTT will is set (a standby's offline will would overwrite the leader's state);
the leader publishes its offline state before releasing the Lease on a clean shutdown.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from orchestrator.control_loop import ControlLoop
from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord, ShardOutput
from orchestrator.mqtt.connection import MqttConnection, Will
from orchestrator.mqtt.encoding import orchestrator_state
from protos.topics import orchestrator_topic

__all__ = ["LeaderGatedLoop", "Leadership"]

log = logging.getLogger(__name__)


class LeaderGatedLoop(ControlLoop):
    """The control loop of a replica: commands are published only while `may_publish()` (the leader);
    a standby applies everything (warm state) and counts the commands it held back in `suppressed`."""

    def __init__(self, *args: Any, may_publish: Callable[[], bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.may_publish = may_publish
        self.suppressed = 0

    def dispatch(self, out: ShardOutput) -> None:
        """Publish (leader) or hold back (standby) the commands, then count and log as usual."""
        if out.commands and not self.may_publish():
            self.suppressed += len(out.commands)
            out.commands = []
        super().dispatch(out)


class Leadership:
    """Leader election (when `kube` elects) and the retained online/offline state of this replica."""

    def __init__(
        self,
        instance: str,
        status_fleets: Sequence[str],
        events: EventStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.instance = instance
        self._status = list(status_fleets)
        self._events = events
        self._clock = clock
        self.kube: Any = None
        """`orchestrator.kube.KubeIntegration` in a cluster (leader election); None: always the leader."""
        self.mqtt: MqttConnection | None = None
        """The connection the state is published on (set once built)."""

    @property
    def is_leader(self) -> bool:
        """Whether this replica publishes commands and the orchestrator state (True without election)."""
        return self.kube is None or bool(self.kube.is_leader)

    @property
    def elects(self) -> bool:
        """Whether a leader is elected (then no MQTT will is set)."""
        return self.kube is not None and self.kube.elector is not None

    def _state(self, online: bool) -> bytes:
        return orchestrator_state(online, self.instance, int(self._clock() * 1000))

    def will(self) -> Will | None:
        """The offline state as the main connection's will, unless a leader is elected."""
        if not self._status or self.elects:
            return None
        # Retained, so that whoever subscribes later (an agent reconnecting) still sees we are gone.
        return Will(orchestrator_topic(self._status[0]), self._state(False), qos=1, retain=True)

    def announce(self) -> None:
        """Announce we are online (retained): agents answer with a rebirth, rebuilding our state."""
        if self.mqtt is None or not self.is_leader:
            return
        for fleet in self._status:
            self.mqtt.publish(orchestrator_topic(fleet), self._state(True), qos=1, retain=True)

    def on_started_leading(self) -> None:
        """Now the leader: announce ourselves (the fleet rebirths with its held plans) and say so."""
        log.info("orchestrator %s is now the leader", self.instance)
        self._log(f"{self.instance} leads")
        self.announce()

    def on_stopped_leading(self) -> None:
        """No longer the leader (lease lost or released): keep ingesting, publish nothing."""
        log.info("orchestrator %s stopped leading; standing by", self.instance)
        self._log(f"{self.instance} stands by")

    def _log(self, message: str) -> None:
        self._events.append([EventRecord(int(self._clock() * 1000), "action", "", message)])

    async def start(self) -> None:
        """Join the election (in a cluster)."""
        if self.kube is not None:
            await self.kube.start()

    async def release(self, leading: bool) -> None:
        """Leave the election; an elected leader first publishes its offline state, so the next leader's
        online state comes after it."""
        if self.kube is None:
            return
        if leading and self.elects and self.mqtt is not None and self._status:
            self.mqtt.publish(orchestrator_topic(self._status[0]), self._state(False), 1, True)
        with contextlib.suppress(Exception):
            await self.kube.stop()

    def final_state(self, leading: bool) -> tuple[str, bytes, int, bool] | None:
        """The offline state to publish last on a clean disconnect (when no elected leader did already)."""
        if not self._status or not leading or self.elects:
            return None
        return (orchestrator_topic(self._status[0]), self._state(False), 1, True)
