"""The one module that owns gRPC: an async client of the orchestrator's Operator service.

Every call reads its answer into plain values (`tui.operator_values`, the reading `continuum fleet` shares)
and turns those into frozen view models (`tui.convert`); every `grpc.RpcError` becomes an `OperatorError`
naming what to do next, so the rest of the TUI never touches gRPC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
import grpc.aio

from protos.v1 import operator_pb2, operator_pb2_grpc
from tui import convert
from tui import operator_values as values
from tui.errors import Disconnected, NotAllowed, NotAuthenticated, OperatorError, RequestFailed
from tui.models import ActionResult, DeviceDetail, DeviceRow, EventInfo, FleetUpdate, TierRow

__all__ = ["OperatorClient"]

_T = TypeVar("_T")


def _translate(error: grpc.RpcError, target: str) -> OperatorError:
    """Turn a gRPC status into the OperatorError that says what to do next."""
    code = error.code() if isinstance(error, grpc.aio.AioRpcError) else None
    details = (error.details() if isinstance(error, grpc.aio.AioRpcError) else None) or str(error)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return NotAuthenticated(f"not authenticated: {details} (start the TUI with --token)")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return NotAllowed(f"permission denied: {details} (this token may only read; use an operator token)")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return Disconnected(f"orchestrator at {target} unreachable: {details}")
    name = code.name if code is not None else "error"
    return RequestFailed(f"{name.lower()}: {details}")


def _read_pem(path: str | None, what: str) -> bytes | None:
    """The bytes of a PEM file, None when no path is given."""
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise RequestFailed(
            f"cannot read the {what} {path}: {exc.strerror}; pass a readable PEM file"
        ) from exc


class OperatorClient:
    """An Operator service client on one grpc.aio channel; create and close it on the app's event loop."""

    def __init__(
        self,
        target: str,
        token: str | None = None,
        timeout_s: float = 5.0,
        *,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        """Open the channel: TLS when a CA or a client certificate is given (mutual TLS with the latter).

        Raises OperatorError when a PEM file cannot be read, or a certificate comes without its key.
        """
        self.target = target
        self._timeout_s = timeout_s
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        if bool(tls_cert) != bool(tls_key):
            raise RequestFailed("a client certificate needs its key (--cert with --key), or neither")
        if tls_ca or tls_cert:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read_pem(tls_ca, "CA"),
                private_key=_read_pem(tls_key, "client key"),
                certificate_chain=_read_pem(tls_cert, "client certificate"),
            )
            self._channel = grpc.aio.secure_channel(target, credentials)
        else:
            self._channel = grpc.aio.insecure_channel(target)
        self._stub = operator_pb2_grpc.OperatorStub(self._channel)

    async def close(self) -> None:
        """Close the channel; pending calls are cancelled."""
        await self._channel.close()

    async def _call(self, call: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await call()
        except grpc.RpcError as error:
            raise _translate(error, self.target) from None

    async def list_devices(self, fleet: str = "", state: str = "") -> list[DeviceRow]:
        """Every device (optionally of one fleet / state), as table rows."""
        request = operator_pb2.ListDevicesRequest(fleet=fleet, state=state)
        reply = await self._call(lambda: self._stub.ListDevices(request, timeout=self._timeout_s))
        return [convert.device_row(values.device_summary(d)) for d in reply.devices]

    async def get_device(self, device_id: str) -> DeviceDetail:
        """One device with capabilities, links, plans with alternatives and its recent events."""
        request = operator_pb2.GetDeviceRequest(device_id=device_id)
        reply = await self._call(lambda: self._stub.GetDevice(request, timeout=self._timeout_s))
        return convert.device_detail(values.device_detail(reply))

    async def watch_fleet(self) -> AsyncIterator[FleetUpdate]:
        """The fleet watch: every device as an upsert, then changes; raises OperatorError on a drop."""
        call = self._stub.WatchFleet(operator_pb2.WatchFleetRequest())
        try:
            async for change in call:
                yield convert.fleet_update(values.fleet_change(change))
        except grpc.RpcError as error:
            raise _translate(error, self.target) from None
        finally:
            call.cancel()
        raise Disconnected(f"orchestrator at {self.target} ended the fleet watch")

    async def list_tiers(self) -> list[TierRow]:
        """Edge sites and the cloud with their load and cost."""
        request = operator_pb2.ListTiersRequest()
        reply = await self._call(lambda: self._stub.ListTiers(request, timeout=self._timeout_s))
        return [convert.tier_row(values.tier_view(t)) for t in reply.tiers]

    async def list_events(
        self, device_id: str = "", kind: str = "", after_id: int = 0, limit: int = 0
    ) -> list[EventInfo]:
        """Events newer than `after_id` (all devices / kinds when empty), oldest first as the server sends."""
        request = operator_pb2.ListEventsRequest(
            device_id=device_id, kind=kind, after_id=after_id, limit=limit
        )
        reply = await self._call(lambda: self._stub.ListEvents(request, timeout=self._timeout_s))
        return [convert.event_info(values.event(e)) for e in reply.events]

    async def _act(self, call: Callable[[], Awaitable[operator_pb2.ActionResponse]]) -> ActionResult:
        return convert.action_result(values.action_response(await self._call(call)))

    async def pin_plan(self, device_id: str, model: str, tiers: tuple[str, ...] = ()) -> ActionResult:
        """Pin a plan: the given per-layer tiers, or the current plan when `tiers` is empty."""
        request = operator_pb2.PinPlanRequest(device_id=device_id, model=model, tiers=list(tiers))
        return await self._act(
            lambda: self._stub.PinPlan(request, timeout=self._timeout_s, metadata=self._metadata)
        )

    async def unpin_plan(self, device_id: str, model: str) -> ActionResult:
        """Let the planner place this model again."""
        request = operator_pb2.UnpinPlanRequest(device_id=device_id, model=model)
        return await self._act(
            lambda: self._stub.UnpinPlan(request, timeout=self._timeout_s, metadata=self._metadata)
        )

    async def drain_device(self, device_id: str, drained: bool) -> ActionResult:
        """Drain (run everything locally) or undrain a device."""
        request = operator_pb2.DrainDeviceRequest(device_id=device_id, drained=drained)
        return await self._act(
            lambda: self._stub.DrainDevice(request, timeout=self._timeout_s, metadata=self._metadata)
        )

    async def drain_site(self, site: str, drained: bool) -> ActionResult:
        """Drain or undrain an edge site."""
        request = operator_pb2.DrainSiteRequest(site=site, drained=drained)
        return await self._act(
            lambda: self._stub.DrainSite(request, timeout=self._timeout_s, metadata=self._metadata)
        )

    async def replan(self, device_id: str = "") -> ActionResult:
        """Replan one device, or the whole fleet when `device_id` is empty."""
        request = operator_pb2.ReplanRequest(device_id=device_id)
        return await self._act(
            lambda: self._stub.Replan(request, timeout=self._timeout_s, metadata=self._metadata)
        )

    async def request_rebirth(self, device_id: str) -> ActionResult:
        """Ask a device to publish its birth again."""
        request = operator_pb2.RebirthRequest(device_id=device_id)
        return await self._act(
            lambda: self._stub.RequestRebirth(request, timeout=self._timeout_s, metadata=self._metadata)
        )
