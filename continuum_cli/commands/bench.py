"""`continuum bench AREA [--json]`: run the benchmark module `benchmarks/<area>.py` (or every one, with
`all`).

Each area module exposes `main(argv: list[str]) -> int` and prints its own figures; this dispatcher only
finds and calls them, lazily, so an area's engineer adds a module and nothing here. The benchmarks live in
the source checkout, not in the wheel (a device has no use for them): run from a clone, where the editable
install's `continuum_cli` sits beside `benchmarks/`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from continuum_cli.errors import CliError

AREAS: tuple[str, ...] = (
    "planner",
    "agent",
    "orchestrator",
    "dataplane",
    "evaluation",
    "fuzz",
    "soak",
    "tui",
)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `bench` subcommand."""
    parser = subparsers.add_parser("bench", help="run benchmarks and print figures (an area, or all)")
    parser.add_argument("area", choices=(*AREAS, "all"), help="which benchmark module to run")
    parser.add_argument("--json", action="store_true", help="print figures as JSON (one document per area)")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="passed on to the area's module")
    parser.set_defaults(handler=run)


CHECKOUT = Path(__file__).resolve().parents[2]
"""The source checkout, when this CLI runs from one (an editable install); a wheel has no benchmarks/."""


def _find_benchmarks() -> None:
    """Make the checkout's `benchmarks` package importable, or say why it cannot be."""
    if importlib.util.find_spec("benchmarks") is not None:
        return
    if (CHECKOUT / "benchmarks" / "__init__.py").is_file():
        sys.path.insert(0, str(CHECKOUT))
        return
    raise CliError(
        "the benchmarks ship with the source checkout, not the installed package: run `make bench` or "
        "`continuum bench AREA` from a clone of the repository",
        exit_code=2,
    )


def available(area: str) -> bool:
    """Whether `benchmarks/<area>.py` exists in this checkout."""
    _find_benchmarks()
    return importlib.util.find_spec(f"benchmarks.{area}") is not None


def run_area(area: str, as_json: bool, options: list[str] | None = None) -> int:
    """Import `benchmarks.<area>` and call its `main` (with `--json` and any options); returns its status."""
    module = importlib.import_module(f"benchmarks.{area}")
    argv = list(options or [])
    if as_json and "--json" not in argv:
        argv.insert(0, "--json")
    status: int = module.main(argv)
    return status


def run(args: argparse.Namespace) -> int:
    """Run one area, or every area that exists (saying which are missing); worst exit status wins."""
    if args.area != "all":
        if not available(args.area):
            raise CliError(
                f"no benchmark for '{args.area}' yet (benchmarks/{args.area}.py is missing)", exit_code=2
            )
        return run_area(args.area, args.json, args.options)
    present = [area for area in AREAS if available(area)]
    missing = [area for area in AREAS if area not in present]
    worst = 0
    for area in present:
        if not args.json:
            print(f"== bench {area}")
        worst = max(worst, run_area(area, args.json, args.options))
    if missing and not args.json:
        print(f"== missing benchmark modules: {', '.join(missing)}")
    elif missing:
        print(f"continuum bench: missing benchmark modules: {', '.join(missing)}", file=sys.stderr)
    return worst
