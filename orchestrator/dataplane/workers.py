"""Tier workers on Ray: long-lived actors per (model, tier, site), placed by labels, least-loaded routing.

ALL Ray API calls of the data plane live in this module. Actors land on nodes labelled
`continuum.io/tier=<tier>` and `continuum.io/site=<site>` (Ray label selectors); where nodes carry no labels
(a single local Ray), placement uses custom resources `tier:<tier>` and `site:<site>` instead. Each actor runs
`max_concurrency` stages at once; the pool counts requests in flight per actor and routes to the least loaded.
An actor found dead (a stage fails with ActorDiedError) is replaced in the background under the same name;
until the replacement has loaded its model the tier's other workers serve, or the hop is refused
(UNAVAILABLE) so the device falls back quickly instead of waiting on a dead actor.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import ray
from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError, RayTaskError

from orchestrator.dataplane.routing import NoWorker, StageFailed, StageRun, WorkerLoad, pick_least_loaded
from orchestrator.dataplane.worker import TierWorker

log = logging.getLogger("continuum.dataplane.workers")

__all__ = [
    "LABEL_SITE",
    "LABEL_TIER",
    "Placement",
    "RayWorkerPool",
    "StageRun",
    "WorkerSpec",
    "resource_names",
]

LABEL_TIER = "continuum.io/tier"
LABEL_SITE = "continuum.io/site"
Placement = Literal["labels", "resources", "any"]
"""How actors find their nodes: Ray label selectors, custom resources, or anywhere (one local node)."""


def resource_names(tier: str, site: str) -> tuple[str, str]:
    """Custom resource names standing in for node labels where a node has none."""
    return f"tier:{tier}", f"site:{site}"


@dataclass(frozen=True)
class WorkerSpec:
    """Which workers to run: `count` actors of `model` on `tier` at `site`."""

    model: str
    tier: str
    site: str
    count: int = 1


@dataclass(frozen=True)
class WorkerKey:
    """One actor's identity."""

    model: str
    tier: str
    site: str
    index: int


def ensure_ray(address: str | None, sites: Sequence[tuple[str, str]], num_cpus: int = 2) -> Placement:
    """Connect to Ray (or start a local one) and say how workers should be placed there.

    A local Ray started here gets custom resources for every (tier, site), since one node can carry only
    one set of labels. An existing cluster is inspected: node labels win, then custom resources, else "any".
    """
    if not ray.is_initialized():
        if address is None:
            resources: dict[str, float] = {}
            for tier, site in sites:
                for name in resource_names(tier, site):
                    resources[name] = 1000.0
            ray.init(
                num_cpus=num_cpus, include_dashboard=False, resources=resources, logging_level=logging.WARNING
            )
            return "resources"
        ray.init(address=address, logging_level=logging.WARNING)
    nodes = [node for node in ray.nodes() if node.get("Alive")]  # type: ignore[no-untyped-call]
    if any(LABEL_TIER in (node.get("Labels") or {}) for node in nodes):
        return "labels"
    if (
        any(resource_names(*sites[0])[0] in (node.get("Resources") or {}) for node in nodes)
        if sites
        else False
    ):
        return "resources"
    return "any"


