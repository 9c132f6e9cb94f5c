"""Services of a one-machine deployment (`continuum demo`), started in order and stopped in reverse.

This is the seam other parts plug into: a service is anything with `name`, `start()`, `stop()` and
`describe()`. The data plane contributes its gateways and workers by exposing
`orchestrator.dataplane.demo_services(context) -> list[Service]`; the demo appends them after the
orchestrator and before the simulated fleet. Once the orchestrator runs, `context.extras["orchestrator"]`
holds it, so a data-plane service may call `await orchestrator.report_tier_load(tier, site, workers,
capacity, queue_depth, utilisation)` to feed tier load into plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["DemoContext", "Service"]


@runtime_checkable
class Service(Protocol):
    """One long-running part of the demo."""

    name: str

    async def start(self) -> None:
        """Start; return once the service is usable (raise with an actionable message if it cannot)."""
        ...

    async def stop(self) -> None:
        """Stop and release everything (idempotent)."""
        ...

    def describe(self) -> str:
        """One line: where it listens or what it runs."""
        ...


@dataclass
class DemoContext:
    """What services of the demo need to know about one another."""

    broker_host: str
    broker_port: int
    fleet: str = "demo"
    site: str = "site-a"
    grpc_port: int = 0
    metrics_port: int = 0
    ray: bool = False
    extras: dict[str, object] = field(default_factory=dict)
