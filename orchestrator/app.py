"""The orchestrator process: `build(settings)` wires every object; `Orchestrator` runs their lifecycle.

startup(): fleet shards, event log, MQTT (will = offline state; on connect: subscribe, publish the
retained online state, which asks the fleet to rebirth), the operator gRPC server, /metrics, and
the control loop. shutdown() undoes it in reverse order, publishing the offline state cleanly.

Replicas in a Kubernetes cluster elect a leader over a Lease (`orchestrator.kube`; off outside a cluster):
every replica ingests and plans (a warm standby), but only the leader publishes commands (PlanUpdates,
rebirths, drains) and the retained orchestrator state. A replica that starts leading publishes its online
state, so the fleet rebirths and reports the plans it holds (numbering continues above them). With
election on, no MQTT will is set (a standby's offline will would overwrite the leader's state); the
leader publishes its offline state before releasing the Lease on a clean shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.api.server import OperatorServer
from orchestrator.api.service import OperatorService, TokenCheck
from orchestrator.control_loop import ControlLoop
from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord, ShardOutput
from orchestrator.fleet.sessions import SessionPolicy
from orchestrator.fleet.shard import ActionResult
from orchestrator.fleet.sharding import LocalHandle, ShardedFleet, ShardHandle
from orchestrator.fleet.spec import ShardSpec, build_shard
from orchestrator.ingest.intake import Intake
from orchestrator.metrics.stats import LoopStats
from orchestrator.mqtt.connection import MqttConnection, MqttError, Will
from orchestrator.replanning.replanner import PlanContext
from orchestrator.settings import OrchestratorSettings, split_host_port
from protos import PROTOCOL_VERSION
from protos.topics import device_wildcard, orchestrator_topic
from protos.v1 import control_pb2, operator_pb2

__all__ = ["Orchestrator", "TierLoad", "build", "shard_spec"]

log = logging.getLogger(__name__)

_TAKEOVER_WINDOW_S = 2.0
"""A session lost this soon after our other connection came up (during it) was kicked by that one."""


def _state(online: bool, instance: str) -> bytes:
    return control_pb2.OrchestratorState(
        protocol_version=PROTOCOL_VERSION,
        online=online,
        timestamp_ms=int(time.time() * 1000),
        instance=instance,
    ).SerializeToString()


def shard_spec(settings: OrchestratorSettings) -> ShardSpec:
    """The shard recipe from settings (models resolved to scenario documents)."""
    from orchestrator.replanning.catalogue import scenario_documents

    r = settings.replanning
    return ShardSpec(
        policy=SessionPolicy(
            settings.fleet.stale_after_s, settings.fleet.offline_after_s, settings.fleet.rebirth_backoff_s
        ),
        history=settings.fleet.history,
        models=scenario_documents(settings),
        relative=r.relative,
        absolute=r.absolute_ms,
        min_dwell_s=r.min_dwell_s,
        confirmations=r.confirmations,
        link_change=r.link_change,
        expiry_s=r.plan_expiry_s,
        objective=r.objective,
    )


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


@dataclass(frozen=True, slots=True)
class TierLoad:
    """A site's load as the data plane last reported it."""

    workers: int
    capacity: int
    queue_depth: int
    utilisation: float | None


