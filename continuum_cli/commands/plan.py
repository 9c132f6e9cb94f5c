"""`continuum plan FILE [--json]`: place one request of a scenario file and show (or print) the plan."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from continuum_cli.errors import CliError

if TYPE_CHECKING:
    from orchestrator.planner import Plan

BAR_WIDTH = 48
MARKS = {"device": "D", "edge": "E", "cloud": "C"}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `plan` subcommand."""
    parser = subparsers.add_parser(
        "plan",
        help="place a scenario's layers on device, edge and cloud (continuum.scenario/v1 -> plan/v1)",
        description="Read a continuum.scenario/v1 file (JSON or YAML) and print the exact optimal plan. "
        "Exit 2 with a one-line error for an invalid file or limits no plan meets.",
    )
    parser.add_argument("file", help="scenario file (.json, .yaml or .yml)")
    parser.add_argument("--json", action="store_true", help="print exactly a continuum.plan/v1 document")
    parser.set_defaults(handler=run)


def split_bar(tiers: list[str], width: int = BAR_WIDTH) -> str:
    """The assignment as a bar of D/E/C cells, one cell per layer (or per block of layers when long)."""
    if len(tiers) <= width:
        return "".join(MARKS[t] for t in tiers)
    step = len(tiers) / width
    return "".join(MARKS[tiers[int(k * step)]] for k in range(width))


def _figures(latency: float, cost: float, energy: float) -> str:
    return f"{latency:10.3f} ms  {cost:12.4e} USD  {energy:10.4f} J"


def render(result: Plan) -> str:
    """The readable summary: split bar, breakdown, figures and the single-tier alternatives."""
    tiers = list(result.assignment.values())
    lines = [f"model {result.model}: {len(tiers)} layers, minimising {result.objective}"]
    lines.append(f"  split  |{split_bar(tiers)}|  (D device, E edge, C cloud)")
    runs: list[tuple[str, str, str]] = []
    for name, tier in result.assignment.items():
        if runs and runs[-1][2] == tier:
            runs[-1] = (runs[-1][0], name, tier)
        else:
            runs.append((name, name, tier))
    for first, last, tier in runs:
        span = first if first == last else f"{first} .. {last}"
        lines.append(f"         {tier:<6} {span}")
    lines.append(f"  plan   {_figures(result.latency_ms, result.cost_usd, result.device_energy_j)}")
    for part, values in result.breakdown.items():
        shown = ", ".join(f"{key} {value:.3f}" for key, value in values.items() if value) or "none"
        lines.append(f"  {part.replace('_ms', ''):<8} ms: {shown}")
    for name, figures in result.alternatives.items():
        if figures is None:
            lines.append(f"  {name:<11} infeasible under the scenario's constraints")
        else:
            gain = figures.latency_ms - result.latency_ms
            lines.append(
                f"  {name:<11}{_figures(figures.latency_ms, figures.cost_usd, figures.device_energy_j)}"
                f"  ({gain:+.3f} ms vs plan)"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load, plan, print; ScenarioError (bad file, no feasible plan) becomes exit 2 with one line."""
    from orchestrator.planner import ScenarioError, load_scenario, plan

    try:
        result = plan(load_scenario(args.file))
    except ScenarioError as exc:
        raise CliError(str(exc), exit_code=2) from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(render(result))
    return 0
