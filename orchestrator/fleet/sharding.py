"""The fleet as N shards keyed by device id, behind one async front the control loop and API use.

A `ShardHandle` runs a `FleetShard` method somewhere: `LocalHandle` in this process, the Ray handle
(`orchestrator.fleet.ray_backend`) in an actor. Batches are split by shard and each shard gets ONE
call per batch, so the per-message cost stays in the shards, not in call overhead.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

from orchestrator.domain.messages import Inbound
from orchestrator.domain.views import DeviceDetail, DeviceSummary
from orchestrator.fleet.records import ShardOutput
from orchestrator.fleet.shard import ActionResult, FleetShard
from orchestrator.replanning.replanner import PlanContext

__all__ = ["LocalHandle", "ShardHandle", "ShardedFleet", "shard_of"]


def shard_of(device_id: str, shards: int) -> int:
    """The shard that owns a device: stable across processes (unlike hash())."""
    return zlib.crc32(device_id.encode()) % shards


class ShardHandle(Protocol):
    """Runs a FleetShard method wherever that shard lives."""

    async def call(self, method: str, *args: Any) -> Any:
        """Call `method(*args)` on the shard and return its result."""
        ...

    async def close(self) -> None:
        """Release the shard."""
        ...


class LocalHandle:
    """A shard in this process."""

    def __init__(self, shard: FleetShard) -> None:
        self.shard = shard

    async def call(self, method: str, *args: Any) -> Any:
        """Call directly; shard methods are plain functions."""
        return getattr(self.shard, method)(*args)

    async def close(self) -> None:
        """Nothing to release."""


class ShardedFleet:
    """Routes inputs, queries and actions to the shard owning each device."""

    def __init__(self, handles: Sequence[ShardHandle]) -> None:
        if not handles:
            raise ValueError("a fleet needs at least one shard")
        self._handles = list(handles)

    @property
    def size(self) -> int:
        """Number of shards."""
        return len(self._handles)

    def _handle(self, device_id: str) -> ShardHandle:
        return self._handles[shard_of(device_id, len(self._handles))]

    async def _all(self, method: str, *args: Any) -> list[Any]:
        return list(await asyncio.gather(*(h.call(method, *args) for h in self._handles)))

    async def apply(self, batch: Sequence[Inbound], now_s: float) -> ShardOutput:
        """Apply a batch: one call per shard that has messages in it."""
        if len(self._handles) == 1:
            result: ShardOutput = await self._handles[0].call("apply", list(batch), now_s)
            return result
        parts: list[list[Inbound]] = [[] for _ in self._handles]
        n = len(self._handles)
        for item in batch:
            parts[shard_of(item.device, n)].append(item)
        outputs = await asyncio.gather(
            *(self._handles[i].call("apply", part, now_s) for i, part in enumerate(parts) if part)
        )
        return _merge(outputs)

    async def tick(self, now_s: float) -> ShardOutput:
        """Staleness sweep on every shard."""
        return _merge(await self._all("tick", now_s))

    async def set_context(self, context: PlanContext, now_s: float) -> ShardOutput:
        """New tier load or drained sites on every shard (replans them)."""
        return _merge(await self._all("set_context", context, now_s))

    async def counts(self) -> dict[str, int]:
        """Devices by state, fleet-wide."""
        total: dict[str, int] = {"online": 0, "stale": 0, "offline": 0}
        for counts in await self._all("counts"):
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
        return total

    async def summaries(self, fleet: str = "", state: str = "") -> list[DeviceSummary]:
        """Every matching device, sorted by id."""
        found = [s for part in await self._all("summaries", fleet, state) for s in part]
        return sorted(found, key=lambda s: s.id)

    async def changes_since(self, cursors: list[int]) -> tuple[list[int], list[DeviceSummary]]:
        """Per-shard revisions now and the devices changed after `cursors` (one per shard)."""
        results = await asyncio.gather(
            *(h.call("changes_since", c) for h, c in zip(self._handles, cursors, strict=True))
        )
        return [r[0] for r in results], [s for r in results for s in r[1]]

    async def detail(self, device_id: str) -> DeviceDetail | None:
        """One device in full, or None."""
        result: DeviceDetail | None = await self._handle(device_id).call("detail", device_id)
        return result

    async def act(self, method: str, device_id: str, *args: Any) -> tuple[ActionResult, ShardOutput]:
        """Run a per-device action (`rebirth`, `drain`, `pin`, `replan`) on the owning shard."""
        result: tuple[ActionResult, ShardOutput] = await self._handle(device_id).call(
            method, device_id, *args
        )
        return result

    async def replan_all(self, now_s: float) -> tuple[ActionResult, ShardOutput]:
        """Replan every device of every shard."""
        results = await self._all("replan", "", now_s)
        replanned = sum(int(r[0].message.split()[1]) for r in results)
        return ActionResult("ok", f"replanned {replanned} device(s)"), _merge([r[1] for r in results])

    async def close(self) -> None:
        """Release every shard."""
        for handle in self._handles:
            await handle.close()


def _merge(outputs: Sequence[ShardOutput]) -> ShardOutput:
    if len(outputs) == 1:
        return outputs[0]
    total = ShardOutput()
    for out in outputs:
        total.merge(out)
    return total
