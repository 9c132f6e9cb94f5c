"""DataPlane: the edge and cloud side of split inference, brought up and down as one service.

`start()` connects to Ray (or starts a local one), starts long-lived tier workers for every (model, tier,
site), then the cloud and edge InferenceHop gateways on free ports; `addresses` tells devices where to send.
Metrics go to the injected registry. Devices are not part of it: they use `agents.dataplane`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from orchestrator.dataplane.gateway import HopGateway
from orchestrator.dataplane.metrics import DataPlaneMetrics, WorkerLoadCollector
from orchestrator.dataplane.workers import Placement, RayWorkerPool, WorkerSpec, ensure_ray
from protos.v1 import dataplane_pb2_grpc as pb_grpc

__all__ = ["DataPlane", "DataPlaneSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataPlaneSettings:
    """What the data plane runs and where."""

    models: tuple[str, ...] = ("mobilenetv2", "resnet18", "alexnet")
    """Zoo names (or .onnx paths) served by the tier workers."""
    edge_sites: tuple[str, ...] = ("edge-1",)
    """Edge sites; one gateway fronts them all, workers are per site."""
    cloud_sites: tuple[str, ...] = ("cloud-1",)
    """Cloud sites (regions)."""
    workers_per_site: int = 1
    """Actors per (model, tier, site)."""
    max_concurrency: int = 2
    """Stages one actor runs at once."""
    max_queue: int = 8
    """Stages allowed to wait per actor before the gateway answers RESOURCE_EXHAUSTED."""
    host: str = "127.0.0.1"
    """Interface the gateways listen on."""
    edge_port: int = 0
    """Port of the edge gateway (0: a free port)."""
    cloud_port: int = 0
    """Port of the cloud gateway (0: a free port)."""
    ray_address: str | None = None
    """Ray cluster to join; None uses the running Ray or starts a local one."""
    ray_num_cpus: int = 2
    """CPUs of a local Ray started here."""
    placement: Placement | None = None
    """Force a placement mode; None detects it (labels, custom resources, or anywhere)."""


@dataclass
class DataPlane:
    """The running data plane: tier workers on Ray plus one gateway per tier."""

    settings: DataPlaneSettings = field(default_factory=DataPlaneSettings)
    registry: CollectorRegistry | None = None
    addresses: dict[str, str] = field(default_factory=dict, init=False)
    metrics: DataPlaneMetrics = field(init=False)
    pool: RayWorkerPool | None = field(default=None, init=False)
    gateways: dict[str, HopGateway] = field(default_factory=dict, init=False)
    _servers: list[tuple[grpc.aio.Server, health.aio.HealthServicer]] = field(
        default_factory=list, init=False
    )

    def __post_init__(self) -> None:
        self.registry = self.registry if self.registry is not None else CollectorRegistry()
        self.metrics = DataPlaneMetrics(self.registry)

    def _sites(self) -> list[tuple[str, str]]:
        s = self.settings
        return [("edge", site) for site in s.edge_sites] + [("cloud", site) for site in s.cloud_sites]

    async def start(self) -> None:
        """Bring up the Ray workers, then the cloud and the edge gateways (edge forwards to cloud)."""
        s = self.settings
        sites = self._sites()
        # In the calling (main) thread: Ray installs signal handlers when it starts.
        detected = ensure_ray(s.ray_address, sites, s.ray_num_cpus)
        placement = s.placement or detected
        if placement == "any":
            log.warning("Ray nodes carry no continuum.io labels or tier resources: workers placed anywhere")
        pool = RayWorkerPool(placement, s.max_concurrency, s.max_queue)
        specs = [WorkerSpec(m, tier, site, s.workers_per_site) for m in s.models for tier, site in sites]
        await asyncio.to_thread(pool.start, specs)
        self.pool = pool
        assert self.registry is not None
        self.registry.register(
            WorkerLoadCollector(lambda: [((k.model, k.tier, k.site), v) for k, v in pool.loads().items()])
        )
        observe = self.metrics.observe_hop
        self.addresses["cloud"] = await self._serve(HopGateway("cloud", pool, observe=observe), s.cloud_port)
        self.addresses["edge"] = await self._serve(
            HopGateway("edge", pool, {"cloud": self.addresses["cloud"]}, observe=observe), s.edge_port
        )
        self.gateways["cloud"].next_hops = {"edge": self.addresses["edge"]}

    async def _serve(self, gateway: HopGateway, port: int) -> str:
        server = grpc.aio.server()
        pb_grpc.add_InferenceHopServicer_to_server(gateway, server)
        health_servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        port = server.add_insecure_port(f"{self.settings.host}:{port}")
        await server.start()
        await health_servicer.set("continuum.v1.InferenceHop", health_pb2.HealthCheckResponse.SERVING)
        self._servers.append((server, health_servicer))
        self.gateways[gateway.tier] = gateway
        return f"{self.settings.host}:{port}"

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop accepting hops, let running ones finish for `grace_s`, then stop the workers."""
        for server, health_servicer in reversed(self._servers):
            await health_servicer.enter_graceful_shutdown()
            await server.stop(grace_s)
        self._servers.clear()
        for gateway in self.gateways.values():
            await gateway.close()
        if self.pool is not None:
            await asyncio.to_thread(self.pool.stop)
            self.pool = None
