"""A RECORDED fleet served by a real grpc.aio Operator server on a loopback port.

Used by the snapshot tests (which need frozen, deterministic data) and the reconnect test (which must
stop and restart a server on the same port). The data are real `operator.proto` messages built here with
fixed values and fixed timestamps; this is not the orchestrator. Behaviour tests run against the real
orchestrator (see test_against_orchestrator.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import grpc
import grpc.aio

from protos.v1 import control_pb2, operator_pb2, operator_pb2_grpc

NOW_MS = 1_767_225_600_000
"""The frozen 'now' of the recording (2026-01-01T00:00:00Z)."""

OPERATOR_TOKEN = "op-secret"
READER_TOKEN = "read-only-secret"

_LAYERS = ("conv1", "layer1", "layer2", "layer3", "layer4", "fc")


def _figures(latency: float, cost: float, energy: float) -> operator_pb2.Figures:
    return operator_pb2.Figures(latency_ms=latency, cost_usd=cost, device_energy_j=energy)


def _plan(index: int, tiers: tuple[str, ...], measured: float) -> operator_pb2.PlanView:
    base = 20.0 + 7.5 * index
    return operator_pb2.PlanView(
        model="resnet18",
        version=3 + index,
        layers=list(_LAYERS),
        tiers=list(tiers),
        predicted=_figures(base, 2.4e-6 * (1 + tiers.count("cloud")), 0.05 * tiers.count("device")),
        compute_ms={"device": 4.0 * tiers.count("device"), "edge": 1.5 * tiers.count("edge")},
        transfer_ms={"device->edge": 6.0 + index},
        alternatives=[
            operator_pb2.Alternative(
                name="device_only",
                figures=_figures(base + 31, 0.0, 0.31),
                tiers=["device"] * 6,
                feasible=True,
            ),
            operator_pb2.Alternative(
                name="edge_only", figures=_figures(base + 4.2, 3.1e-6, 0.0), tiers=["edge"] * 6, feasible=True
            ),
            operator_pb2.Alternative(
                name="cloud_only",
                figures=_figures(base + 48, 9.0e-6, 0.0),
                tiers=["cloud"] * 6,
                feasible=index % 2 == 0,
            ),
            operator_pb2.Alternative(
                name="split@layer2",
                figures=_figures(base + 1.1, 2.0e-6, 0.11),
                tiers=["device", "device", "edge", "edge", "edge", "edge"],
                feasible=True,
            ),
        ],
        reason=f"lowest latency: beats edge_only by 4.2 ms (hysteresis 10%), uplink {12 + index} Mb/s",
        pinned=index == 2,
        measured_latency_ms=measured,
        decided_unix_ms=NOW_MS - 30_000,
        objective="latency",
    )


_SPLITS = (
    ("device", "device", "edge", "edge", "edge", "edge"),
    ("device", "edge", "edge", "edge", "cloud", "cloud"),
    ("device",) * 6,
    ("edge",) * 6,
    ("device", "device", "device", "edge", "edge", "cloud"),
)
_STATES = ("online", "online", "stale", "online", "offline", "online", "online")
_LINKS = ("wifi", "cellular", "ethernet", "wifi", "cellular", "wifi", "ethernet")


def recorded_devices() -> list[operator_pb2.DeviceDetail]:
    """Seven devices on two edge sites, with histories, plans, alternatives and events."""
    details = []
    for i in range(7):
        device_id = f"cam-{i:03d}"
        uplink = [10.0 + ((i * 7 + k * 3) % 11) for k in range(24)]
        rtt = [8.0 + ((i * 5 + k * 7) % 13) for k in range(24)]
        summary = operator_pb2.DeviceSummary(
            id=device_id,
            fleet="north" if i < 4 else "south",
            state=_STATES[i],
            last_seen_unix_ms=NOW_MS - 1000 * (i * i + 1),
            site="edge-a" if i % 2 == 0 else "edge-b",
            link_type=_LINKS[i],
            rtt_ms=rtt[-1],
            uplink_mbps=uplink[-1],
            battery_percent=-1.0 if i % 3 == 0 else 15.0 + 12 * i,
            drained=i == 5,
            plans=[_plan(i, _SPLITS[i % len(_SPLITS)], 0.0 if i == 4 else 22.0 + 8 * i)],
            uplink_history_mbps=uplink,
            rtt_history_ms=rtt,
        )
        details.append(
            operator_pb2.DeviceDetail(
                summary=summary,
                capabilities=control_pb2.Capabilities(
                    arch="aarch64" if i % 2 else "x86_64",
                    cpu_count=4,
                    memory_bytes=4 * 1024**3,
                    os="Linux 6.1.0 (Debian 12)",
                    accelerators=["npu"] if i == 3 else [],
                    execution_providers=["CPUExecutionProvider"],
                    power=control_pb2.Power(has_battery=i % 3 != 0, battery_percent=50, on_ac=i % 3 == 0),
                    device_class="rpi4" if i % 2 else "x86",
                    speed_factor=2.5 if i % 2 else 1.0,
                ),
                links=[
                    operator_pb2.LinkView(
                        target="edge",
                        rtt_ms=rtt[-1],
                        uplink_mbps=uplink[-1],
                        downlink_mbps=40,
                        link_type=_LINKS[i],
                    ),
                    operator_pb2.LinkView(target="cloud", rtt_ms=rtt[-1] + 40, uplink_mbps=uplink[-1] * 0.8),
                ],
                plans=[summary.plans[0]],
                recent_events=[
                    operator_pb2.Event(
                        id=10 * i + 1,
                        unix_ms=NOW_MS - 600_000,
                        kind="birth",
                        device_id=device_id,
                        message="bdSeq 1",
                    ),
                    operator_pb2.Event(
                        id=10 * i + 2,
                        unix_ms=NOW_MS - 30_000,
                        kind="replan",
                        device_id=device_id,
                        message="uplink dropped 40%: moved layer2 to the edge",
                    ),
                ],
                agent_version="0.1.0",
                bd_seq=1,
            )
        )
    return details


def recorded_tiers() -> list[operator_pb2.TierView]:
    """Two edge sites and the cloud."""
    return [
        operator_pb2.TierView(
            tier="edge",
            site="edge-a",
            workers=2,
            capacity=8,
            queue_depth=1,
            utilisation=0.42,
            cost_per_hour=0.35,
            requests_by_placement={"split": 120, "edge_only": 30},
        ),
        operator_pb2.TierView(
            tier="edge",
            site="edge-b",
            workers=1,
            capacity=4,
            queue_depth=3,
            utilisation=0.93,
            cost_per_hour=0.20,
            requests_by_placement={"split": 80},
        ),
        operator_pb2.TierView(
            tier="cloud",
            site="",
            workers=4,
            capacity=64,
            queue_depth=0,
            utilisation=0.12,
            cost_per_hour=2.40,
            requests_by_placement={"cloud_only": 12, "split": 40},
        ),
    ]


class RecordedOperator(operator_pb2_grpc.OperatorServicer):
    """Serves the recorded fleet; actions need the operator token and change the recorded state."""

    def __init__(self) -> None:
        self.details = {d.summary.id: d for d in recorded_devices()}
        self.tiers = recorded_tiers()
        self.events = [e for d in self.details.values() for e in d.recent_events]
        self.actions: list[tuple[str, str]] = []
        self._watchers: list[asyncio.Queue[operator_pb2.FleetChange]] = []

    def _counts(self) -> operator_pb2.FleetCounts:
        counts: dict[str, int] = {}
        for detail in self.details.values():
            counts[detail.summary.state] = counts.get(detail.summary.state, 0) + 1
        return operator_pb2.FleetCounts(by_state=counts)

    async def _authorise(self, context: grpc.aio.ServicerContext) -> None:  # type: ignore[type-arg]
        metadata = dict(context.invocation_metadata() or ())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ")
        if not token:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "an operator token is required")
        if token != OPERATOR_TOKEN:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "this token may only read")

    def _publish(self, device_id: str, action: str, message: str) -> None:
        summary = self.details[device_id].summary
        change = operator_pb2.FleetChange(upsert=summary, counts=self._counts())
        for queue in self._watchers:
            queue.put_nowait(change)
        event_id = max((e.id for e in self.events), default=0) + 1
        self.events.append(
            operator_pb2.Event(
                id=event_id, unix_ms=NOW_MS, kind="action", device_id=device_id, message=message
            )
        )
        self.actions.append((action, device_id))

    async def ListDevices(self, request, context):  # type: ignore[no-untyped-def]
        return operator_pb2.ListDevicesResponse(devices=[d.summary for d in self.details.values()])

    async def GetDevice(self, request, context):  # type: ignore[no-untyped-def]
        if request.device_id not in self.details:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no device {request.device_id}")
        return self.details[request.device_id]

    async def WatchFleet(self, request, context) -> AsyncIterator[operator_pb2.FleetChange]:  # type: ignore[no-untyped-def]
        queue: asyncio.Queue[operator_pb2.FleetChange] = asyncio.Queue()
        self._watchers.append(queue)
        try:
            summaries = [d.summary for d in self.details.values()]
            for index, summary in enumerate(summaries):
                yield operator_pb2.FleetChange(
                    upsert=summary, counts=self._counts(), snapshot_done=index == len(summaries) - 1
                )
            while True:
                yield await queue.get()
        finally:
            self._watchers.remove(queue)

    async def ListTiers(self, request, context):  # type: ignore[no-untyped-def]
        return operator_pb2.ListTiersResponse(tiers=self.tiers)

    async def ListEvents(self, request, context):  # type: ignore[no-untyped-def]
        found = [
            e
            for e in sorted(self.events, key=lambda e: e.id)
            if e.id > request.after_id
            and (not request.device_id or e.device_id == request.device_id)
            and (not request.kind or e.kind == request.kind)
        ]
        return operator_pb2.ListEventsResponse(events=found[-(request.limit or 200) :])

    async def PinPlan(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorise(context)
        plan = self.details[request.device_id].summary.plans[0]
        plan.pinned = True
        if request.tiers:
            del plan.tiers[:]
            plan.tiers.extend(request.tiers)
        self.details[request.device_id].plans[0].CopyFrom(plan)
        self._publish(request.device_id, "pin", f"pinned {request.model} as {'|'.join(plan.tiers)}")
        return operator_pb2.ActionResponse(ok=True, message=f"pinned {request.model} on {request.device_id}")

    async def UnpinPlan(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorise(context)
        self.details[request.device_id].summary.plans[0].pinned = False
        self.details[request.device_id].plans[0].pinned = False
        self._publish(request.device_id, "unpin", f"unpinned {request.model}")
        return operator_pb2.ActionResponse(
            ok=True, message=f"unpinned {request.model} on {request.device_id}"
        )

    async def DrainDevice(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorise(context)
        self.details[request.device_id].summary.drained = request.drained
        self._publish(request.device_id, "drain" if request.drained else "undrain", "drain changed")
        return operator_pb2.ActionResponse(ok=True, message="drained" if request.drained else "undrained")

    async def DrainSite(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorise(context)
        for tier in self.tiers:
            if tier.site == request.site:
                tier.drained = request.drained
        self.actions.append(("drain_site" if request.drained else "undrain_site", request.site))
        return operator_pb2.ActionResponse(ok=True, message=f"site {request.site} drained={request.drained}")

    async def Replan(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorise(context)
        self.actions.append(("replan", request.device_id))
        return operator_pb2.ActionResponse(ok=True, message="replanned")

    async def RequestRebirth(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorise(context)
        self.actions.append(("rebirth", request.device_id))
        return operator_pb2.ActionResponse(ok=True, message="rebirth requested")


class RecordedServer:
    """A grpc.aio server on a loopback port serving a RecordedOperator; restartable on the same port."""

    def __init__(self, port: int = 0, unix_path: str | None = None) -> None:
        self.servicer = RecordedOperator()
        self.port = port
        self._unix_path = unix_path
        self._server: grpc.aio.Server | None = None

    @property
    def target(self) -> str:
        """HOST:PORT (or unix:PATH) to point the TUI at."""
        return f"unix:{self._unix_path}" if self._unix_path else f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen (on a free port the first time, the same port after a stop)."""
        server = grpc.aio.server()
        operator_pb2_grpc.add_OperatorServicer_to_server(self.servicer, server)
        if self._unix_path:
            server.add_insecure_port(self.target)
        else:
            self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        await server.start()
        self._server = server

    async def stop(self) -> None:
        """Stop at once, cutting open streams."""
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None


class ThreadedRecordedServer:
    """A RecordedServer on its own event loop in a thread, for synchronous tests (snapshots)."""

    def __init__(self, unix_path: str | None = None) -> None:
        self.server = RecordedServer(unix_path=unix_path)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="recorded-fleet", daemon=True)

    def __enter__(self) -> RecordedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
