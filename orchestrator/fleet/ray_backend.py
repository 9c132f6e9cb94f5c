"""Fleet shards in Ray actors. This module owns every Ray call of the orchestrator.

Each shard is one actor holding a `FleetShard` (built in the actor from a picklable `ShardSpec`);
`RayHandle.call` awaits the actor's ObjectRef on the asyncio loop. Actors ask for no CPU (they are
bookkeeping, not compute) and run one call at a time, so a shard's state is never shared. With no
Ray running, `start_local_ray` starts a small local one (no dashboard); whoever started it stops it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import ray

from orchestrator.fleet.shard import FleetShard
from orchestrator.fleet.spec import ShardSpec, build_shard
from orchestrator.gc_tending import GcTender

__all__ = ["RayHandle", "RayOwner", "start_local_ray", "start_shards"]

log = logging.getLogger(__name__)


class _ShardActor:
    """The actor body: one shard, its methods called by name."""

    def __init__(self, spec: ShardSpec) -> None:
        self._shard: FleetShard = build_shard(spec)
        self._gc = GcTender()

    def call(self, method: str, *args: Any) -> Any:
        """Run a shard method; after the periodic sweep, tend the actor's garbage collector."""
        result = getattr(self._shard, method)(*args)
        if method == "tick":
            self._gc.tend(time.monotonic())
        return result


class RayHandle:
    """A shard living in a Ray actor."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    async def call(self, method: str, *args: Any) -> Any:
        """Call a shard method in the actor and await its result."""
        return await self._actor.call.remote(method, *args)

    async def close(self) -> None:
        """Kill the actor (its state goes with it)."""
        ray.kill(self._actor)


class RayOwner:
    """Stops a Ray this process started; a no-op for a Ray someone else started."""

    def __init__(self, started: bool) -> None:
        self.started = started

    def close(self) -> None:
        """Shut Ray down if we started it."""
        if self.started and ray.is_initialized():
            ray.shutdown()
            self.started = False


def start_local_ray(num_cpus: int = 2) -> RayOwner:
    """Connect to the running Ray of this process, or start a local one (no dashboard)."""
    if ray.is_initialized():
        return RayOwner(False)
    ray.init(
        address="local",
        num_cpus=num_cpus,
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
    )
    return RayOwner(True)


def start_shards(spec: ShardSpec, shards: int) -> tuple[list[RayHandle], RayOwner]:
    """`shards` shard actors (starting a local Ray when none runs in this process)."""
    owner = start_local_ray()
    remote: Any = ray.remote(_ShardActor).options(num_cpus=0, max_concurrency=1)
    handles = [RayHandle(remote.remote(spec)) for _ in range(shards)]
    return handles, owner
