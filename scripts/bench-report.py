#!/usr/bin/env python3
"""Run every benchmark area with `--json`; write BENCHMARKS.md (tables, the machine) and plots in docs/img/.

Each area runs in its own process (`continuum bench AREA --json`, through this interpreter) so one area's
crash or timeout is reported in the file instead of ending the report. Figures are printed as measured.

    .venv/bin/python scripts/bench-report.py                  # run all areas, write BENCHMARKS.md
    .venv/bin/python scripts/bench-report.py --areas planner,evaluation
    .venv/bin/python scripts/bench-report.py --save-json .bench   # also keep each area's JSON
    .venv/bin/python scripts/bench-report.py --from-json .bench   # re-render without re-running
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POLICIES = ("device_only", "edge_only", "cloud_only", "static_split", "adaptive", "oracle")


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = "unknown"
    ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": nproc,
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "commit": commit,
    }


def run_area(area: str, extra: list[str], timeout_s: float) -> tuple[dict[str, Any] | None, str, float]:
    """Run one area; returns (its JSON or None, an error line, seconds)."""
    code = "import sys; from continuum_cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "bench", area, "--json", *extra]
    began = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout_s:.0f} s", time.perf_counter() - began
    seconds = time.perf_counter() - began
    start = done.stdout.find("{")
    if start < 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit {done.returncode}, no JSON: {tail}", seconds
    try:
        doc, _ = json.JSONDecoder().raw_decode(done.stdout[start:])
    except ValueError as exc:
        return None, f"exit {done.returncode}, unreadable JSON: {exc}", seconds
    note = "" if done.returncode == 0 else f"exit status {done.returncode}"
    return (doc if isinstance(doc, dict) else {"result": doc}), note, seconds


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "-"
    return str(value).replace("|", "\\|")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if _scalar(value):
            flat[prefix + key] = value
        elif isinstance(value, dict) and all(_scalar(v) for v in value.values()):
            for k, v in value.items():
                flat[f"{prefix}{key}.{k}"] = v
    return flat


def _table(rows: list[dict[str, Any]], first: str | None = None) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if first is not None:
        columns = [first, *(c for c in columns if c != first)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines.extend("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |" for row in rows)
    return lines


def render(value: Any, level: int = 3) -> list[str]:
    """Any JSON document as markdown: scalars as a key/value table, lists of objects and maps as tables."""
    lines: list[str] = []
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return [*_table([_flatten(v) for v in value]), ""]
        return [", ".join(_fmt(v) for v in value), ""]
    if not isinstance(value, dict):
        return [_fmt(value), ""]
    scalars = {k: v for k, v in value.items() if _scalar(v)}
    if scalars:
        lines.extend(["| figure | value |", "|---|---|"])
        lines.extend(f"| {k} | {_fmt(v)} |" for k, v in scalars.items())
        lines.append("")
    for key, sub in value.items():
        if _scalar(sub):
            continue
        heading = "#" * min(level, 6)
        if isinstance(sub, dict) and sub and all(isinstance(v, dict) for v in sub.values()):
            rows = [{"name": k, **_flatten(v)} for k, v in sub.items()]
            columns = {c for row in rows for c in row}
            filled = sum(len(row) for row in rows) / (len(rows) * len(columns))
            if len(columns) > 12 and filled < 0.5:
                lines.extend([f"{heading} {key}", "", *render(sub, level + 1)])
                continue
            lines.extend([f"{heading} {key}", ""])
            lines.extend(_table(rows, first="name"))
            lines.append("")
        else:
            lines.extend([f"{heading} {key}", "", *render(sub, level + 1)])
    return lines


def evaluation_section(doc: dict[str, Any], img: Path) -> list[str]:
    """The evaluation area: one table per family and model, and two plots."""
    families = doc.get("families", [])
    lines = [
        f"Requests at {doc.get('rate_per_s')} per s, device classes `{doc.get('device_classes')}`, "
        "traces from "
        f"`{doc.get('data')}`. Mean latency per trace (ms), averaged over the traces of a family; "
        "`adaptive/oracle` is the mean of per-trace ratios; `ahead` is the share of traces where adaptive's "
        "mean is strictly below every single-tier policy's, `no worse` at or below.",
        "",
    ]
    tuned = any("adaptive_tuned" in row for row in families)
    if tuned:
        lines[0] += (
            " `tuned` is adaptive with the proposed settings, on the same traces: "
            f"`{' '.join(doc.get('tuned_overrides') or [])}`."
        )
    header = (
        "| device | family | model | traces | "
        + " | ".join(POLICIES)
        + " | adaptive/oracle | within 10% | ahead | no worse |"
    )
    lines += [
        header + (" tuned | tuned/oracle |" if tuned else ""),
        "|" + "---|" * (len(POLICIES) + 8 + 2 * tuned),
    ]
    for row in families:
        ratio = row.get("adaptive_over_oracle", {})
        cells = [row.get("device_class", ""), row["family"], row["model"], str(row["traces"])]
        cells += [_fmt(row["policies"].get(p)) for p in POLICIES]
        cells += [
            _fmt(ratio.get("mean")),
            f"{ratio.get('within_10pct_share', 0.0) * 100:.0f}%",
            f"{row.get('adaptive_ahead_of_every_single_tier_share', 0.0) * 100:.0f}%",
            f"{row.get('adaptive_no_worse_than_every_single_tier_share', 0.0) * 100:.0f}%",
        ]
        if tuned:
            extra = row.get("adaptive_tuned", {})
            cells += [_fmt(extra.get("mean_of_means_ms")), _fmt(extra.get("over_oracle_mean"))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    notes = {row["family"]: row.get("note", "") for row in families}
    lines.extend(f"- `{name}`: {note}" for name, note in notes.items())
    lines.append("")
    plotted = _evaluation_plots(families, img)
    lines.extend(f"![{name}](docs/img/{name})" for name in plotted)
    lines.append("")
    return lines


def _evaluation_plots(families: list[dict[str, Any]], img: Path) -> list[str]:
    if not families:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    img.mkdir(parents=True, exist_ok=True)
    labels = [f"{r.get('device_class', '')} {r['family']} {r['model']}" for r in families]
    x = np.arange(len(families))
    width = 0.8 / len(POLICIES)
    size = (min(16.0, 3.0 + 0.55 * len(families)), 5.5)
    fig, ax = plt.subplots(figsize=size)
    for k, policy in enumerate(POLICIES):
        values = [r["policies"].get(policy, np.nan) for r in families]
        ax.bar(x + (k - len(POLICIES) / 2 + 0.5) * width, values, width, label=policy)
    ax.set_xticks(x, labels, fontsize=7, rotation=60, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("mean latency, ms (log)")
    ax.legend(fontsize="small", ncol=3)
    ax.set_title("Trace replay: mean latency per policy")
    fig.tight_layout()
    fig.savefig(img / "evaluation-latency.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(size[0], 4.5))
    ratios = [r.get("adaptive_over_oracle", {}).get("mean", np.nan) for r in families]
    tuned = [r.get("adaptive_tuned", {}).get("over_oracle_mean", np.nan) for r in families]
    ax.bar(x - 0.2, ratios, 0.4, color="tab:purple", label="adaptive (production defaults)")
    if not all(np.isnan(tuned)):
        ax.bar(x + 0.2, tuned, 0.4, color="tab:green", label="adaptive (proposed settings)")
    ax.axhline(1.1, color="black", linestyle="--", linewidth=0.8, label="goal: within 10% of oracle")
    ax.set_xticks(x, labels, fontsize=7, rotation=60, ha="right")
    ax.set_ylim(bottom=0.9)
    ax.set_ylabel("mean latency / oracle's")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(img / "evaluation-ratio.png", dpi=110)
    plt.close(fig)
    return ["evaluation-latency.png", "evaluation-ratio.png"]


def write_report(
    results: dict[str, tuple[dict[str, Any] | None, str, float]],
    out: Path,
    img: Path,
    missing: list[str],
    source: str = "",
) -> None:
    """Assemble BENCHMARKS.md."""
    info = machine()
    if source:
        info["date"] += f" (rendered; figures from {source})"
    lines = [
        "# Benchmarks",
        "",
        "Written by `scripts/bench-report.py` from each area's `continuum bench AREA --json`. Figures as "
        "measured in this run, on this machine; nothing is edited by hand.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
    ]
    for area, (doc, note, seconds) in results.items():
        lines.extend([f"## {area}", "", f"Ran in {seconds:.1f} s{'; ' + note if note else ''}.", ""])
        if doc is None:
            lines.extend([f"No figures: {note}.", ""])
        elif area == "evaluation" and "families" in doc:
            lines.extend(evaluation_section(doc, img))
            rest = {k: v for k, v in doc.items() if k not in ("families", "tuned_overrides")}
            lines.extend(render(rest))
        else:
            lines.extend(render(doc))
    if missing:
        lines.extend(["## Not benchmarked", "", f"No bench module yet for: {', '.join(missing)}.", ""])
    out.write_text("\n".join(lines).rstrip() + "\n")


def _saved_at(folder: Path) -> str:
    stamps = [p.stat().st_mtime for p in folder.glob("*.json") if not p.name.endswith(".run.json")]
    if not stamps:
        return "at an unknown time"
    return dt.datetime.fromtimestamp(max(stamps), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def main(argv: list[str] | None = None) -> int:
    """Run (or load) the areas' JSON and write the report."""
    from continuum_cli.commands.bench import AREAS, available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", default=",".join(AREAS), help="comma-separated areas (default all)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per area")
    parser.add_argument("--save-json", type=Path, help="keep each area's JSON in this folder")
    parser.add_argument("--from-json", type=Path, help="render from saved JSON instead of running")
    parser.add_argument(
        "--area-args", action="append", default=[], metavar="AREA=ARGS", help="extra options for one area"
    )
    args = parser.parse_args(argv)
    extra = {}
    for item in args.area_args:
        area, _, rest = item.partition("=")
        extra[area] = rest.split()
    wanted = [a.strip() for a in args.areas.split(",") if a.strip()]
    present = [a for a in wanted if available(a)]
    missing = [a for a in wanted if a not in present]
    results: dict[str, tuple[dict[str, Any] | None, str, float]] = {}
    for area in present:
        if args.from_json is not None:
            path = args.from_json / f"{area}.json"
            meta = args.from_json / f"{area}.run.json"
            doc = json.loads(path.read_text()) if path.is_file() else None
            run = json.loads(meta.read_text()) if meta.is_file() else {}
            note = run.get("note", "") if doc else f"no {path}"
            results[area] = (doc, note, float(run.get("seconds", 0.0)))
            continue
        print(f"bench {area} ...", file=sys.stderr, flush=True)
        results[area] = run_area(area, extra.get(area, []), args.timeout)
        doc, note, seconds = results[area]
        print(f"bench {area}: {seconds:.1f} s {note}", file=sys.stderr, flush=True)
        if args.save_json is not None and doc is not None:
            args.save_json.mkdir(parents=True, exist_ok=True)
            (args.save_json / f"{area}.json").write_text(json.dumps(doc, indent=2))
            (args.save_json / f"{area}.run.json").write_text(json.dumps({"seconds": seconds, "note": note}))
    source = (
        f"the JSON saved in {args.from_json} by a run that ended {_saved_at(args.from_json)}"
        if args.from_json
        else ""
    )
    write_report(results, args.out, args.img, missing, source)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(doc is not None for doc, _, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
