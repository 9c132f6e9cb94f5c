"""The `continuum.scenario/v1` file format as pydantic models, and their errors as file paths.

Structure and number checks live here (unknown keys, types, negative or non-finite numbers); the checks
that need the whole scenario (layer names, cycles, tiers, links) live in `scenario.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.planner.errors import ScenarioError

__all__ = ["ScenarioDoc", "validate_document"]

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LayerDoc(_Strict):
    """One layer: its output size, its measured latency per tier, and (for DAGs) what it reads."""

    name: str = Field(min_length=1)
    output_bytes: NonNegative
    latency_ms: dict[str, NonNegative]
    inputs: list[str] | None = None


class SegmentDoc(_Strict):
    """A measured latency of layers `first`..`last` run together on one tier (chains)."""

    first: str
    last: str
    latency_ms: dict[str, NonNegative]


class ExitDoc(_Strict):
    """An early-exit branch after a layer (chains)."""

    after: str
    exit_rate: Rate
    output_bytes: NonNegative
    latency_ms: dict[str, NonNegative] | None = None


class ModelDoc(_Strict):
    """The model's profile."""

    name: str = Field(min_length=1)
    input_bytes: NonNegative
    layers: list[LayerDoc] = Field(min_length=1)
    segments: list[SegmentDoc] = Field(default_factory=list)
    exits: list[ExitDoc] = Field(default_factory=list)


class TierDoc(_Strict):
    """A tier's prices; `queue_ms` is opt-in (the orchestrator's expected queueing delay)."""

    cost_per_hour: NonNegative = 0.0
    power_w: NonNegative = 0.0
    tx_power_w: NonNegative = 0.0
    queue_ms: NonNegative = 0.0


class LinkDoc(_Strict):
    """A directed link."""

    bandwidth_mbps: Positive
    rtt_ms: NonNegative
    cost_per_gb: NonNegative = 0.0


class ObjectiveDoc(_Strict):
    """What to minimise and the limits on expected latency and cost."""

    minimize: Literal["latency", "cost", "energy"] = "latency"
    max_latency_ms: NonNegative | None = None
    max_cost_usd: NonNegative | None = None


class ConstraintsDoc(_Strict):
    """Pinned layers and the tiers a plan may use."""

    pin: dict[str, str] = Field(default_factory=dict)
    tiers: list[str] | None = None


class ScenarioDoc(_Strict):
    """A whole `continuum.scenario/v1` document."""

    format: Literal["continuum.scenario/v1"]
    model: ModelDoc
    tiers: dict[str, TierDoc]
    links: dict[str, LinkDoc] = Field(default_factory=dict)
    objective: ObjectiveDoc = Field(default_factory=ObjectiveDoc)
    constraints: ConstraintsDoc = Field(default_factory=ConstraintsDoc)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "finite_number": "must be a finite number",
    "extra_forbidden": "unknown key (check its spelling against continuum.scenario/v1)",
    "missing": "required",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}


def _message(error: Mapping[str, Any]) -> str:
    template = _MESSAGES.get(str(error["type"]))
    if template is not None:
        return template.format(**(error.get("ctx") or {}))
    text = str(error["msg"])
    return text[:1].lower() + text[1:]


def validate_document(doc: Mapping[str, Any]) -> ScenarioDoc:
    """Validate a loaded document's structure; raises ScenarioError naming the first bad path."""
    if not isinstance(doc, Mapping):
        raise ScenarioError("(document): must be a mapping with format continuum.scenario/v1")
    try:
        return ScenarioDoc.model_validate(dict(doc))
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ScenarioError(f"{_path(first['loc'])}: {_message(first)}{more}") from None
