"""`continuum tui`: the operator console, talking to the orchestrator's Operator gRPC service."""

from __future__ import annotations

import argparse
import os
from typing import Any

from continuum_cli.errors import CliError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `tui` subcommand."""
    parser = subparsers.add_parser(
        "tui",
        help="the operator console (Textual): the fleet live, plans explained, pin/drain/replan",
        description="Watch the fleet live and steer it. Reads need no token; actions need an operator token.",
    )
    parser.add_argument(
        "--target",
        default=None,
        help="HOST:PORT of the orchestrator's operator gRPC API (default 127.0.0.1:50051, "
        "or CONTINUUM_TUI_TARGET)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="operator token, sent as 'authorization: Bearer <token>' (or CONTINUUM_TUI_TOKEN)",
    )
    parser.add_argument(
        "--ca",
        default=None,
        metavar="FILE",
        help="CA bundle that signed the orchestrator's certificate: connect with TLS "
        "(or CONTINUUM_TUI_TLS_CA)",
    )
    parser.add_argument(
        "--cert",
        default=None,
        metavar="FILE",
        help="client certificate (PEM) for an orchestrator that requires mutual TLS; needs --key "
        "(or CONTINUUM_TUI_TLS_CERT)",
    )
    parser.add_argument(
        "--key",
        default=None,
        metavar="FILE",
        help="private key (PEM) of --cert (or CONTINUUM_TUI_TLS_KEY)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="hide and refuse every action: a console to watch",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from flags over environment defaults and run it until the operator quits."""
    try:
        from pydantic import ValidationError

        from tui import TuiSettings, build_app
    except ImportError as exc:  # the tui extra is not installed
        raise CliError(f"the TUI needs the tui extra: pip install 'continuum[tui]' ({exc})") from exc
    overrides = {
        key: value
        for key, value in (
            ("target", args.target),
            ("token", args.token),
            ("tls_ca", args.ca),
            ("tls_cert", args.cert),
            ("tls_key", args.key),
            ("read_only", args.read_only),
        )
        if value is not None
    }
    try:
        settings = TuiSettings(**overrides)
    except ValidationError as exc:
        raise CliError(f"invalid TUI settings: {exc.errors()[0]['msg']}") from exc
    for flag, path in (("--ca", settings.tls_ca), ("--cert", settings.tls_cert), ("--key", settings.tls_key)):
        if path and not os.access(path, os.R_OK):
            raise CliError(f"cannot read {flag} {path}; pass a readable PEM file")
    build_app(settings).run()
    return 0
