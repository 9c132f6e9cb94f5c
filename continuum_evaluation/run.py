"""One evaluation: a scenario, an uplink (and downlink) trace, a request rate, the policies; figures out.

`evaluate_trace` issues the requests, builds the replayed network, runs every asked-for policy (a fixed
policy's one plan replayed for every request, then adaptive) and last the oracle, whose candidate set
includes every plan the other policies ran (see `continuum_evaluation.policies`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from continuum_evaluation.adaptive import AdaptiveSettings, adaptive
from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.paths import finish_probabilities
from continuum_evaluation.placement import Placement
from continuum_evaluation.policies import FIXED, SINGLE_TIER, fixed_plan, oracle, oracle_candidates
from continuum_evaluation.request_replay import PolicyRun, Replayer, Requests, arrivals

__all__ = ["POLICIES", "Evaluation", "evaluate_trace"]

POLICIES: tuple[str, ...] = ("device_only", "edge_only", "cloud_only", "static_split", "adaptive", "oracle")
"""Every policy, in report order."""


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Everything one evaluation measured, per policy, plus what it ran on."""

    trace: str
    duration_s: float
    uplink_mean_mbps: float
    downlink_mean_mbps: float
    requests: Requests
    runs: Mapping[str, PolicyRun]
    uplink: LinkReplay
    candidates: int
    skipped: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `--json` document: per-policy summaries and the run's parameters."""
        return {
            "trace": self.trace,
            "duration_s": self.duration_s,
            "requests": len(self.requests),
            "uplink_mean_mbps": self.uplink_mean_mbps,
            "downlink_mean_mbps": self.downlink_mean_mbps,
            "oracle_candidates": self.candidates,
            "policies": {name: run.summary().to_json() for name, run in self.runs.items()},
            "skipped": dict(self.skipped),
            "adaptive_settings": dict(self.settings),
        }


def evaluate_trace(
    doc: Mapping[str, Any],
    uplink: LinkReplay,
    downlink: LinkReplay | None = None,
    *,
    rate: float = 1.0,
    policies: Sequence[str] = POLICIES,
    settings: AdaptiveSettings | None = None,
    name: str = "trace",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Replay `uplink` (and `downlink`, else the uplink again) for the scenario `doc`; every policy scored."""
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown policies {', '.join(unknown)}; choose from {', '.join(POLICIES)}")
    down = downlink or uplink
    requests = arrivals(uplink.period_s, rate, finish_probabilities(doc), seed)
    replayer: Replayer = Replayer.over_traces(doc, uplink, down)
    placement = Placement(doc)
    runs: dict[str, PolicyRun] = {}
    skipped: dict[str, str] = {}
    steps = [p for p in POLICIES if p in policies]
    for done, policy in enumerate(steps):
        if progress is not None:
            progress(done, len(steps))
        if policy in FIXED:
            tiers = fixed_plan(policy, placement, uplink, down)
            if tiers is None:
                skipped[policy] = f"some layer of the model cannot run on the {SINGLE_TIER[policy]}"
                continue
            runs[policy] = replayer.fixed(policy, tiers, requests)
        elif policy == "adaptive":
            runs[policy] = adaptive(doc, replayer, requests, settings)
        else:
            candidates = oracle_candidates(placement, uplink, down, runs.values())
            runs[policy] = oracle(replayer, requests, candidates)
    if progress is not None:
        progress(len(steps), len(steps))
    candidate_count = len(runs["oracle"].plans) if "oracle" in runs else 0
    return Evaluation(
        trace=name,
        duration_s=uplink.period_s,
        uplink_mean_mbps=uplink.mean_mbps,
        downlink_mean_mbps=down.mean_mbps,
        requests=requests,
        runs=runs,
        uplink=uplink,
        candidates=candidate_count,
        skipped=skipped,
        settings=(settings or AdaptiveSettings()).to_json(),
    )
