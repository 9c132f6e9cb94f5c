"""Fixtures for the data-plane contract tests: real gRPC gateways on free ports over in-process workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
import numpy as np
import pytest

from orchestrator.dataplane.gateway import HopGateway
from orchestrator.dataplane.routing import NoWorker, StageRun
from orchestrator.dataplane.worker import TierWorker
from protos.v1 import dataplane_pb2_grpc as pb_grpc


@dataclass
class InProcessExecutor:
    """Runs stages on real TierWorkers in this process (no Ray), optionally failing or stalling on purpose."""

    workers: dict[tuple[str, str], TierWorker] = field(default_factory=dict)
    failure: Callable[[], Exception] | None = None
    stall_s: float = 0.0

    async def run(
        self,
        model: str,
        tier: str,
        site: str | None,
        tiers: tuple[str, ...],
        index: int,
        tensors: dict[str, np.ndarray],
        timeout_s: float,
    ) -> StageRun:
        if self.failure is not None:
            raise self.failure()
        worker = self.workers.get((model, tier))
        if worker is None:
            raise NoWorker(f"no {tier} worker for {model}")
        if self.stall_s:
            await asyncio.wait_for(asyncio.sleep(self.stall_s), timeout_s)
        out, compute_ms = await asyncio.to_thread(worker.run_stage, tiers, index, tensors)
        return StageRun(out, compute_ms, 0.0, worker.site)


@dataclass
class Gateways:
    """An edge and a cloud gateway on free loopback ports, each with its own executor."""

    edge: HopGateway
    cloud: HopGateway
    addresses: dict[str, str]
    servers: dict[str, grpc.aio.Server]


@pytest.fixture(scope="session")
def mobilenet_workers() -> dict[tuple[str, str], TierWorker]:
    """Edge and cloud workers of mobilenetv2, built once (model build and sessions are the slow part)."""
    return {("mobilenetv2", t): TierWorker("mobilenetv2", t, f"{t}-1") for t in ("edge", "cloud")}


@pytest.fixture
async def gateways(mobilenet_workers: dict[tuple[str, str], TierWorker]) -> AsyncIterator[Gateways]:
    """Cloud then edge gateway (edge forwards to cloud), served by real grpc.aio servers on port 0."""
    servers: dict[str, grpc.aio.Server] = {}
    addresses: dict[str, str] = {}
    made: dict[str, HopGateway] = {}
    for tier in ("cloud", "edge"):
        executor = InProcessExecutor(dict(mobilenet_workers))
        gateway = HopGateway(tier, executor, {"cloud": addresses["cloud"]} if tier == "edge" else {})
        server = grpc.aio.server()
        pb_grpc.add_InferenceHopServicer_to_server(gateway, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        servers[tier], addresses[tier], made[tier] = server, f"127.0.0.1:{port}", gateway
    yield Gateways(made["edge"], made["cloud"], addresses, servers)
    for tier, server in servers.items():
        await server.stop(None)
        await made[tier].close()
