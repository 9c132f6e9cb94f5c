"""`continuum demo`: placeholder until it lands; it says so and exits 2."""

from __future__ import annotations

import argparse
from typing import Any

from cli.errors import NotBuiltYet


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser("demo", help="demo (not built yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse honestly."""
    raise NotBuiltYet("continuum demo")
