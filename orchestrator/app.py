"""The orchestrator process: `build(settings)` wires every part; `Orchestrator` runs their lifecycle.

startup(): MQTT (will = offline state; on connect: subscribe, publish the retained online state, which
asks the fleet to rebirth), the operator gRPC server, /metrics, the control loop, and leader election.
shutdown() undoes it in reverse order, publishing the offline state cleanly.

The parts: the fleet shards (`orchestrator.fleet`), the operator actions (`orchestrator.controls`), tier
load and plan context (`orchestrator.tier_load`, `orchestrator.plan_context`), leadership and the retained
state (`orchestrator.leadership`), the MQTT sessions (`orchestrator.mqtt.pair`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.api.server import OperatorServer
from orchestrator.api.service import OperatorService, TokenCheck
from orchestrator.control_loop import ControlLoop
from orchestrator.controls import FleetControls
from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord
from orchestrator.fleet.sessions import SessionPolicy
from orchestrator.fleet.sharding import LocalHandle, ShardedFleet, ShardHandle
from orchestrator.fleet.spec import ShardSpec, build_shard
from orchestrator.ingest.intake import Intake
from orchestrator.leadership import LeaderGatedLoop, Leadership
from orchestrator.metrics.stats import LoopStats
from orchestrator.mqtt.connection import MqttConnection
from orchestrator.mqtt.pair import ConnectionPair
from orchestrator.settings import OrchestratorSettings
from orchestrator.tier_load import TierLoads

__all__ = ["Orchestrator", "build", "shard_spec"]


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


@dataclass
class Orchestrator:
    """One running orchestrator: its parts (wired by `build`) and their lifecycle."""

    settings: OrchestratorSettings
    fleet: ShardedFleet
    events: EventStore
    intake: Intake
    stats: LoopStats
    instance: str
    controls: FleetControls
    tier_loads: TierLoads
    leadership: Leadership
    connections: ConnectionPair
    loop: ControlLoop | None = None
    api: OperatorServer | None = None
    metrics_server: object | None = None
    started_s: float = 0.0
    metrics_registry: object | None = None
    """The /metrics registry (after startup): other in-process services may register their metrics on it."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _ray: object | None = None

    @property
    def mqtt(self) -> MqttConnection | None:
        """The main MQTT connection (births, deaths, commands; after startup)."""
        return self.connections.main

    @property
    def telemetry_mqtt(self) -> MqttConnection | None:
        """The separate telemetry connection, when there is one."""
        return self.connections.telemetry

    @property
    def kube(self) -> Any:
        """`orchestrator.kube.KubeIntegration` in a cluster (leader election), else None."""
        return self.leadership.kube

    @property
    def is_leader(self) -> bool:
        """Whether this replica publishes commands and the orchestrator state (True without election)."""
        return self.leadership.is_leader

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
        leadership = self.leadership
        mqtt = leadership.mqtt = self.connections.open(leadership.announce, leadership.will())
        self.loop = LeaderGatedLoop(
            self.intake,
            self.fleet,
            mqtt,
            self.events,
            self.stats,
            max_batch=s.batch_limit,
            may_publish=lambda: self.leadership.is_leader,
        )
        self.controls.dispatch = self.loop.dispatch
        await self.connections.connect()
        tokens = TokenCheck(
            [t.get_secret_value() for t in s.api.operator_tokens],
            [t.get_secret_value() for t in s.api.readonly_tokens],
        )
        service = OperatorService(self.fleet, self.events, self.controls, self.tier_loads, tokens)
        self.api = OperatorServer(
            service, s.api.host, s.api.port, s.api.tls_cert, s.api.tls_key, s.api.tls_client_ca
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
        await self.controls.apply_context()
        self.events.append(
            [EventRecord(int(time.time() * 1000), "action", "", f"orchestrator {self.instance} started")]
        )
        await leadership.start()

    async def shutdown(self) -> None:
        """Stop the loop, the election, the API (graceful), metrics, MQTT (offline state), shards, the log."""
        if self.loop is not None:
            self.loop.stop()
        for task in [*self._tasks, *self.connections.tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        leading = self.leadership.is_leader
        await self.leadership.release(leading)
        if self.api is not None:
            await self.api.stop(self.settings.api.grace_s)
        if self.metrics_server is not None:
            self.metrics_server.shutdown()  # type: ignore[attr-defined]
        await self.connections.close(self.leadership.final_state(leading))
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

    async def report_tier_load(
        self,
        tier: str,
        site: str,
        workers: int,
        capacity: int,
        queue_depth: int,
        utilisation: float | None = None,
    ) -> None:
        """The data plane's seam (`orchestrator.services`): `FleetControls.report_tier_load`."""
        await self.controls.report_tier_load(tier, site, workers, capacity, queue_depth, utilisation)

    def state_counts(self) -> dict[str, int]:
        """Devices by state as of the last sweep (read by the metrics thread)."""
        return dict(self.loop.state_counts) if self.loop is not None else {}


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
    fleet = ShardedFleet(handles)
    events = EventStore(settings.events.path, settings.events.keep)
    intake = Intake(settings.mqtt.max_payload_bytes, settings.mqtt.queue_limit)
    tier_loads = TierLoads(settings.tiers)
    leadership = Leadership(instance, settings.mqtt.status_fleets, events)
    client_id = settings.mqtt.client_id or f"continuum-orchestrator-{instance}".replace(":", "-")
    orchestrator = Orchestrator(
        settings=settings,
        fleet=fleet,
        events=events,
        intake=intake,
        stats=LoopStats(),
        instance=instance,
        controls=FleetControls(fleet, events, tier_loads),
        tier_loads=tier_loads,
        leadership=leadership,
        connections=ConnectionPair(settings.mqtt, client_id, intake.on_message),
    )
    orchestrator._ray = ray_owner
    leadership.kube = (kube or _default_kube)(
        on_started_leading=leadership.on_started_leading,
        on_stopped_leading=leadership.on_stopped_leading,
    )
    return orchestrator


def _default_kube(**callbacks: Any) -> Any:
    """The in-cluster integration from CONTINUUM_KUBE__* variables; None off-cluster (nothing imported)."""
    from orchestrator.kube.client import in_cluster

    if not in_cluster():
        return None
    from orchestrator.kube import KubeSettings, build_kube

    return build_kube(KubeSettings.from_env(), **callbacks)
