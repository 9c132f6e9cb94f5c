"""`continuum broker config`: write a ready Mosquitto configuration with per-device ACLs.

Each device account may publish only continuum/v1/<fleet>/<its id>/{birth,state,death} and read only
its own cmd topic and the fleet's orchestrator state; orchestrator accounts read the fleet and write
commands; anonymous clients are refused. Hostile ids exit 2 before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from continuum_cli.errors import CliError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `broker config`."""
    parser = subparsers.add_parser("broker", help="MQTT broker configuration with per-device ACLs")
    actions = parser.add_subparsers(dest="broker_command", metavar="ACTION", required=True)
    config = actions.add_parser(
        "config",
        help="write mosquitto.conf, a password file and an ACL file for a fleet",
        description="Write a ready Mosquitto configuration: authenticated clients only, each device "
        "confined to its own topics. Start it with `mosquitto -c DIR/mosquitto.conf`.",
    )
    config.add_argument("--out", type=Path, required=True, help="folder to write into (created)")
    config.add_argument("--port", type=int, required=True, help="listener port")
    config.add_argument("--bind", default=None, help="listener address (default: every interface)")
    config.add_argument("--fleet", default="default", help="fleet id the ACL covers (default: default)")
    config.add_argument(
        "--device", action="append", default=[], metavar="ID:SECRET", help="a device account (repeat)"
    )
    config.add_argument(
        "--devices-file",
        type=Path,
        default=None,
        help="file of ID:SECRET lines (keeps secrets out of the process list); '#' starts a comment",
    )
    config.add_argument(
        "--orchestrator",
        action="append",
        default=[],
        metavar="NAME:SECRET",
        help="an orchestrator account (repeat for replicas)",
    )
    config.add_argument(
        "--orchestrator-port",
        type=int,
        default=None,
        help="a second listener for orchestrator accounts (they may open several connections); "
        "without it they share --port, where client id = username",
    )
    config.add_argument(
        "--orchestrator-bind",
        default="127.0.0.1",
        help="address of the orchestrator listener; keep it off the device network (default 127.0.0.1)",
    )
    config.add_argument(
        "--tls-dir", type=Path, default=None, help="folder with ca.crt, server.crt, server.key: TLS only"
    )
    config.add_argument(
        "--require-client-cert", action="store_true", help="with --tls-dir: mutual TLS (clients need a cert)"
    )
    config.add_argument("--max-packet-bytes", type=int, default=None, help="largest packet accepted")
    config.add_argument("--run-as", default=None, help="user mosquitto switches to when started as root")
    config.set_defaults(handler=run)


def _device_specs(args: argparse.Namespace) -> list[str]:
    specs: list[str] = list(args.device)
    if args.devices_file is not None:
        try:
            text = Path(args.devices_file).read_text()
        except OSError as exc:
            raise CliError(f"cannot read --devices-file: {exc}") from exc
        for raw in text.splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                specs.append(line)
    return specs


def run(args: argparse.Namespace) -> int:
    """Validate every account, then write the three files; any bad input exits 2 with nothing written."""
    from orchestrator.security import (
        DEFAULT_MAX_PACKET_BYTES,
        BrokerConfig,
        TlsFiles,
        parse_credential,
        write_broker_config,
    )
    from orchestrator.security.broker_user import BrokerUserError

    try:
        devices = tuple(parse_credential(spec, "device") for spec in _device_specs(args))
        orchestrators = tuple(parse_credential(spec, "orchestrator") for spec in args.orchestrator)
        tls = None
        if args.tls_dir is not None:
            tls = TlsFiles.from_dir(args.tls_dir, require_client_cert=args.require_client_cert)
        elif args.require_client_cert:
            raise ValueError("--require-client-cert needs --tls-dir")
        config = BrokerConfig(
            port=args.port,
            fleet=args.fleet,
            devices=devices,
            orchestrators=orchestrators,
            bind=args.bind,
            tls=tls,
            max_packet_bytes=args.max_packet_bytes or DEFAULT_MAX_PACKET_BYTES,
            run_as=args.run_as,
            orchestrator_port=args.orchestrator_port,
            orchestrator_bind=args.orchestrator_bind,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise CliError(str(exc), exit_code=2) from exc
    try:
        written = write_broker_config(config, args.out)
    except BrokerUserError as exc:
        raise CliError(str(exc), exit_code=2) from exc
    except OSError as exc:
        raise CliError(f"cannot write the configuration under {args.out}: {exc}", exit_code=1) from exc
    print(
        f"wrote {written.conf}, {written.passwords} ({len(devices)} devices, {len(orchestrators)} "
        f"orchestrators) and {written.acl}; start it with: mosquitto -c {written.conf}",
        file=sys.stdout,
    )
    if args.orchestrator_port is None:
        print(
            "note: every client shares one listener where client id = username, so give the orchestrator "
            "mqtt.telemetry_protocol: same (one connection), or add --orchestrator-port",
            file=sys.stdout,
        )
    return 0
