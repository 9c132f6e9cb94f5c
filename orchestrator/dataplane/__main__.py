"""`python -m orchestrator.dataplane`: run the edge and cloud gateways and their Ray tier workers.

For a Ray cluster (`--ray-address auto` inside a KubeRay head or worker pod) or a single machine; it serves
until SIGTERM or SIGINT, then drains gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, start_http_server

from orchestrator.dataplane.services import DataPlane, DataPlaneSettings


def parse(argv: Sequence[str] | None = None) -> tuple[DataPlaneSettings, int]:
    """Settings and the metrics port from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator.dataplane", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--models", nargs="+", default=["mobilenetv2", "resnet18", "alexnet"])
    parser.add_argument("--edge-sites", nargs="+", default=["edge-1"])
    parser.add_argument("--cloud-sites", nargs="+", default=["cloud-1"])
    parser.add_argument("--workers-per-site", type=int, default=1)
    parser.add_argument("--max-concurrency", type=int, default=2)
    parser.add_argument("--max-queue", type=int, default=8)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--edge-port", type=int, default=50061)
    parser.add_argument("--cloud-port", type=int, default=50062)
    parser.add_argument("--ray-address", default=None, help="Ray cluster to join ('auto' in a Ray pod)")
    parser.add_argument("--metrics-port", type=int, default=9465, help="Prometheus /metrics port (0: none)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    settings = DataPlaneSettings(
        models=tuple(args.models),
        edge_sites=tuple(args.edge_sites),
        cloud_sites=tuple(args.cloud_sites),
        workers_per_site=args.workers_per_site,
        max_concurrency=args.max_concurrency,
        max_queue=args.max_queue,
        host=args.host,
        edge_port=args.edge_port,
        cloud_port=args.cloud_port,
        ray_address=args.ray_address,
    )
    return settings, args.metrics_port


async def serve(settings: DataPlaneSettings, metrics_port: int) -> None:
    """Start the data plane, serve until a termination signal, then stop it."""
    registry = CollectorRegistry()
    if metrics_port:
        start_http_server(metrics_port, registry=registry)
    plane = DataPlane(settings, registry)
    await plane.start()
    print(f"data plane serving: {plane.addresses}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await plane.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    settings, metrics_port = parse(argv)
    asyncio.run(serve(settings, metrics_port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
