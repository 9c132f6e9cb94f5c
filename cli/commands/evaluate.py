"""`continuum evaluate`: placeholder until trace-replay evaluation lands; it says so and exits 2."""

from __future__ import annotations

import argparse
from typing import Any

from cli.errors import NotBuiltYet


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `evaluate` subcommand."""
    parser = subparsers.add_parser("evaluate", help="trace-replay evaluation (not built yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse honestly."""
    raise NotBuiltYet("trace-replay evaluation")
