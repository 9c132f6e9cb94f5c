"""`continuum bench evaluation`: adaptive vs oracle vs single-tier placement over families of real traces.

Reads the traces under ../shared/data/traces when that folder exists (never copied into the project; the
mahimahi files are GPL and read only here), else the small traces shipped in agents/sim/data. Families:

- `mahimahi-up`: MIT Saturator LTE/UMTS/EVDO captures, the `.up` file as uplink and its `.down` as downlink:
  the only real UPLINK capacity traces in the set, so the headline figure.
- `norway-3g`, `oboe`, `fcc`: downlink application throughput standing in for the uplink (and downlink).
- `shipped`: agents/sim/data, when nothing else is there.

Each family but mahimahi-up is sampled evenly (sorted names, every k-th) to at most `--max-per-family`
traces; every model in `--models` is evaluated on each, for every class in `--device-classes`. Figures
are as measured on this run; nothing is tuned to them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Family", "discover_families", "main"]

PROPOSED = ("telemetry_interval_s=1", "passive_sample_s=0.25")
"""The parameter change this evaluation proposes (docs/evaluation.md): 1 s telemetry and in-flight samples."""

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"
SHIPPED = Path(__file__).resolve().parents[1] / "agents" / "sim" / "data"


@dataclass(frozen=True)
class Family:
    """A named set of (uplink, downlink-or-None) trace files and what they are."""

    name: str
    pairs: tuple[tuple[Path, Path | None], ...]
    note: str


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith("."))


def _sample(paths: Sequence[Any], limit: int) -> list[Any]:
    if limit <= 0 or len(paths) <= limit:
        return list(paths)
    step = len(paths) / limit
    return [paths[int(i * step)] for i in range(limit)]


def discover_families(root: Path, limit: int) -> list[Family]:
    """The trace families present under `root` (or the shipped ones), each sampled to `limit` traces."""
    families: list[Family] = []
    mahimahi: list[tuple[Path, Path | None]] = []
    for up in _files(root / "mahimahi-us-cellular", "*.up"):
        down = up.with_suffix(".down")
        mahimahi.append((up, down if down.is_file() else None))
    if mahimahi:
        families.append(Family("mahimahi-up", tuple(mahimahi), "real uplink (LTE/UMTS/EVDO), every trace"))
    norway = _files(root / "pensieve-norway-fcc" / "cooked_test_traces", "norway_*")
    if norway:
        pairs = tuple((p, None) for p in _sample(norway, limit))
        families.append(Family("norway-3g", pairs, "HSDPA downlink standing in for the uplink"))
    oboe = _files(root / "oboe-fcc" / "traces_oboe")
    if oboe:
        pairs = tuple((p, None) for p in _sample(oboe, limit))
        families.append(Family("oboe", pairs, "broadband/WiFi/cellular downlink standing in for the uplink"))
    fcc = _files(root / "oboe-fcc" / "fcc_ori" / "test_traces")
    if fcc:
        pairs = tuple((p, None) for p in _sample(fcc, limit))
        families.append(Family("fcc", pairs, "FCC broadband downlink standing in for the uplink"))
    if not families:
        shipped = [p for p in _files(SHIPPED) if p.suffix in (".txt", ".log")]
        pairs = tuple((p, None) for p in _sample(shipped, limit))
        families.append(Family("shipped", pairs, "agents/sim/data samples (downlink standing in)"))
    return families


def _evaluate_family(
    family: Family, model: str, device_class: str, rate: float, settings: Any, tuned: Any
) -> dict[str, Any]:
    from continuum_evaluation.report import summarise
    from continuum_evaluation.run import evaluate_trace
    from continuum_evaluation.scenario import build_scenario
    from continuum_inference.profiles import load_profile

    doc = build_scenario(load_profile(model), device_class)
    evaluations = []
    began = time.perf_counter()
    for up_path, down_path in family.pairs:
        up, down = _links(up_path, down_path)
        evaluations.append(evaluate_trace(doc, up, down, rate=rate, name=up_path.name, settings=settings))
    summary = summarise(evaluations)
    extra = {} if tuned is None else _tuned(doc, family, evaluations, rate, tuned)
    single = ("device_only", "edge_only", "cloud_only")
    ahead_all = [
        all(e.runs["adaptive"].summary().mean_ms < e.runs[p].summary().mean_ms for p in single if p in e.runs)
        for e in evaluations
    ]
    no_worse = [
        all(
            e.runs["adaptive"].summary().mean_ms <= e.runs[p].summary().mean_ms * (1 + 1e-9)
            for p in single
            if p in e.runs
        )
        for e in evaluations
    ]
    return {
        **extra,
        "family": family.name,
        "note": family.note,
        "model": model,
        "device_class": device_class,
        "traces": len(evaluations),
        "requests": sum(len(e.requests) for e in evaluations),
        "seconds": time.perf_counter() - began,
        "uplink_mean_mbps": statistics.fmean(e.uplink_mean_mbps for e in evaluations),
        "policies": {name: figures["mean_of_means_ms"] for name, figures in summary["policies"].items()},
        "switches_per_trace": statistics.fmean(e.runs["adaptive"].summary().switches for e in evaluations),
        "adaptive_over_oracle": summary.get("adaptive_over_oracle", {}),
        "adaptive_ahead_of_every_single_tier_share": sum(ahead_all) / len(ahead_all),
        "adaptive_no_worse_than_every_single_tier_share": sum(no_worse) / len(no_worse),
        "per_trace": [
            {"trace": e.trace, **{n: r.summary().mean_ms for n, r in e.runs.items()}} for e in evaluations
        ],
    }


def _links(up_path: Path, down_path: Path | None) -> tuple[Any, Any]:
    from agents.sim.traces import load_trace
    from continuum_evaluation.link_trace import LinkReplay

    up = LinkReplay.from_trace(load_trace(up_path))
    down = LinkReplay.from_trace(load_trace(down_path)) if down_path is not None else None
    return up, down


def _tuned(
    doc: dict[str, Any], family: Family, evaluations: Sequence[Any], rate: float, tuned: Any
) -> dict[str, Any]:
    """Adaptive alone again with the `tuned` settings, held against each trace's oracle."""
    from continuum_evaluation.run import evaluate_trace

    ratios: list[float] = []
    means: list[float] = []
    for e, (up_path, down_path) in zip(evaluations, family.pairs, strict=True):
        up, down = _links(up_path, down_path)
        again = evaluate_trace(doc, up, down, rate=rate, policies=["adaptive"], settings=tuned)
        mean = again.runs["adaptive"].summary().mean_ms
        means.append(mean)
        ratios.append(mean / e.runs["oracle"].summary().mean_ms)
    if not means:
        return {}
    return {
        "adaptive_tuned": {
            "mean_of_means_ms": statistics.fmean(means),
            "over_oracle_mean": statistics.fmean(ratios),
            "within_10pct_share": sum(r <= 1.10 for r in ratios) / len(ratios),
        }
    }


