"""Entry point of `continuum`: builds the parser from every command module and dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from continuum_cli.errors import CliError

COMMANDS: tuple[str, ...] = (
    "demo",
    "agent",
    "orchestrator",
    "tui",
    "plan",
    "fleet",
    "profile",
    "evaluate",
    "bench",
    "broker",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser; every subcommand registers itself from its own module."""
    parser = argparse.ArgumentParser(
        prog="continuum",
        description="Edge-to-cloud connectivity orchestrator: split inference placed across "
        "device, edge and cloud by latency, bandwidth, money and battery.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"continuum_cli.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (argparse errors exit 2 by themselves)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except CliError as exc:
        print(f"continuum {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
