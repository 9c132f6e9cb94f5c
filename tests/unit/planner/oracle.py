"""A test-side oracle: SCENARIO.md's cost model re-implemented from the text, and brute force over every
assignment. Shares no code with the planner, so the two can disagree."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

TIER_NAMES = ("device", "edge", "cloud")


def _hop(doc: Mapping[str, Any], src: str, dst: str, nbytes: float) -> tuple[float, float, float]:
    """(ms, usd, device joules) to move nbytes from src to dst, relaying through the edge if needed."""
    if src == dst:
        return 0.0, 0.0, 0.0
    links = doc.get("links", {})
    name = f"{src}->{dst}"
    if name in links:
        link = links[name]
        ms = link["rtt_ms"] / 2 + nbytes * 8 / (link["bandwidth_mbps"] * 1000)
        usd = nbytes / 1e9 * link.get("cost_per_gb", 0.0)
        tx = doc["tiers"].get("device", {}).get("tx_power_w", 0.0)
        joules = ms / 1000 * tx if src == "device" else 0.0
        return ms, usd, joules
    assert "edge" not in (src, dst), f"no route {name}"
    a = _hop(doc, src, "edge", nbytes)
    b = _hop(doc, "edge", dst, nbytes)
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _compute(doc: Mapping[str, Any], tier: str, ms: float) -> tuple[float, float, float]:
    spec = doc["tiers"].get(tier, {})
    usd = ms / 3.6e6 * spec.get("cost_per_hour", 0.0)
    joules = ms / 1000 * spec.get("power_w", 0.0) if tier == "device" else 0.0
    return ms, usd, joules


def _is_chain(doc: Mapping[str, Any]) -> bool:
    layers = doc["model"]["layers"]
    for i, layer in enumerate(layers):
        expected = ["input"] if i == 0 else [layers[i - 1]["name"]]
        if layer.get("inputs", expected) != expected:
            return False
    return True


def figures(doc: Mapping[str, Any], assignment: Mapping[str, str]) -> tuple[float, float, float]:
    """Expected (latency_ms, cost_usd, device_energy_j) of an assignment, straight from SCENARIO.md."""
    model = doc["model"]
    layers = model["layers"]
    tiers = [assignment[layer["name"]] for layer in layers]
    queue = {t: doc["tiers"].get(t, {}).get("queue_ms", 0.0) for t in TIER_NAMES}
    total = [0.0, 0.0, 0.0]

    def add(parts: tuple[float, float, float], weight: float) -> None:
        for k in range(3):
            total[k] += weight * parts[k]

    if not _is_chain(doc):
        where = {"input": "device"} | {layer["name"]: t for layer, t in zip(layers, tiers, strict=True)}
        size = {"input": model["input_bytes"]} | {layer["name"]: layer["output_bytes"] for layer in layers}
        for i, layer in enumerate(layers):
            add(_compute(doc, tiers[i], layer["latency_ms"][tiers[i]]), 1.0)
            if i == 0 or tiers[i - 1] != tiers[i]:
                total[0] += queue[tiers[i]]
        consumers: dict[str, set[str]] = {name: set() for name in where}
        for i, layer in enumerate(layers):
            for name in layer.get("inputs", ["input"] if i == 0 else [layers[i - 1]["name"]]):
                consumers[name].add(tiers[i])
        used = set().union(*[set(layer.get("inputs", [])) for layer in layers])
        used |= {layers[i - 1]["name"] for i, layer in enumerate(layers) if i and "inputs" not in layer}
        for layer in layers:
            if layer["name"] not in used:
                consumers[layer["name"]].add("device")
        for name, dests in consumers.items():
            for dst in dests - {where[name]}:
                add(_hop(doc, where[name], dst, size[name]), 1.0)
        return total[0], total[1], total[2]

    names = [layer["name"] for layer in layers]
    exits = sorted(model.get("exits", []), key=lambda e: names.index(e["after"]))
    segments = {(s["first"], s["last"]): s["latency_ms"] for s in model.get("segments", [])}
    finishing = []
    reach = 1.0
    for ex in exits:
        finishing.append((names.index(ex["after"]), reach * ex["exit_rate"], ex["output_bytes"]))
        reach *= 1 - ex["exit_rate"]
    finishing.append((len(layers) - 1, reach, layers[-1]["output_bytes"]))
    for last, weight, out in finishing:
        add(_hop(doc, "device", tiers[0], model["input_bytes"]), weight)
        runs: list[list[int]] = []
        for i in range(last + 1):
            if runs and tiers[runs[-1][0]] == tiers[i]:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        for first, end in runs:
            tier = tiers[first]
            seg = segments.get((names[first], names[end]))
            if seg is not None and tier in seg:
                ms = seg[tier]
            else:
                ms = sum(layers[j]["latency_ms"][tier] for j in range(first, end + 1))
            add(_compute(doc, tier, ms), weight)
            total[0] += weight * queue[tier]
            if end < last:
                add(_hop(doc, tier, tiers[end + 1], layers[end]["output_bytes"]), weight)
        for ex in exits:
            at = names.index(ex["after"])
            if at <= last:
                add(_compute(doc, tiers[at], ex.get("latency_ms", {}).get(tiers[at], 0.0)), weight)
        add(_hop(doc, tiers[last], "device", out), weight)
    return total[0], total[1], total[2]


def allowed(doc: Mapping[str, Any], assignment: Mapping[str, str]) -> bool:
    """Whether an assignment respects latency lists, defined tiers, constraints and exit branches."""
    constraints = doc.get("constraints", {})
    permitted = constraints.get("tiers") or list(TIER_NAMES)
    pins = constraints.get("pin", {})
    exits = {e["after"]: e for e in doc["model"].get("exits", [])}
    for layer in doc["model"]["layers"]:
        tier = assignment[layer["name"]]
        if tier not in layer["latency_ms"] or tier not in doc["tiers"] or tier not in permitted:
            return False
        if pins.get(layer["name"], tier) != tier:
            return False
        ex = exits.get(layer["name"])
        if ex is not None and "latency_ms" in ex and tier not in ex["latency_ms"]:
            return False
    return True


def brute_force(doc: Mapping[str, Any]) -> list[tuple[dict[str, str], tuple[float, float, float]]]:
    """Every allowed assignment with its figures."""
    names = [layer["name"] for layer in doc["model"]["layers"]]
    out = []
    for combo in itertools.product(TIER_NAMES, repeat=len(names)):
        assignment = dict(zip(names, combo, strict=True))
        if allowed(doc, assignment):
            out.append((assignment, figures(doc, assignment)))
    return out
