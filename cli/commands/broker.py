"""`continuum broker`: placeholder until broker configuration lands; it says so and exits 2."""

from __future__ import annotations

import argparse
from typing import Any

from cli.errors import NotBuiltYet


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `broker` subcommand."""
    parser = subparsers.add_parser("broker", help="broker configuration (not built yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse honestly."""
    raise NotBuiltYet("broker configuration")
