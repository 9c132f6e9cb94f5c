"""Presenting evaluations: a readable table, a folder summary, a plot of bandwidth and latency over time."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from continuum_evaluation.run import POLICIES, Evaluation

__all__ = ["format_summary", "format_table", "plot_evaluation", "summarise"]

_COLUMNS = (
    ("mean_ms", "mean ms", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p95_ms", "p95 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("cost_usd_per_1k", "USD/1k", "{:.5f}"),
    ("device_energy_j_per_req", "J/req", "{:.3f}"),
    ("switches", "switches", "{}"),
)


def format_table(evaluation: Evaluation) -> str:
    """One evaluation as an aligned text table, with the adaptive/oracle ratio underneath."""
    header = ["policy", *(title for _, title, _ in _COLUMNS)]
    rows = [header]
    for name, run in evaluation.runs.items():
        figures = run.summary().to_json()
        rows.append([name, *(fmt.format(figures[key]) for key, _, fmt in _COLUMNS)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        f"trace {evaluation.trace}: {evaluation.duration_s:.0f} s, {len(evaluation.requests)} requests, "
        f"uplink mean {evaluation.uplink_mean_mbps:.2f} Mbps, "
        f"downlink mean {evaluation.downlink_mean_mbps:.2f} Mbps"
    ]
    for row in rows:
        lines.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    ratio = _ratio(evaluation)
    if ratio is not None:
        lines.append(f"adaptive / oracle mean latency: {ratio:.3f}")
    for name, why in evaluation.skipped.items():
        lines.append(f"{name}: skipped ({why})")
    return "\n".join(lines)


def _ratio(evaluation: Evaluation) -> float | None:
    runs = evaluation.runs
    if "adaptive" in runs and "oracle" in runs:
        return runs["adaptive"].summary().mean_ms / runs["oracle"].summary().mean_ms
    return None


def summarise(evaluations: Sequence[Evaluation]) -> dict[str, Any]:
    """Across traces: per policy the mean of per-trace means, how often adaptive beat it, and ratios."""
    policies = [p for p in POLICIES if any(p in e.runs for e in evaluations)]
    per_policy: dict[str, Any] = {}
    for policy in policies:
        means = [e.runs[policy].summary().mean_ms for e in evaluations if policy in e.runs]
        per_policy[policy] = {"traces": len(means), "mean_of_means_ms": statistics.fmean(means)}
        pairs = [
            (e.runs["adaptive"].summary().mean_ms, e.runs[policy].summary().mean_ms)
            for e in evaluations
            if policy in e.runs and "adaptive" in e.runs
        ]
        if pairs and policy != "adaptive":
            per_policy[policy]["adaptive_ahead_share"] = sum(a < b for a, b in pairs) / len(pairs)
            per_policy[policy]["mean_ratio_adaptive_to_it"] = statistics.fmean(a / b for a, b in pairs)
    ratios = [r for r in (_ratio(e) for e in evaluations) if r is not None]
    summary: dict[str, Any] = {"traces": len(evaluations), "policies": per_policy}
    if ratios:
        summary["adaptive_over_oracle"] = {
            "mean": statistics.fmean(ratios),
            "median": statistics.median(ratios),
            "max": max(ratios),
            "within_10pct_share": sum(r <= 1.10 for r in ratios) / len(ratios),
        }
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """The cross-trace summary as text."""
    lines = [f"{summary['traces']} traces"]
    for policy, figures in summary["policies"].items():
        line = f"  {policy:<13} mean of per-trace means {figures['mean_of_means_ms']:9.1f} ms"
        if "adaptive_ahead_share" in figures:
            line += (
                f"   adaptive ahead on {figures['adaptive_ahead_share'] * 100:5.1f}% of traces,"
                f" adaptive/it {figures['mean_ratio_adaptive_to_it']:.3f}"
            )
        lines.append(line)
    if "adaptive_over_oracle" in summary:
        a = summary["adaptive_over_oracle"]
        lines.append(
            f"  adaptive/oracle: mean {a['mean']:.3f}, median {a['median']:.3f}, max {a['max']:.3f}, "
            f"within 10% on {a['within_10pct_share'] * 100:.1f}% of traces"
        )
    return "\n".join(lines)


def plot_evaluation(evaluation: Evaluation, path: Path) -> None:
    """A PNG: the uplink bandwidth over time on top, every policy's per-request latency below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    link = evaluation.uplink
    times = np.append(link.starts_s, link.period_s)
    rates = np.append(link.bits_per_s, link.bits_per_s[-1]) / 1e6
    top.step(times, rates, where="post", color="black", linewidth=0.8)
    top.set_ylabel("uplink Mbps")
    top.set_title(f"{evaluation.trace}: bandwidth and per-request latency")
    start = evaluation.requests.start_s
    for name, run in evaluation.runs.items():
        bottom.plot(start, run.figures.latency_ms, label=name, linewidth=0.9)
    bottom.set_yscale("log")
    bottom.set_ylabel("latency ms (log)")
    bottom.set_xlabel("time s")
    bottom.legend(fontsize="small", ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
