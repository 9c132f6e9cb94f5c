"""`continuum demo`: the whole system on one machine in one command.

Starts, in order: an embedded MQTT broker (unless --broker), a local Ray (with the data plane's tier
resources), the orchestrator (fleet shards in Ray, planning the models the data plane serves), the data
plane's services (`orchestrator.dataplane.demo_services`: Ray tier workers, gateways, tier load fed to the
orchestrator, metrics on its /metrics), and a simulated fleet driven by real network traces, of which
--inference-devices run real split inference along the plans they received (`agents.sim.dataplane`);
then opens the TUI (or, with --headless, waits). --no-ray runs without Ray, so without the data plane.
Ctrl-C, SIGTERM or --duration stop everything in reverse order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from typing import Any

from continuum_cli.commands.orchestrator import add_orchestrator_flags, settings_from_args
from continuum_cli.errors import CliError

__all__ = ["register", "run"]

log = logging.getLogger("continuum.demo")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="everything on one machine: broker, Ray, orchestrator, simulated fleet, TUI",
        description="Start an embedded MQTT broker (unless --broker), a local Ray, the orchestrator and a "
        "simulated fleet on real network traces, print where the operator API and metrics listen, and open "
        "the TUI (or wait, with --headless). Ctrl-C or SIGTERM stops everything.",
    )
    parser.add_argument("--headless", action="store_true", help="no TUI; run until Ctrl-C or --duration")
    parser.add_argument("--devices", type=int, default=20, help="simulated devices (default 20)")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--telemetry-interval", type=float, default=1.0, help="seconds between telemetry")
    parser.add_argument(
        "--no-ray",
        action="store_true",
        help="no Ray: fleet state in-process and no data plane (no split inference)",
    )
    parser.add_argument(
        "--inference-devices",
        type=int,
        default=4,
        help="devices that also run split inference through the data plane (default 4; the rest send "
        "telemetry only, as each request runs real ONNX models on this machine)",
    )
    parser.add_argument("--config", default=None, help="orchestrator settings file (JSON or YAML)")
    add_orchestrator_flags(parser)
    parser.set_defaults(handler=run)


def _start_ray(context: Any) -> Any:
    """A local Ray for the fleet shards and, when the data plane is built, with its tier resources
    (`tier:<t>`/`site:<s>` for the demo's sites), so its workers are placed as on a labelled cluster."""
    from orchestrator.fleet.ray_backend import RayOwner, start_local_ray

    try:
        import ray

        from orchestrator.dataplane.demo import demo_sites
        from orchestrator.dataplane.workers import ensure_ray
    except ImportError:
        return start_local_ray(2)
    if ray.is_initialized():
        return RayOwner(False)
    ensure_ray(None, demo_sites(context), 2)
    return RayOwner(True)


class _RayService:
    name = "ray"

    def __init__(self, context: Any) -> None:
        self._owner: Any = None
        self._context = context

    async def start(self) -> None:
        # Before Ray is imported: its C++ signal handler would print a stack dump on every Ctrl-C/SIGTERM.
        os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
        self._owner = await asyncio.get_running_loop().run_in_executor(None, _start_ray, self._context)

    async def stop(self) -> None:
        if self._owner is not None:
            self._owner.close()
            self._owner = None

    def describe(self) -> str:
        return "Ray: local (2 CPUs, no dashboard)"


class _OrchestratorService:
    name = "orchestrator"

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.app: Any = None

    async def start(self) -> None:
        from orchestrator.app import build

        self.app = build(self.settings)
        await self.app.startup()

    async def stop(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await app.shutdown()

    def describe(self) -> str:
        s = self.settings
        return (
            f"orchestrator: gRPC {s.api.host}:{self.app.grpc_port}, "
            f"metrics http://{s.metrics.host}:{self.app.metrics_port}/metrics"
        )


class _FleetService:
    name = "fleet"

    def __init__(
        self, context: Any, devices: int, interval: float, inference_devices: int, models: tuple[str, ...]
    ) -> None:
        self._args = (context.broker_host, context.broker_port, context.fleet, devices)
        self._interval, self._site = interval, context.site
        self._context, self._inference_devices, self._models = context, inference_devices, models
        self.sim: Any = None
        self.inference: Any = None

    async def start(self) -> None:
        from agents.sim.fleet import SimulatedFleet

        host, port, fleet, devices = self._args
        self.sim = SimulatedFleet(
            host, port, fleet, devices, telemetry_interval_s=self._interval, site=self._site
        )
        await self.sim.start()
        await self.sim.wait_online(timeout_s=60)
        plane = self._context.extras.get("dataplane")
        if plane is not None and self._inference_devices > 0 and self._models:
            # Device-side request loops (agents) against the data plane's gateways; each device follows
            # the plan it received over MQTT, and every result is counted on the demo's /metrics.
            from agents.sim.dataplane import FleetInference

            self.inference = FleetInference(
                self.sim,
                dict(plane.addresses),
                self._models,
                self._inference_devices,
                on_result=lambda r: plane.metrics.observe(
                    r.model, r.placement, r.outcome, r.latency_ms / 1000
                ),
            )
            await self.inference.start()

    async def stop(self) -> None:
        if self.inference is not None:
            inference, self.inference = self.inference, None
            await inference.stop()
            print(f"  split inference: {inference.summary()}", flush=True)
        if self.sim is not None:
            sim, self.sim = self.sim, None
            await sim.stop()

    def describe(self) -> str:
        online = self.sim.online_count if self.sim else 0
        devices, fleet = self._args[3], self._args[2]
        line = f"simulated fleet: {devices} devices ({online} online) in fleet {fleet!r}, real traces"
        if self.inference is not None:
            ids = ", ".join(f"{d.sim.device_id} {d.inference.model}" for d in self.inference.devices)
            line += f"; split inference on {ids}"
        return line


def _data_plane_models() -> tuple[str, ...]:
    """The models the data plane serves in the demo (the orchestrator plans for these); () if not built."""
    try:
        from orchestrator.dataplane.demo import DEMO_MODELS
    except ImportError:
        return ()
    return DEMO_MODELS


def _data_plane_services(context: Any) -> list[Any]:
    """The data plane's demo services, if that part is built.

    The seam: `orchestrator.dataplane.demo_services(context) -> list[Service]`.
    """
    try:
        import orchestrator.dataplane as dataplane
    except ImportError:
        return []
    factory = getattr(dataplane, "demo_services", None)
    return list(factory(context)) if factory is not None else []


def _services(args: argparse.Namespace, token: str) -> tuple[list[Any], Any, Any]:
    from orchestrator.mqtt.embedded import EmbeddedBroker
    from orchestrator.services import DemoContext
    from orchestrator.settings import split_host_port

    services: list[Any] = []
    if args.broker:
        host, port = split_host_port(args.broker, 1883)
    else:
        broker = EmbeddedBroker()
        host, port = broker.host, broker.port
        services.append(broker)
    context = DemoContext(host, port, fleet="demo", site="site-a", ray=not args.no_ray)
    if not args.no_ray:
        services.append(_RayService(context))
    models = _data_plane_models()
    extra: dict[str, Any] = {"models": [{"name": m} for m in models]} if models else {}
    tiers = [
        {"tier": "edge", "site": context.site, "capacity": 8, "cost_per_hour": 0.5},
        {"tier": "cloud", "site": "cloud", "capacity": 64, "cost_per_hour": 3.0},
    ]
    settings = settings_from_args(
        argparse.Namespace(
            config=args.config,
            broker=f"{host}:{port}",
            grpc_port=50051 if args.grpc_port is None else args.grpc_port,
            metrics_port=9464 if args.metrics_port is None else args.metrics_port,
            shards=None,
            ray=not args.no_ray,
            token=token,
        ),
        tiers=tiers,
        mqtt={"status_fleets": [context.fleet]},
        **extra,
    )
    orchestrator = _OrchestratorService(settings)
    services.append(orchestrator)
    if args.no_ray:
        print("--no-ray: no data plane (its tier workers run on Ray); telemetry and plans only", flush=True)
    else:
        services.extend(_data_plane_services(context))
    services.append(
        _FleetService(context, args.devices, args.telemetry_interval, args.inference_devices, models)
    )
    return services, orchestrator, context


async def _tui(target: str, token: str) -> bool:
    """Run the TUI until the operator quits; False when the TUI is not available."""
    try:
        from tui import TuiSettings, build_app
    except ImportError:
        return False
    await build_app(TuiSettings(target=target, token=token)).run_async()  # type: ignore[arg-type]
    return True


async def _main(args: argparse.Namespace) -> int:
    token = secrets.token_urlsafe(16)
    services, orchestrator, context = _services(args, token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started: list[Any] = []
    status = 0
    try:
        for service in services:
            print(f"starting {service.name} ...", flush=True)
            await service.start()
            started.append(service)
            if service is orchestrator:
                context.extras["orchestrator"] = orchestrator.app
            if stop.is_set():
                break
        for service in started:
            print(f"  {service.describe()}", flush=True)
        print(f"  operator token: {token}", flush=True)
        target = f"127.0.0.1:{orchestrator.app.grpc_port}"
        print(f"try: continuum fleet ls --target {target}", flush=True)
        waits: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
        if args.duration is not None:
            waits.append(asyncio.create_task(asyncio.sleep(args.duration)))
        if not args.headless and not stop.is_set():
            tui = asyncio.create_task(_tui(target, token))
            await asyncio.wait([tui, *waits], return_when=asyncio.FIRST_COMPLETED)
            if tui.done() and not tui.result():
                print("the TUI is not built in this install; running headless (Ctrl-C to stop)", flush=True)
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            elif not tui.done():
                tui.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await tui
        elif not stop.is_set():
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"continuum demo: {exc}", file=sys.stderr, flush=True)
        status = 1
    finally:
        print("stopping ...", flush=True)
        for service in reversed(started):
            try:
                await asyncio.wait_for(service.stop(), 30)
            except Exception as exc:
                print(f"  {service.name} did not stop cleanly: {exc}", file=sys.stderr, flush=True)
        print("stopped", flush=True)
    return status


def run(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C, SIGTERM, --duration or the TUI quits."""
    if args.devices < 0:
        raise CliError("--devices must be >= 0")
    if args.inference_devices < 0:
        raise CliError("--inference-devices must be >= 0")
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # Before anything imports Ray (the data plane's modules do): its C++ failure signal handler would
    # print a stack dump on Ctrl-C/SIGTERM and can abort the process while it shuts down cleanly.
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    return asyncio.run(_main(args))
