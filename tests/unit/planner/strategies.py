"""Hypothesis strategies: small random chains and DAGs with segments, exits, pins, allowed tiers, queues."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TIERS = ("device", "edge", "cloud")
LINKS = ("device->edge", "edge->device", "edge->cloud", "cloud->edge", "device->cloud", "cloud->device")


def grid(low: float, high: float, steps: int = 1000) -> st.SearchStrategy[float]:
    """Numbers on a grid: random enough, without denormals that only test float noise."""
    return st.integers(0, steps).map(lambda k: low + (high - low) * k / steps)


ms = grid(0.0, 50.0)
size = grid(0.0, 2e6)


@st.composite
def latency(draw: st.DrawFn, required: bool = True) -> dict[str, float]:
    """A latency table over a non-empty subset of the tiers (most often all three)."""
    chosen = [t for t in TIERS if draw(st.integers(0, 5)) > 0]
    if required and not chosen:
        chosen = [draw(st.sampled_from(TIERS))]
    return {t: draw(ms) for t in chosen}


@st.composite
def scenario_docs(draw: st.DrawFn, dag: bool = False, max_layers: int = 5) -> dict[str, Any]:
    """A valid-looking continuum.scenario/v1 document (the planner may still reject it, e.g. no tier)."""
    n = draw(st.integers(2 if dag else 1, max_layers))
    names = [f"l{i}" for i in range(n)]
    layers: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        layer: dict[str, Any] = {"name": name, "output_bytes": draw(size), "latency_ms": draw(latency())}
        if dag:
            pool = ["input", *names[:i]]
            inputs = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
            layer["inputs"] = inputs
        layers.append(layer)
    model: dict[str, Any] = {"name": "random", "input_bytes": draw(size), "layers": layers}
    if not dag:
        pairs = draw(
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4, unique=True)
        )
        spans = sorted({(min(a, b), max(a, b)) for a, b in pairs})
        model["segments"] = [
            {"first": names[a], "last": names[b], "latency_ms": draw(latency(required=False))}
            for a, b in spans
        ]
        after = draw(st.lists(st.integers(0, n - 1), max_size=3, unique=True))
        exits = []
        for i in after:
            ex: dict[str, Any] = {
                "after": names[i],
                "exit_rate": draw(grid(0.0, 1.0, 20)),
                "output_bytes": draw(grid(0, 1e4)),
            }
            if draw(st.booleans()):
                ex["latency_ms"] = draw(latency())
            exits.append(ex)
        model["exits"] = exits
    tiers = {}
    for t in TIERS:
        if t == "device" or draw(st.integers(0, 9)) > 0:
            tiers[t] = {
                "cost_per_hour": draw(grid(0, 5)),
                "power_w": draw(grid(0, 5)),
                "tx_power_w": draw(grid(0, 3)),
                "queue_ms": draw(st.sampled_from([0.0, 0.0, 3.0, 11.5])),
            }
    links = {}
    for name in LINKS:
        if "edge" in name or draw(st.booleans()):
            links[name] = {
                "bandwidth_mbps": draw(grid(0.5, 1000)),
                "rtt_ms": draw(grid(0, 100)),
                "cost_per_gb": draw(st.sampled_from([0.0, 0.02, 0.09])),
            }
    constraints: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        pinned = draw(st.integers(0, n - 1))
        listed = sorted(layers[pinned]["latency_ms"])
        constraints["pin"] = {
            names[pinned]: draw(st.sampled_from(listed if draw(st.integers(0, 4)) else TIERS))
        }
    if draw(st.integers(0, 3)) == 0:
        constraints["tiers"] = draw(st.lists(st.sampled_from(TIERS), min_size=1, max_size=3, unique=True))
    return {
        "format": "continuum.scenario/v1",
        "model": model,
        "tiers": tiers,
        "links": links,
        "objective": {"minimize": draw(st.sampled_from(["latency", "cost", "energy"]))},
        "constraints": constraints,
    }
