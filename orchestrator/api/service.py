"""The Operator gRPC servicer: checks arguments and tokens, converts, and delegates to the controls.

Canonical status codes: INVALID_ARGUMENT for malformed ids, NOT_FOUND for unknown devices,
UNAUTHENTICATED for a mutation without a token, PERMISSION_DENIED for a read-only token.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import grpc

from orchestrator.api import convert
from orchestrator.domain.views import DeviceDetail, DeviceSummary, TierView
from orchestrator.events.store import StoredEvent
from orchestrator.fleet.shard import ActionResult
from protos.topics import InvalidId, validate_id
from protos.v1 import operator_pb2, operator_pb2_grpc

__all__ = ["Actions", "EventLog", "FleetReader", "OperatorService", "TierReader", "TokenCheck"]

Ctx = grpc.aio.ServicerContext[Any, Any]

_STATUS = {
    "not_found": grpc.StatusCode.NOT_FOUND,
    "invalid_argument": grpc.StatusCode.INVALID_ARGUMENT,
    "failed_precondition": grpc.StatusCode.FAILED_PRECONDITION,
}


class FleetReader(Protocol):
    """What the servicer reads of the fleet (`orchestrator.fleet.sharding.ShardedFleet`)."""

    @property
    def size(self) -> int:
        """Number of shards (one watch cursor each)."""
        ...

    async def summaries(self, fleet: str = "", state: str = "") -> list[DeviceSummary]:
        """Every matching device."""
        ...

    async def detail(self, device_id: str) -> DeviceDetail | None:
        """One device in full, or None."""
        ...

    async def changes_since(self, cursors: list[int]) -> tuple[list[int], list[DeviceSummary]]:
        """Per-shard revisions now and the devices changed after `cursors`."""
        ...

    async def counts(self) -> dict[str, int]:
        """Devices by state."""
        ...


class EventLog(Protocol):
    """What the servicer reads of the event log (`orchestrator.events.store.EventStore`)."""

    def query(
        self, device_id: str = "", kind: str = "", limit: int = 200, after_id: int = 0
    ) -> list[StoredEvent]:
        """The newest `limit` matching events, oldest first."""
        ...


class Actions(Protocol):
    """The operator actions the servicer delegates to (`orchestrator.controls.FleetControls`)."""

    async def act(self, method: str, device_id: str, *args: object) -> ActionResult:
        """Run a device action and dispatch its commands."""
        ...

    async def replan_all(self) -> ActionResult:
        """Replan the whole fleet."""
        ...

    async def drain_site(self, site: str, drained: bool) -> ActionResult:
        """Drain or undrain an edge site."""
        ...


class TierReader(Protocol):
    """Where the tiers' load is kept (`orchestrator.tier_load.TierLoads`)."""

    def tiers(self) -> list[TierView]:
        """The tiers as configured and loaded now."""
        ...