def _table(rows: list[dict[str, Any]]) -> str:
    policies = ("device_only", "edge_only", "cloud_only", "static_split", "adaptive", "oracle")
    tuned = any("adaptive_tuned" in row for row in rows)
    header = [
        "device",
        "family",
        "model",
        "traces",
        *policies,
        "adapt/oracle",
        "within10%",
        "ahead-all",
        "<=all",
    ]
    if tuned:
        header += ["tuned", "tuned/oracle"]
    lines = [header]
    for row in rows:
        ratio = row["adaptive_over_oracle"]
        line = [
            row["device_class"],
            row["family"],
            row["model"],
            str(row["traces"]),
            *(f"{row['policies'].get(p, float('nan')):.1f}" for p in policies),
            f"{ratio.get('mean', float('nan')):.3f}",
            f"{ratio.get('within_10pct_share', float('nan')) * 100:.0f}%",
            f"{row['adaptive_ahead_of_every_single_tier_share'] * 100:.0f}%",
            f"{row['adaptive_no_worse_than_every_single_tier_share'] * 100:.0f}%",
        ]
        if tuned:
            extra = row.get("adaptive_tuned", {})
            line += [
                f"{extra.get('mean_of_means_ms', float('nan')):.1f}",
                f"{extra.get('over_oracle_mean', float('nan')):.3f}",
            ]
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation benchmark; prints a table (mean latency ms per policy) or `--json`."""
    from continuum_evaluation.adaptive import AdaptiveSettings

    parser = argparse.ArgumentParser(prog="continuum bench evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of trace families")
    parser.add_argument("--models", default="alexnet,resnet18,mobilenetv2", help="comma-separated zoo models")
    parser.add_argument(
        "--device-classes", default="rpi4,rpi4-noneon", help="comma-separated device classes (agents table)"
    )
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second")
    parser.add_argument(
        "--max-per-family",
        type=int,
        default=4,
        help="traces per family (0: all; mahimahi-up is always whole)",
    )
    parser.add_argument(
        "--tuned",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also run adaptive with these overrides, side by side (default: the proposed "
        f"{' '.join(PROPOSED)})",
    )
    parser.add_argument("--no-tuned", action="store_true", help="skip the side-by-side tuned adaptive run")
    args = parser.parse_args(argv)
    families = discover_families(args.data, args.max_per_family)
    settings = AdaptiveSettings()
    tuned = None if args.no_tuned else settings.with_overrides(args.tuned or PROPOSED)
    rows = []
    classes = [c.strip() for c in args.device_classes.split(",") if c.strip()]
    for device_class in classes:
        for family in families:
            for model in [m.strip() for m in args.models.split(",") if m.strip()]:
                rows.append(_evaluate_family(family, model, device_class, args.rate, settings, tuned))
                if not args.json:
                    took = rows[-1]["seconds"]
                    print(f"  {device_class} / {family.name} / {model}: {took:.1f} s", file=sys.stderr)
    result = {
        "area": "evaluation",
        "data": str(args.data) if args.data.is_dir() else "shipped",
        "rate_per_s": args.rate,
        "device_classes": classes,
        "settings": settings.to_json(),
        "tuned_overrides": list(args.tuned or PROPOSED) if tuned is not None else None,
        "families": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("mean latency per trace, averaged over the family (ms)")
        print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