class RayWorkerPool:
    """Starts tier-worker actors, routes stages to the least-loaded one and reports queue depths."""

    def __init__(
        self,
        placement: Placement = "labels",
        max_concurrency: int = 2,
        max_queue: int = 8,
        actor_cpus: float = 0.25,
    ) -> None:
        self.placement = placement
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.actor_cpus = actor_cpus
        self.start_timeout_s = 120.0
        self._actors: dict[WorkerKey, Any] = {}
        self._in_flight: dict[WorkerKey, int] = {}
        self.served: dict[WorkerKey, int] = {}
        """Stages each worker has completed, for tests and the operator view."""
        self.replaced: dict[WorkerKey, int] = {}
        """Dead actors replaced per worker (for tests and the operator view)."""
        self._replacing: dict[WorkerKey, asyncio.Task[None]] = {}
        self._pending: dict[WorkerKey, Any] = {}
        self._stopped = False
        self._remote_cls: Any = None
        self._turn = itertools.count()

    def _create(self, key: WorkerKey) -> Any:
        """Submit one tier-worker actor for `key` (named after it, placed on its tier and site)."""
        if self._remote_cls is None:
            self._remote_cls = ray.remote(TierWorker)
        options: dict[str, Any] = {
            "max_concurrency": self.max_concurrency,
            "num_cpus": self.actor_cpus,
            "name": f"continuum-{key.model}-{key.tier}-{key.site}-{key.index}",
            "lifetime": None,
        }
        if self.placement == "labels":
            options["label_selector"] = {LABEL_TIER: key.tier, LABEL_SITE: key.site}
        elif self.placement == "resources":
            tier_res, site_res = resource_names(key.tier, key.site)
            options["resources"] = {tier_res: 0.001, site_res: 0.001}
        return self._remote_cls.options(**options).remote(key.model, key.tier, key.site)

    def start(self, specs: Sequence[WorkerSpec], timeout_s: float = 120.0) -> None:
        """Create the actors for `specs` and wait until each has loaded its model."""
        self.start_timeout_s = timeout_s
        for spec in specs:
            for index in range(spec.count):
                key = WorkerKey(spec.model, spec.tier, spec.site, index)
                self._actors[key] = self._create(key)
                self._in_flight[key] = 0
                self.served[key] = 0
                self.replaced[key] = 0
        try:
            ray.get([actor.ready.remote() for actor in self._actors.values()], timeout=timeout_s)
        except GetTimeoutError:
            raise NoWorker(
                f"tier workers did not start within {timeout_s:.0f} s: check that nodes carry the labels "
                f"{LABEL_TIER}/{LABEL_SITE} (or resources tier:<t>/site:<s>) and have free CPU"
            ) from None

    def loads(self) -> dict[WorkerKey, WorkerLoad]:
        """Every worker's current load as routed by this pool."""
        return {key: WorkerLoad(n, self.max_concurrency) for key, n in self._in_flight.items()}

    def node_of(self, key: WorkerKey) -> str:
        """The Ray node id an actor runs on (for placement checks)."""
        ref = self._actors[key].__ray_call__.remote(lambda _self: ray.get_runtime_context().get_node_id())
        return str(ray.get(ref))

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
        """Run stage `index` of the plan on the least-loaded worker of (model, tier[, site]).

        Raises NoWorker, Overloaded, StageFailed, ValueError (a plan that does not fit), or TimeoutError.
        """
        matching = {
            key: load
            for key, load in self.loads().items()
            if key.model == model and key.tier == tier and (not site or key.site == site)
        }
        where = f"{tier} worker for model {model!r}" + (f" at site {site!r}" if site else "")
        if not matching:
            raise NoWorker(f"no {where}")
        candidates = {key: load for key, load in matching.items() if key not in self._replacing}
        if not candidates:
            raise NoWorker(f"every {where} died and is being replaced; retry shortly or use another tier")
        key = pick_least_loaded(candidates, self.max_queue, next(self._turn))
        actor = self._actors[key]
        self._in_flight[key] += 1
        start = time.perf_counter()
        try:
            ref = actor.run_stage.remote(tiers, index, tensors)
            out, compute_ms = await asyncio.wait_for(_awaited(ref), timeout_s)
        except TimeoutError:
            raise TimeoutError(f"{tier} stage did not finish before the deadline") from None
        except RayTaskError as exc:
            cause: BaseException = getattr(exc, "cause", None) or exc
            if isinstance(cause, ValueError | KeyError):
                raise ValueError(str(cause)) from None
            raise StageFailed(f"{tier} worker failed: {cause}") from None
        except RayActorError as exc:
            if not isinstance(exc, ActorUnavailableError):  # unavailable: restarting or unreachable, not dead
                self._replace(key, actor)
            raise StageFailed(f"{tier} worker {key.site}/{key.index} is gone: {exc}") from None
        finally:
            self._in_flight[key] -= 1
        round_trip = (time.perf_counter() - start) * 1000.0
        self.served[key] += 1
        return StageRun(out, compute_ms, max(0.0, round_trip - compute_ms), key.site)

    def _replace(self, key: WorkerKey, dead: Any) -> None:
        """Start replacing the dead actor of `key` in the background (once, however many requests saw it)."""
        if self._stopped or key in self._replacing or self._actors.get(key) is not dead:
            return
        log.warning("tier worker %s died; starting a replacement", key)
        self._replacing[key] = asyncio.get_running_loop().create_task(self._restart(key))

    async def _restart(self, key: WorkerKey) -> None:
        """Create a new actor for `key`, wait until it has loaded its model, then route to it.

        A replacement that fails (no node with room, the name still held) leaves the dead actor in place,
        so the next request that finds it dead tries again.
        """
        try:
            actor = self._create(key)
            self._pending[key] = actor
            await asyncio.wait_for(_awaited(actor.ready.remote()), self.start_timeout_s)
            if self._stopped:
                ray.kill(actor)
                return
            self._actors[key] = actor
            self.replaced[key] = self.replaced.get(key, 0) + 1
            log.info("tier worker %s replaced", key)
        except Exception as exc:
            log.warning("replacing tier worker %s failed (retried on its next failure): %s", key, exc)
        finally:
            self._pending.pop(key, None)
            self._replacing.pop(key, None)

    def profiles(self, runs: int = 3) -> list[dict[str, Any]]:
        """Each distinct (model, tier, site)'s self-measured profile, from its first worker."""
        firsts = [actor for key, actor in self._actors.items() if key.index == 0]
        return list(ray.get([actor.profile.remote(runs) for actor in firsts]))

    def stop(self) -> None:
        """Kill every actor of this pool (replacements still starting included)."""
        self._stopped = True
        for actor in [*self._actors.values(), *self._pending.values()]:
            ray.kill(actor)
        self._actors.clear()
        self._pending.clear()
        self._in_flight.clear()
        self.served.clear()


async def _awaited(ref: Any) -> Any:
    """Await a Ray ObjectRef on the running asyncio loop."""
    return await ref
