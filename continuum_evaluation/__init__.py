"""Trace-replay evaluation: the production estimator, replanner and planner replayed over real traces.

`evaluate_trace(doc, uplink, downlink)` scores device_only, edge_only, cloud_only, static_split, adaptive and
oracle on one trace; `LinkReplay` integrates a trace exactly; `build_scenario` wraps a model profile in the
evaluation's tiers and links. docs/evaluation.md describes the method.
"""

from continuum_evaluation.adaptive import AdaptiveSettings
from continuum_evaluation.link_trace import LinkReplay
from continuum_evaluation.run import POLICIES, Evaluation, evaluate_trace
from continuum_evaluation.scenario import LinkSetup, build_scenario

__all__ = [
    "POLICIES",
    "AdaptiveSettings",
    "Evaluation",
    "LinkReplay",
    "LinkSetup",
    "build_scenario",
    "evaluate_trace",
]
