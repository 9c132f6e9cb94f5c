"""Hostile scenarios for `continuum bench fuzz`: a valid `continuum.scenario/v1` document, mutated.

Split from `fuzzgen` (the MQTT and operator inputs) because the planner's parser is a target of its own.
Each generator takes a seeded `random.Random`, so any input reproduces from (seed, target, index).
"""

from __future__ import annotations

import math
import random

from benchmarks.fuzzgen import hostile_float

__all__ = ["BASE_SCENARIO", "scenario_doc", "scenario_reason"]

BASE_SCENARIO: dict[str, object] = {
    "format": "continuum.scenario/v1",
    "model": {
        "name": "fuzz",
        "input_bytes": 602112,
        "layers": [
            {
                "name": "conv1",
                "output_bytes": 774400,
                "latency_ms": {"device": 15.2, "edge": 2.1, "cloud": 0.6},
            },
            {
                "name": "relu1",
                "output_bytes": 774400,
                "latency_ms": {"device": 0.4, "edge": 0.1, "cloud": 0.05},
            },
            {"name": "fc", "output_bytes": 4000, "latency_ms": {"device": 3.0, "edge": 0.5, "cloud": 0.1}},
        ],
        "segments": [{"first": "conv1", "last": "relu1", "latency_ms": {"device": 14.9, "edge": 2.0}}],
        "exits": [{"after": "relu1", "exit_rate": 0.8, "output_bytes": 40, "latency_ms": {"device": 0.2}}],
    },
    "tiers": {
        "device": {"cost_per_hour": 0.0, "power_w": 3.0, "tx_power_w": 1.2},
        "edge": {"cost_per_hour": 0.5},
        "cloud": {"cost_per_hour": 3.0},
    },
    "links": {
        "device->edge": {"bandwidth_mbps": 20.0, "rtt_ms": 8.0, "cost_per_gb": 0.0},
        "edge->device": {"bandwidth_mbps": 60.0, "rtt_ms": 8.0},
        "edge->cloud": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0, "cost_per_gb": 0.02},
        "cloud->edge": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
    },
    "objective": {"minimize": "latency", "max_latency_ms": None, "max_cost_usd": None},
    "constraints": {"pin": {"conv1": "device"}, "tiers": ["device", "edge", "cloud"]},
}
"""A valid scenario (a chain with a segment, an exit and a pin) that the scenario fuzzer mutates."""

_JSON_HOSTILE: tuple[object, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    -1,
    -0.5,
    0,
    1e308,
    2**70,
    "",
    "x" * 10_000,
    "conv1",
    "edge",
    "mars",
    "device->edge",
    None,
    True,
    [],
    {},
    [None],
    {"": None},
    [[[[[]]]]],
    "latency",
    "../../etc",
)


def _containers(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Paths of every dict and list inside `value` (itself included)."""
    found: list[tuple[object, ...]] = []
    if isinstance(value, dict):
        found.append(path)
        for key, item in value.items():
            found += _containers(item, (*path, key))
    elif isinstance(value, list):
        found.append(path)
        for index, item in enumerate(value):
            found += _containers(item, (*path, index))
    return found


def _at(doc: object, path: tuple[object, ...]) -> object:
    for step in path:
        doc = doc[step]  # type: ignore[index]
    return doc


def scenario_doc(rng: random.Random) -> dict[str, object]:
    """The base scenario with 1-4 random structural mutations (replace, delete, add, duplicate, swap)."""
    import copy

    doc = copy.deepcopy(BASE_SCENARIO)
    for _ in range(rng.randrange(0 if rng.random() < 0.05 else 1, 5)):
        container = _at(doc, rng.choice(_containers(doc)))
        op = rng.random()
        hostile = copy.deepcopy(rng.choice(_JSON_HOSTILE)) if rng.random() < 0.8 else hostile_float(rng)
        if isinstance(container, dict):
            keys = list(container)
            if op < 0.55 and keys:
                container[rng.choice(keys)] = hostile
            elif op < 0.7 and keys:
                del container[rng.choice(keys)]
            elif op < 0.85:
                container[
                    rng.choice(("inputs", "queue_ms", "extra", "pin", "after", "latency_ms", "name"))
                ] = hostile
            elif keys:
                a, b = rng.choice(keys), rng.choice(keys)
                container[a], container[b] = container[b], container[a]
        elif isinstance(container, list):
            if op < 0.5 and container:
                container[rng.randrange(len(container))] = hostile
            elif op < 0.7 and container:
                del container[rng.randrange(len(container))]
            elif op < 0.9 and container:
                container.append(copy.deepcopy(rng.choice(container)))
            else:
                container.reverse()
    return doc


def scenario_reason(message: str) -> str:
    """Bucket a ScenarioError message into a short reason for counting."""
    for needle, reason in (
        ("unknown key", "unknown_key"),
        ("finite", "non_finite"),
        ("too large", "overflow"),
        ("must be >", "out_of_range"),
        ("must be <", "out_of_range"),
        ("less than or equal", "out_of_range"),
        ("greater than", "out_of_range"),
        ("should be", "wrong_type"),
        ("required", "missing_field"),
        ("missing", "missing_field"),
        ("unknown", "unknown_reference"),
        ("topological", "not_topological"),
        ("already", "duplicate"),
        ("no route", "no_route"),
        ("no tier can run", "no_tier"),
        ("lists no tier", "no_tier"),
        ("must not be empty", "empty"),
        ("comes before", "bad_segment"),
        ("same run", "duplicate"),
    ):
        if needle in message:
            return reason
    return "other"
