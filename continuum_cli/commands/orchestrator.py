"""`continuum orchestrator`: run the control plane until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Any

from continuum_cli.errors import CliError

__all__ = ["add_orchestrator_flags", "register", "run", "settings_from_args"]


def add_orchestrator_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by `orchestrator` and `demo`."""
    parser.add_argument("--grpc-port", type=int, default=None, help="operator API port (0: any free port)")
    parser.add_argument("--metrics-port", type=int, default=None, help="/metrics port (0: any free, -1: off)")
    parser.add_argument("--broker", default=None, help="MQTT broker HOST:PORT")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `orchestrator` subcommand."""
    parser = subparsers.add_parser(
        "orchestrator",
        help="run the orchestrator: fleet sessions, replanning, operator gRPC API, /metrics",
        description="Subscribe to the fleet over MQTT, keep its sessions, plan every device's models, "
        "and serve the operator gRPC API and Prometheus metrics. Settings: --config FILE "
        "(JSON/YAML), CONTINUUM_* environment variables (CONTINUUM_MQTT__BROKER=...), flags.",
    )
    parser.add_argument("--config", default=None, help="settings file (JSON or YAML)")
    add_orchestrator_flags(parser)
    parser.add_argument("--shards", type=int, default=None, help="number of fleet shards")
    parser.add_argument("--ray", action="store_true", help="keep fleet shards in Ray actors (local Ray)")
    parser.add_argument(
        "--token", default=None, help="operator token allowed to mutate (else CONTINUUM_API__OPERATOR_TOKENS)"
    )
    parser.add_argument("--log-level", default="INFO", help="logging level")
    parser.set_defaults(handler=run)


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Any:
    """OrchestratorSettings from --config, the environment and the flags (flags win)."""
    from pydantic import ValidationError

    from orchestrator.settings import load_settings

    overrides: dict[str, Any] = dict(extra)
    if getattr(args, "broker", None):
        overrides.setdefault("mqtt", {})["broker"] = args.broker
    if getattr(args, "grpc_port", None) is not None:
        overrides.setdefault("api", {})["port"] = args.grpc_port
    if getattr(args, "metrics_port", None) is not None:
        overrides.setdefault("metrics", {})["port"] = args.metrics_port
    if getattr(args, "shards", None) is not None:
        overrides.setdefault("fleet", {})["shards"] = args.shards
    if getattr(args, "ray", False):
        overrides.setdefault("fleet", {})["backend"] = "ray"
    if getattr(args, "token", None):
        overrides.setdefault("api", {})["operator_tokens"] = [args.token]
    try:
        return load_settings(getattr(args, "config", None), **overrides)
    except (OSError, ValueError, ValidationError) as exc:
        raise CliError(f"bad settings: {exc}") from exc


async def _serve(settings: Any) -> None:
    from orchestrator.app import build
    from orchestrator.mqtt.connection import MqttError

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    orchestrator = build(settings)
    try:
        await orchestrator.startup()
    except MqttError as exc:
        await orchestrator.shutdown()
        raise CliError(str(exc), exit_code=1) from exc
    except OSError as exc:
        await orchestrator.shutdown()
        raise CliError(f"cannot start: {exc}", exit_code=1) from exc
    print(
        f"orchestrator {orchestrator.instance}: broker {settings.mqtt.broker}, "
        f"gRPC {settings.api.host}:{orchestrator.grpc_port}, "
        f"metrics http://{settings.metrics.host}:{orchestrator.metrics_port}/metrics",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await orchestrator.shutdown()


def run(args: argparse.Namespace) -> int:
    """Run until a signal arrives; exit 0 after a clean shutdown."""
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = settings_from_args(args)
    if settings.fleet.backend == "ray":  # before Ray loads: no C++ stack dump on SIGTERM
        os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    asyncio.run(_serve(settings))
    return 0
