"""`continuum agent`: run the device agent, show what its probes see, install it as a systemd service.

Heavy imports (paho, psutil, the agent package) happen inside the handlers, so `continuum --help` stays
fast and a device with only the `agent` extra runs every subcommand here.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from continuum_cli.errors import CliError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `agent run|probe|install|uninstall|status`."""
    parser = subparsers.add_parser("agent", help="the device agent: run, probe, install as a service")
    commands = parser.add_subparsers(dest="agent_command", metavar="ACTION", required=True)

    run = commands.add_parser("run", help="run the agent in the foreground (what the service runs)")
    run.add_argument("--broker", metavar="HOST:PORT", help="MQTT broker (default from the config file)")
    run.add_argument("--fleet", help="fleet id")
    run.add_argument("--device-id", help="device id (default: the host name)")
    run.add_argument("--state-dir", type=Path, help="where bdSeq, plans and the buffer live")
    run.add_argument("--telemetry-interval", type=float, metavar="S", help="seconds between telemetry")
    run.add_argument("--keepalive", type=int, metavar="S", help="MQTT keepalive in seconds")
    run.add_argument("--site", help="edge site the device is attached to")
    run.add_argument("--device-class", help="rpi4, jetson-gpu, laptop, x86, ... (default: detected)")
    _config_flag(run)
    run.set_defaults(handler=_run)

    probe = commands.add_parser("probe", help="print what the probes see")
    probe.add_argument("--json", action="store_true", help="print JSON instead of text")
    _config_flag(probe)
    probe.set_defaults(handler=_probe)

    install = commands.add_parser("install", help="install the agent as a hardened systemd service")
    _config_flag(install)
    install.add_argument("--dry-run", action="store_true", help="print what would be written; change nothing")
    install.add_argument("--root", type=Path, default=Path("/"), help="write under DIR (packaging, tests)")
    install.set_defaults(handler=_install)

    uninstall = commands.add_parser("uninstall", help="stop and remove the service (keeps its state)")
    uninstall.add_argument("--root", type=Path, default=Path("/"), help="remove under DIR")
    uninstall.add_argument("--dry-run", action="store_true", help="print what would be removed")
    uninstall.set_defaults(handler=_uninstall)

    status = commands.add_parser("status", help="the service's state and the agent's stored state")
    status.add_argument("--root", type=Path, default=Path("/"), help="look under DIR")
    _config_flag(status)
    status.set_defaults(handler=_status)


def _config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML config (default /etc/continuum/agent.toml if present)",
    )


def _settings(args: argparse.Namespace, overrides: dict[str, Any] | None = None) -> Any:
    from pydantic import ValidationError

    from agents.settings import ConfigFileMissing, load_settings

    try:
        return load_settings(args.config, **(overrides or {}))
    except ConfigFileMissing as exc:
        raise CliError(str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise CliError(f"invalid agent settings: {problems}") from exc


def _run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    broker: dict[str, Any] = {}
    if args.broker:
        host, sep, port = args.broker.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise CliError(f"--broker {args.broker!r} must be HOST:PORT, e.g. localhost:1883")
        broker.update(host=host.strip("[]"), port=int(port))
    if args.keepalive is not None:
        broker["keepalive_s"] = args.keepalive
    if broker:
        overrides["broker"] = broker
    identity = {
        key: value
        for key, value in (
            ("fleet", args.fleet),
            ("device_id", args.device_id),
            ("site", args.site),
            ("device_class", args.device_class),
        )
        if value is not None
    }
    if identity:
        overrides["identity"] = identity
    if args.state_dir is not None:
        overrides["state_dir"] = args.state_dir
    if args.telemetry_interval is not None:
        overrides["telemetry"] = {"interval_s": args.telemetry_interval}
    return overrides


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from agents.runtime import build

    settings = _settings(args, _run_overrides(args))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.identity.device_class:
        from agents.device_classes import device_class

        try:
            device_class(settings.identity.device_class)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create state dir {settings.state_dir}: {exc}; pass --state-dir") from exc

    async def main() -> None:
        agent = await build(settings)
        await agent.run()

    asyncio.run(main())
    return 0


def _probe(args: argparse.Namespace) -> int:
    from agents.probe_report import print_report

    print_report(_settings(args), as_json=args.json)
    return 0


def _install(args: argparse.Namespace) -> int:
    from agents.install import InstallError, install

    try:
        install(args.root, args.config, dry_run=args.dry_run)
    except InstallError as exc:
        raise CliError(str(exc)) from exc
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    from agents.install import InstallError, uninstall

    try:
        uninstall(args.root, dry_run=args.dry_run)
    except InstallError as exc:
        raise CliError(str(exc)) from exc
    return 0


def _status(args: argparse.Namespace) -> int:
    from agents.install import status

    code: int = status(args.root, _settings(args))
    return code
