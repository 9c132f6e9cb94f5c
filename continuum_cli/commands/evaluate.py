"""`continuum evaluate`: replay a network trace and score every placement policy on it.

Reads the model profile and the trace(s), hands them to `evaluation` (pure replay with the production
planner, estimator and hysteresis), and prints a table, JSON or a plot. Bad flags or files end in one line
on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path
from typing import Any, NoReturn

from continuum_cli.errors import CliError

POLICY_NAMES = ("device_only", "edge_only", "cloud_only", "static_split", "adaptive", "oracle")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `evaluate` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="trace-replay evaluation: adaptive placement vs single tiers vs a clairvoyant oracle",
        description="Replay a bandwidth trace as the device's link, issue requests at --rate and score "
        "device_only, edge_only, cloud_only, static_split, adaptive (Continuum's estimator, hysteresis "
        "and planner) and oracle (the best plan per request, knowing the future).",
    )
    parser.add_argument("--model", required=True, help="zoo model name or a PROFILE.json (model or scenario)")
    parser.add_argument("--uplink-trace", type=Path, help="the device's uplink trace file")
    parser.add_argument("--downlink-trace", type=Path, help="downlink trace (default: the uplink trace)")
    parser.add_argument("--trace-dir", type=Path, help="evaluate every trace file in DIR and summarise")
    parser.add_argument("--format", default="auto", choices=("auto", "two_column", "mahimahi", "csv"))
    parser.add_argument("--column", help="the Mbps column of a CSV trace")
    parser.add_argument(
        "--rtt-ms", type=float, help="device<->edge and device<->cloud RTT, unless given apart"
    )
    parser.add_argument("--edge-rtt-ms", type=float, help="device<->edge RTT (default 10)")
    parser.add_argument("--cloud-rtt-ms", type=float, help="device<->cloud RTT (default 50)")
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second (default 1)")
    parser.add_argument(
        "--policies",
        default=",".join(POLICY_NAMES),
        help=f"comma-separated subset of {','.join(POLICY_NAMES)} (default all)",
    )
    parser.add_argument(
        "--device-class", default="rpi4", help="device class scaling the device tier (default rpi4)"
    )
    parser.add_argument("--end", default="wrap", choices=("wrap", "hold"), help="after the trace ends")
    parser.add_argument("--seed", type=int, default=0, help="seed for early-exit draws")
    parser.add_argument(
        "--adaptive",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a setting of the adaptive loop (e.g. telemetry_interval_s=1, confirmations=1, "
        "passive_sample_s=0.25); defaults are the production defaults",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", type=Path, help="write a PNG of bandwidth and latency over time")
    parser.error = types.MethodType(_one_line_error, parser)
    parser.set_defaults(handler=run)


def _one_line_error(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    """Bad flags end in one line on stderr and exit status 2 (argparse would print the usage too)."""
    print(f"continuum evaluate: {message} (see continuum evaluate --help)", file=sys.stderr)
    sys.exit(2)


def run(args: argparse.Namespace) -> int:
    """Evaluate one trace or a folder of them; print the figures."""
    from continuum_evaluation.report import format_summary, format_table, plot_evaluation, summarise

    policies = _policies(args.policies)
    if (args.uplink_trace is None) == (args.trace_dir is None):
        raise CliError("give exactly one of --uplink-trace FILE or --trace-dir DIR")
    if args.rate <= 0:
        raise CliError("--rate must be > 0 requests per second")
    doc = _scenario(args)
    from continuum_evaluation.adaptive import AdaptiveSettings

    try:
        args.settings = AdaptiveSettings().with_overrides(args.adaptive)
    except ValueError as exc:
        raise CliError(f"--adaptive: {exc}") from exc
    if args.uplink_trace is not None:
        evaluation = _evaluate_one(doc, args, args.uplink_trace, policies, progress=_Progress.make(1))
        if args.plot is not None:
            plot_evaluation(evaluation, args.plot)
        print(json.dumps(evaluation.to_json(), indent=2) if args.json else format_table(evaluation))
        return 0
    files = sorted(p for p in args.trace_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if not args.trace_dir.is_dir() or not files:
        raise CliError(f"--trace-dir {args.trace_dir}: no trace files there")
    bar = _Progress.make(len(files), long=len(files) >= 20)
    evaluations = []
    for k, path in enumerate(files):
        evaluations.append(_evaluate_one(doc, args, path, policies, progress=None))
        if bar is not None:
            bar(k + 1, len(files))
    summary = summarise(evaluations)
    if args.plot is not None:
        _plot_folder(evaluations, args.plot)
    if args.json:
        print(json.dumps({"traces": [e.to_json() for e in evaluations], "summary": summary}, indent=2))
    else:
        print("\n\n".join(format_table(e) for e in evaluations))
        print("\n" + format_summary(summary))
    return 0


def _policies(text: str) -> list[str]:
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in POLICY_NAMES]
    if unknown or not chosen:
        raise CliError(
            f"--policies: unknown {', '.join(unknown) or '(none)'}; choose from {','.join(POLICY_NAMES)}"
        )
    return chosen


def _scenario(args: argparse.Namespace) -> dict[str, Any]:
    from continuum_evaluation.scenario import LinkSetup, build_scenario

    model = _model(args.model)
    edge = args.edge_rtt_ms if args.edge_rtt_ms is not None else args.rtt_ms
    cloud = args.cloud_rtt_ms if args.cloud_rtt_ms is not None else args.rtt_ms
    for flag, value in (("--edge-rtt-ms", edge), ("--cloud-rtt-ms", cloud)):
        if value is not None and value < 0:
            raise CliError(f"{flag} must be >= 0")
    setup = LinkSetup(
        edge_rtt_ms=10.0 if edge is None else edge,
        cloud_rtt_ms=50.0 if cloud is None else cloud,
    )
    try:
        doc = build_scenario(model, args.device_class, setup)
    except ValueError as exc:
        raise CliError(f"--device-class: {exc}") from exc
    from orchestrator.planner import ScenarioError, parse_scenario

    try:
        parse_scenario(doc)
    except ScenarioError as exc:
        raise CliError(f"--model {args.model}: not a valid model profile: {exc}") from exc
    return doc


def _model(spec: str) -> dict[str, Any]:
    path = Path(spec)
    if path.suffix == ".json" or path.exists():
        try:
            loaded = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CliError(f"--model {spec}: cannot read a JSON profile: {exc}") from exc
        if not isinstance(loaded, dict):
            raise CliError(f"--model {spec}: expected a JSON object (a model profile or a scenario)")
        model = loaded.get("model", loaded)
        if not isinstance(model, dict) or "layers" not in model:
            raise CliError(f"--model {spec}: no `layers` found; give a continuum.scenario/v1 model profile")
        return model
    from continuum_inference.profiles import load_profile

    try:
        profile: dict[str, Any] = dict(load_profile(spec))
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise CliError(f"--model {spec}: no such zoo model profile ({exc}); or pass a PROFILE.json") from exc
    return profile


def _evaluate_one(
    doc: dict[str, Any], args: argparse.Namespace, uplink_path: Path, policies: list[str], progress: Any
) -> Any:
    from continuum_evaluation.run import evaluate_trace

    uplink = _link(uplink_path, args)
    downlink = _link(args.downlink_trace, args) if args.downlink_trace is not None else None
    try:
        return evaluate_trace(
            doc,
            uplink,
            downlink,
            rate=args.rate,
            policies=policies,
            name=uplink_path.name,
            seed=args.seed,
            settings=args.settings,
            progress=progress,
        )
    except ValueError as exc:
        raise CliError(f"{uplink_path}: {exc}") from exc


def _link(path: Path, args: argparse.Namespace) -> Any:
    from agents.sim.traces import TraceError, load_trace
    from continuum_evaluation.link_trace import LinkReplay

    try:
        trace = load_trace(path, fmt=args.format, column=args.column)
        return LinkReplay.from_trace(trace, end=args.end)
    except (TraceError, ValueError) as exc:
        raise CliError(f"{path}: {exc}") from exc


def _plot_folder(evaluations: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [p for p in POLICY_NAMES if any(p in e.runs for e in evaluations)]
    data = [[e.runs[p].summary().mean_ms for e in evaluations if p in e.runs] for p in names]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.boxplot(data, tick_labels=names)
    ax.set_yscale("log")
    ax.set_ylabel("mean latency per trace, ms (log)")
    ax.set_title(f"{len(evaluations)} traces")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class _Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal (or plain lines on long runs)."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.last = -1

    @classmethod
    def make(cls, total: int, long: bool = False) -> _Progress | None:
        """A bar when stderr is a terminal, plain lines for long runs, else None."""
        tty = sys.stderr.isatty()
        if not (tty or long):
            return None
        return cls(tty)

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            width = 30
            filled = width * done // max(total, 1)
            end = "\n" if done >= total else ""
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)
            sys.stderr.flush()
            return
        tenth = 10 * done // max(total, 1)
        if tenth != self.last:
            self.last = tenth
            print(f"evaluated {done}/{total}", file=sys.stderr)
