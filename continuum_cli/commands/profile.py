"""`continuum profile MODEL`: measure a model with ONNX Runtime and print a scenario `model` object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from continuum_cli.errors import CliError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `profile` subcommand."""
    parser = subparsers.add_parser(
        "profile",
        help="measure a model's per-layer latency and output sizes on this machine",
        description="Measure per-layer latency, contiguous segments (chains) and output sizes of a zoo model "
        "or an .onnx file with ONNX Runtime, and print a continuum.scenario/v1 `model` object.",
    )
    parser.add_argument(
        "model", help="zoo name (alexnet, vgg16, resnet18, mobilenetv2, transformer) or .onnx path"
    )
    parser.add_argument(
        "--tier",
        action="append",
        metavar="NAME[=FACTOR]",
        help="tier to write the latency under, optionally scaled by FACTOR (repeatable; default: device)",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per layer and segment (median; default 5)"
    )
    parser.add_argument(
        "--segments",
        choices=["none", "ends", "all"],
        default="ends",
        help="contiguous segments to measure for chains: none, prefixes+suffixes (default), or all",
    )
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print the model object as JSON")
    parser.set_defaults(handler=run)


def _tiers(values: list[str] | None) -> dict[str, float]:
    tiers: dict[str, float] = {}
    for value in values or ["device"]:
        name, _, factor = value.partition("=")
        try:
            scale = float(factor) if factor else 1.0
        except ValueError:
            raise CliError(f"--tier {value!r}: FACTOR must be a number, e.g. --tier cloud=0.5") from None
        if not name or scale <= 0:
            raise CliError(f"--tier {value!r}: give a tier name and a positive factor")
        tiers[name] = scale
    return tiers


def run(args: argparse.Namespace) -> int:
    """Build or load the model, profile it and print the result."""
    from continuum_inference import zoo
    from continuum_inference.profiling import profile_model

    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    tiers = _tiers(args.tier)
    try:
        model = zoo.build(args.model)
    except zoo.UnknownModel as exc:
        raise CliError(str(exc)) from None
    name = args.model if args.model in zoo.MODELS else model.graph.name or "model"
    profile = profile_model(
        model,
        name,
        tiers,
        runs=args.runs,
        segments=args.segments,
        threads=args.threads,
        progress=lambda line: print(line, file=sys.stderr),
    )
    if args.json:
        print(json.dumps(profile, indent=1))
        return 0
    print(f"{profile['name']}: input {profile['input_bytes']} B, {len(profile['layers'])} layers")
    print(f"{'layer':<28} {'output_bytes':>12}  " + "  ".join(f"{t + '_ms':>10}" for t in tiers))
    for layer in profile["layers"]:
        cells = "  ".join(f"{layer['latency_ms'][t]:>10.3f}" for t in tiers)
        print(f"{layer['name']:<28} {layer['output_bytes']:>12}  {cells}")
    total = {t: sum(la["latency_ms"][t] for la in profile["layers"]) for t in tiers}
    print(f"{'sum of layers':<28} {'':>12}  " + "  ".join(f"{total[t]:>10.3f}" for t in tiers))
    return 0