@dataclass
class Orchestrator:
    """One running orchestrator: its parts and their lifecycle."""

    settings: OrchestratorSettings
    fleet: ShardedFleet
    events: EventStore
    intake: Intake
    stats: LoopStats
    instance: str
    mqtt: MqttConnection | None = None
    telemetry_mqtt: MqttConnection | None = None
    loop: ControlLoop | None = None
    api: OperatorServer | None = None
    metrics_server: object | None = None
    drained_sites: set[str] = field(default_factory=set)
    tier_loads: dict[tuple[str, str], TierLoad] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _ray: object | None = None
    started_s: float = 0.0
    _telemetry_subscribed: bool = False
    _falling_back: bool = False
    metrics_registry: object | None = None
    """The /metrics registry (after startup): other in-process services may register their metrics on it."""
    kube: Any = None
    """`orchestrator.kube.KubeIntegration` in a cluster (leader election), else None: always the leader."""

    @property
    def is_leader(self) -> bool:
        """Whether this replica publishes commands and the orchestrator state (True without election)."""
        return self.kube is None or bool(self.kube.is_leader)

    @property
    def _elects(self) -> bool:
        return self.kube is not None and self.kube.elector is not None

    @property
    def grpc_port(self) -> int:
        """Port the operator API listens on (after startup)."""
        return self.api.port if self.api else 0

    @property
    def metrics_port(self) -> int:
        """Port /metrics listens on (after startup; 0 when disabled)."""
        port: int = getattr(self.metrics_server, "port", 0)
        return port

    async def startup(self) -> None:
        """Connect, subscribe, announce ourselves, serve the API and metrics, start the loop."""
        self.started_s = time.time()
        s = self.settings
        host, port = split_host_port(s.mqtt.broker, 1883)
        status_topics = [orchestrator_topic(f) for f in s.mqtt.status_fleets]
        self.mqtt = MqttConnection(
            host,
            port,
            s.mqtt.client_id or f"continuum-orchestrator-{self.instance}".replace(":", "-"),
            on_message=self.intake.on_message,
            on_connected=self._on_connected,
            on_lost=lambda started, taken_over: self._on_session_lost(
                started, taken_over, self.telemetry_mqtt
            ),
            will=Will(status_topics[0], _state(False, self.instance))
            if status_topics and not self._elects
            else None,
            protocol=s.mqtt.protocol,
            keepalive_s=s.mqtt.keepalive_s,
            username=s.mqtt.username,
            password=s.mqtt.password.get_secret_value(),
            tls_ca=s.mqtt.tls_ca,
            tls_cert=s.mqtt.tls_cert,
            tls_key=s.mqtt.tls_key,
        )
        self.loop = LeaderGatedLoop(
            self.intake,
            self.fleet,
            self.mqtt,
            self.events,
            self.stats,
            max_batch=s.batch_limit,
            may_publish=lambda: self.is_leader,
        )
        await self.mqtt.connect()
        if self.mqtt.v5 and s.mqtt.telemetry_protocol == "v311":
            self.telemetry_mqtt = MqttConnection(
                host,
                port,
                f"{self.mqtt.client_id}-telemetry",
                on_message=self.intake.on_message,
                on_lost=lambda started, taken_over: self._on_session_lost(started, taken_over, self.mqtt),
                protocol="v311",
                keepalive_s=s.mqtt.keepalive_s,
                username=s.mqtt.username,
                password=s.mqtt.password.get_secret_value(),
                tls_ca=s.mqtt.tls_ca,
                tls_cert=s.mqtt.tls_cert,
                tls_key=s.mqtt.tls_key,
            )
            telemetry_mqtt = self.telemetry_mqtt
            try:
                await telemetry_mqtt.connect()
            except MqttError as exc:
                # The second connection only spreads the telemetry load; when the broker will not hold
                # both (one client id for both, the other one kicked mid-connect), run on one.
                log.warning("no separate telemetry connection (%s); using the main one", exc)
                self.telemetry_mqtt = None
                await telemetry_mqtt.close()
        control, telemetry = self._subscriptions()
        self.mqtt.subscribe(control)
        (self.telemetry_mqtt or self.mqtt).subscribe(telemetry)
        self._telemetry_subscribed = True
        self.api = OperatorServer(
            OperatorService(
                self,
                TokenCheck(
                    [t.get_secret_value() for t in s.api.operator_tokens],
                    [t.get_secret_value() for t in s.api.readonly_tokens],
                ),
            ),
            s.api.host,
            s.api.port,
            s.api.tls_cert,
            s.api.tls_key,
            s.api.tls_client_ca,
        )
        await self.api.start()
        if s.metrics.port >= 0:
            from prometheus_client import CollectorRegistry

            from orchestrator.metrics.exposition import start_metrics_server

            self.metrics_registry = CollectorRegistry()
            self.metrics_server = start_metrics_server(
                self, s.metrics.host, s.metrics.port, self.metrics_registry
            )
        self._tasks.append(asyncio.create_task(self.loop.run()))
        await self._apply_context()
        self.events.append(
            [EventRecord(int(time.time() * 1000), "action", "", f"orchestrator {self.instance} started")]
        )
        if self.kube is not None:
            await self.kube.start()

    def _on_started_leading(self) -> None:
        """Now the leader: announce ourselves (the fleet rebirths with its held plans) and say so."""
        log.info("orchestrator %s is now the leader", self.instance)
        self.events.append([EventRecord(int(time.time() * 1000), "action", "", f"{self.instance} leads")])
        self._on_connected()

    def _on_stopped_leading(self) -> None:
        """No longer the leader (lease lost or released): keep ingesting, publish nothing."""
        log.info("orchestrator %s stopped leading; standing by", self.instance)
        self.events.append([EventRecord(int(time.time() * 1000), "action", "", f"{self.instance} stands by")])

    def _subscriptions(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """(births and deaths, telemetry) filters. Telemetry is a shared subscription wherever the
        broker has one (MQTT v5, or Mosquitto-style $share for 3.1.1 on the telemetry connection)."""
        s = self.settings.mqtt
        control: list[tuple[str, int]] = []
        telemetry: list[tuple[str, int]] = []
        shared = self.telemetry_mqtt is not None or (self.mqtt is not None and self.mqtt.v5)
        for fleet in s.fleets:
            name = None if fleet == "+" else fleet
            control.append((device_wildcard(name, "birth"), 1))
            control.append((device_wildcard(name, "death"), 1))
            state = device_wildcard(name, "state")
            telemetry.append((f"$share/{s.shared_group}/{state}" if shared else state, 0))
        return control, telemetry

    def _on_session_lost(self, started: float, taken_over: bool, other: MqttConnection | None) -> None:
        """One of our two MQTT sessions ended. If it was taken over (a v5 reason code) or ended right after
        our other connection came up during it, the broker gives both the same client id (Mosquitto's
        use_username_as_clientid) and the two would kick each other forever: fall back to one connection,
        as `mqtt.telemetry_protocol: same` would."""
        if self.telemetry_mqtt is None or self._falling_back or other is None:
            return
        now = asyncio.get_running_loop().time()
        kicked = other.connected_at >= started and now - other.connected_at < _TAKEOVER_WINDOW_S
        if not (taken_over or kicked):
            return
        self._falling_back = True
        log.warning(
            "the broker at %s gave both our MQTT connections the same client id (use_username_as_clientid?); "
            "using one connection for telemetry too (set mqtt.telemetry_protocol: same, or give the "
            "orchestrator its own listener with --orchestrator-port)",
            self.settings.mqtt.broker,
        )
        self._tasks.append(asyncio.get_running_loop().create_task(self._one_connection()))

    async def _one_connection(self) -> None:
        """Close the telemetry connection and move its subscriptions onto the main one."""
        telemetry_mqtt, self.telemetry_mqtt = self.telemetry_mqtt, None
        if telemetry_mqtt is not None:
            await telemetry_mqtt.close()
        if self._telemetry_subscribed and self.mqtt is not None:
            self.mqtt.subscribe(self._subscriptions()[1])

    def _on_connected(self) -> None:
        """Announce we are online (retained): agents answer with a rebirth, rebuilding our state."""
        if self.mqtt is None or not self.is_leader:
            return
        for fleet in self.settings.mqtt.status_fleets:
            self.mqtt.publish(orchestrator_topic(fleet), _state(True, self.instance), qos=1, retain=True)

    async def shutdown(self) -> None:
        """Stop the loop, the API (graceful), metrics, MQTT (offline state), shards and the log."""
        if self.loop is not None:
            self.loop.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        leading = self.is_leader
        if self.kube is not None:
            status = self.settings.mqtt.status_fleets
            if leading and self._elects and self.mqtt is not None and status:
                # Before the Lease is released, so the next leader's online state comes after it.
                self.mqtt.publish(orchestrator_topic(status[0]), _state(False, self.instance), 1, True)
            with contextlib.suppress(Exception):
                await self.kube.stop()
        if self.api is not None:
            await self.api.stop(self.settings.api.grace_s)
        if self.metrics_server is not None:
            self.metrics_server.shutdown()  # type: ignore[attr-defined]
        if self.telemetry_mqtt is not None:
            await self.telemetry_mqtt.close()
        if self.mqtt is not None:
            status = self.settings.mqtt.status_fleets
            final = (orchestrator_topic(status[0]), _state(False, self.instance), 1, True)
            await self.mqtt.close(final if status and leading and not self._elects else None)
        await self.fleet.close()
        close_ray = getattr(self._ray, "close", None)
        if close_ray is not None:
            close_ray()
        self.events.close()

    async def run_until(self, stop: asyncio.Event) -> None:
        """startup(), wait for `stop`, shutdown()."""
        await self.startup()
        try:
            await stop.wait()
        finally:
            await self.shutdown()

    async def act(self, method: str, device_id: str, *args: object) -> ActionResult:
        """Run a device action on its shard and dispatch the commands it produced."""
        result, out = await self.fleet.act(method, device_id, *args, time.time())
        if self.loop is not None:
            self.loop.dispatch(out)
        return result

    async def replan_all(self) -> ActionResult:
        """Replan every device."""
        result, out = await self.fleet.replan_all(time.time())
        if self.loop is not None:
            self.loop.dispatch(out)
        return result

    async def drain_site(self, site: str, drained: bool) -> ActionResult:
        """Drain or undrain an edge site and replan the fleet around it."""
        if not any(t.tier == "edge" and t.site == site for t in self.settings.tiers):
            return ActionResult(
                "not_found",
                f"no edge site {site!r}; known: "
                + ", ".join(t.site for t in self.settings.tiers if t.tier == "edge"),
            )
        (self.drained_sites.add if drained else self.drained_sites.discard)(site)
        self.events.append(
            [
                EventRecord(
                    int(time.time() * 1000),
                    "action",
                    "",
                    f"site {site} {'drained' if drained else 'undrained'}",
                )
            ]
        )
        await self._apply_context()
        return ActionResult("ok", f"edge site {site} {'drained' if drained else 'undrained'}")

    def state_counts(self) -> dict[str, int]:
        """Devices by state as of the last sweep (read by the metrics thread)."""
        return dict(self.loop.state_counts) if self.loop is not None else {}

    def _load(self, tier: str, site: str) -> TierLoad:
        configured = next(t for t in self.settings.tiers if (t.tier, t.site) == (tier, site))
        return self.tier_loads.get(
            (tier, site), TierLoad(configured.workers, configured.capacity, configured.queue_depth, None)
        )

    def plan_context(self) -> PlanContext:
        """Queueing delay per (tier, site) from the latest load (reported, else configured), drained sites."""
        queue: dict[tuple[str, str], float] = {}
        for t in self.settings.tiers:
            load = self._load(t.tier, t.site)
            queue[(t.tier, t.site)] = load.queue_depth * t.service_ms / max(1, load.capacity)
        return PlanContext(queue_ms=queue, drained_sites=frozenset(self.drained_sites))

    async def report_tier_load(
        self,
        tier: str,
        site: str,
        workers: int,
        capacity: int,
        queue_depth: int,
        utilisation: float | None = None,
    ) -> None:
        """The data plane reports a site's load; plans are redone when its queueing delay moved."""
        if not any((t.tier, t.site) == (tier, site) for t in self.settings.tiers):
            raise KeyError(f"no configured {tier} site {site!r}; add it under `tiers`")
        before = self.plan_context().queue_ms
        self.tier_loads[(tier, site)] = TierLoad(workers, capacity, queue_depth, utilisation)
        after = self.plan_context().queue_ms
        if abs(after[(tier, site)] - before[(tier, site)]) >= 0.5:
            await self._apply_context()

    async def _apply_context(self) -> None:
        out = await self.fleet.set_context(self.plan_context(), time.time())
        if self.loop is not None:
            self.loop.dispatch(out)

    def tiers(self) -> list[operator_pb2.TierView]:
        """Tiers with their latest load (reported by the data plane, else configured) and drain state."""
        views = []
        for t in self.settings.tiers:
            load = self._load(t.tier, t.site)
            utilisation = load.utilisation
            if utilisation is None:
                utilisation = min(1.0, load.queue_depth / max(1, load.capacity))
            views.append(
                operator_pb2.TierView(
                    tier=t.tier,
                    site=t.site,
                    workers=load.workers,
                    capacity=load.capacity,
                    queue_depth=load.queue_depth,
                    utilisation=utilisation,
                    cost_per_hour=t.cost_per_hour,
                    drained=t.site in self.drained_sites,
                )
            )
        return views


def _handles(settings: OrchestratorSettings, spec: ShardSpec) -> tuple[list[ShardHandle], object | None]:
    if settings.fleet.backend == "ray":
        from orchestrator.fleet.ray_backend import start_shards

        ray_handles, owner = start_shards(spec, settings.fleet.shards)
        return list(ray_handles), owner
    return [LocalHandle(build_shard(spec)) for _ in range(settings.fleet.shards)], None


def build(settings: OrchestratorSettings, kube: Callable[..., Any] | None = None) -> Orchestrator:
    """Wire one orchestrator from settings (nothing starts until `startup()`).

    `kube(on_started_leading=, on_stopped_leading=)` builds the Kubernetes integration; by default
    `orchestrator.kube.build_kube(KubeSettings.from_env(), ...)`, which is None outside a cluster.
    """
    spec = shard_spec(settings)
    handles, ray_owner = _handles(settings, spec)
    instance = settings.instance or f"{socket.gethostname()}:{os.getpid()}"
    orchestrator = Orchestrator(
        settings=settings,
        fleet=ShardedFleet(handles),
        events=EventStore(settings.events.path, settings.events.keep),
        intake=Intake(settings.mqtt.max_payload_bytes, settings.mqtt.queue_limit),
        stats=LoopStats(),
        instance=instance,
    )
    orchestrator._ray = ray_owner
    orchestrator.kube = (kube or _default_kube)(
        on_started_leading=orchestrator._on_started_leading,
        on_stopped_leading=orchestrator._on_stopped_leading,
    )
    return orchestrator


def _default_kube(**callbacks: Any) -> Any:
    """The in-cluster integration from CONTINUUM_KUBE__* variables; None off-cluster (nothing imported)."""
    from orchestrator.kube.client import in_cluster

    if not in_cluster():
        return None
    from orchestrator.kube import KubeSettings, build_kube

    return build_kube(KubeSettings.from_env(), **callbacks)