class TokenCheck:
    """Compares bearer tokens in constant time."""

    def __init__(self, operator_tokens: Sequence[str], readonly_tokens: Sequence[str]) -> None:
        self._operator = [t.encode() for t in operator_tokens if t]
        self._readonly = [t.encode() for t in readonly_tokens if t]

    def role(self, metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
        """ "operator", "readonly", "invalid" or "missing" for the call's authorization metadata."""
        header = next((v for k, v in metadata or () if k == "authorization"), None)
        if header is None:
            return "missing"
        text = header.decode() if isinstance(header, bytes) else header
        scheme, _, token = text.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "invalid"
        raw = token.strip().encode()
        if any(hmac.compare_digest(raw, t) for t in self._operator):
            return "operator"
        if any(hmac.compare_digest(raw, t) for t in self._readonly):
            return "readonly"
        return "invalid"


class OperatorService(operator_pb2_grpc.OperatorServicer):
    """continuum.v1.Operator over the fleet, the event log, the operator actions and the tiers."""

    def __init__(
        self,
        fleet: FleetReader,
        events: EventLog,
        actions: Actions,
        tiers: TierReader,
        tokens: TokenCheck,
        watch_interval_s: float = 0.5,
    ) -> None:
        self._fleet = fleet
        self._events = events
        self._actions = actions
        self._tiers = tiers
        self._tokens = tokens
        self._watch_interval = watch_interval_s

    async def _authorize(self, context: Ctx) -> None:
        role = self._tokens.role(context.invocation_metadata())  # type: ignore[arg-type]
        if role == "missing":
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "this action needs an operator token: pass --token or set CONTINUUM_TOKEN",
            )
        if role == "invalid":
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "the token is not valid for this orchestrator"
            )
        if role == "readonly":
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, "a read-only token cannot change the fleet"
            )

    @staticmethod
    async def _device_id(value: str, context: Ctx) -> str:
        try:
            return validate_id(value)
        except InvalidId as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise  # unreachable: abort raises

    @staticmethod
    async def _answer(result: ActionResult, context: Ctx) -> operator_pb2.ActionResponse:
        if result.status != "ok":
            await context.abort(_STATUS.get(result.status, grpc.StatusCode.INTERNAL), result.message)
        return operator_pb2.ActionResponse(ok=True, message=result.message)

    async def ListDevices(
        self, request: operator_pb2.ListDevicesRequest, context: Ctx
    ) -> operator_pb2.ListDevicesResponse:
        """Every device matching the fleet and state filters."""
        if request.state and request.state not in ("online", "stale", "offline"):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"state {request.state!r}: use online, stale or offline"
            )
        devices = await self._fleet.summaries(request.fleet, request.state)
        return operator_pb2.ListDevicesResponse(devices=[convert.summary(d) for d in devices])

    async def GetDevice(
        self, request: operator_pb2.GetDeviceRequest, context: Ctx
    ) -> operator_pb2.DeviceDetail:
        """One device with capabilities, links, plans and alternatives, and its recent events."""
        device_id = await self._device_id(request.device_id, context)
        found = await self._fleet.detail(device_id)
        if found is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no device {device_id!r} in the fleet")
            raise AssertionError
        detail = convert.detail(found)
        detail.recent_events.extend(
            convert.event(e) for e in self._events.query(device_id=device_id, limit=20)
        )
        return detail

    async def WatchFleet(
        self, request: operator_pb2.WatchFleetRequest, context: Ctx
    ) -> AsyncIterator[operator_pb2.FleetChange]:
        """Every device once (ending with snapshot_done), then each change as it happens."""
        fleet = self._fleet
        cursors, devices = await fleet.changes_since([0] * fleet.size)
        counts = operator_pb2.FleetCounts(by_state=await fleet.counts())
        for i, device in enumerate(devices):
            yield operator_pb2.FleetChange(
                upsert=convert.summary(device), snapshot_done=i == len(devices) - 1, counts=counts
            )
        if not devices:
            yield operator_pb2.FleetChange(snapshot_done=True, counts=counts)
        interval = self._watch_interval
        while True:
            await asyncio.sleep(interval)
            started = time.perf_counter()
            cursors, devices = await fleet.changes_since(cursors)
            if devices:
                counts = operator_pb2.FleetCounts(by_state=await fleet.counts())
                for device in devices:
                    yield operator_pb2.FleetChange(upsert=convert.summary(device), counts=counts)
            # A watcher may cost at most ~5% of the loop: a big, busy fleet is sent less often.
            interval = max(self._watch_interval, 20 * (time.perf_counter() - started))

    async def ListTiers(
        self, request: operator_pb2.ListTiersRequest, context: Ctx
    ) -> operator_pb2.ListTiersResponse:
        """The edge sites and the cloud with their capacity, load and price."""
        return operator_pb2.ListTiersResponse(tiers=[convert.tier_view(t) for t in self._tiers.tiers()])

    async def ListEvents(
        self, request: operator_pb2.ListEventsRequest, context: Ctx
    ) -> operator_pb2.ListEventsResponse:
        """Events from the log, newest `limit`, oldest first."""
        if request.device_id:
            await self._device_id(request.device_id, context)
        events = self._events.query(request.device_id, request.kind, request.limit or 200, request.after_id)
        return operator_pb2.ListEventsResponse(events=[convert.event(e) for e in events])

    async def PinPlan(
        self, request: operator_pb2.PinPlanRequest, context: Ctx
    ) -> operator_pb2.ActionResponse:
        """Pin a model's plan on a device (the given tiers, or the current plan)."""
        await self._authorize(context)
        device_id = await self._device_id(request.device_id, context)
        bad = [t for t in request.tiers if t not in ("device", "edge", "cloud")]
        if not request.model or bad:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "give a model, and tiers among device, edge, cloud"
            )
        result = await self._actions.act("pin", device_id, request.model, list(request.tiers), True)
        return await self._answer(result, context)

    async def UnpinPlan(
        self, request: operator_pb2.UnpinPlanRequest, context: Ctx
    ) -> operator_pb2.ActionResponse:
        """Let the orchestrator plan the model again."""
        await self._authorize(context)
        device_id = await self._device_id(request.device_id, context)
        result = await self._actions.act("pin", device_id, request.model, [], False)
        return await self._answer(result, context)

    async def DrainDevice(
        self, request: operator_pb2.DrainDeviceRequest, context: Ctx
    ) -> operator_pb2.ActionResponse:
        """Drain a device (it runs everything locally) or undrain it."""
        await self._authorize(context)
        device_id = await self._device_id(request.device_id, context)
        return await self._answer(await self._actions.act("drain", device_id, request.drained), context)

    async def DrainSite(
        self, request: operator_pb2.DrainSiteRequest, context: Ctx
    ) -> operator_pb2.ActionResponse:
        """Drain an edge site: its devices stop using the edge."""
        await self._authorize(context)
        try:
            site = validate_id(request.site, "site")
        except InvalidId as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        return await self._answer(await self._actions.drain_site(site, request.drained), context)

    async def Replan(self, request: operator_pb2.ReplanRequest, context: Ctx) -> operator_pb2.ActionResponse:
        """Replan one device, or every device when no id is given."""
        await self._authorize(context)
        if not request.device_id:
            return await self._answer(await self._actions.replan_all(), context)
        device_id = await self._device_id(request.device_id, context)
        return await self._answer(await self._actions.act("replan", device_id), context)

    async def RequestRebirth(
        self, request: operator_pb2.RebirthRequest, context: Ctx
    ) -> operator_pb2.ActionResponse:
        """Ask a device to publish its birth again."""
        await self._authorize(context)
        device_id = await self._device_id(request.device_id, context)
        return await self._answer(await self._actions.act("rebirth", device_id), context)
