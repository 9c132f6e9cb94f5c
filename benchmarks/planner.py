"""`continuum bench planner`: how fast the exact planner is on chains, DAGs and a fleet replan.

Cases (seeded, so runs compare): 50- and 200-layer chains; a ResNet-110-sized chain (55 blocks with every
contiguous segment profiled and two exits); 50- and 200-node DAGs with skip connections; a 100k-device
replan of a 50-layer chain. For single plans it reports cold (parse + build + solve) and warm (new links on
the same model: the structure is cached, only pricing and solving run) latencies and plans/s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

TARGETS_MS = {"chain-200": 2.0, "resnet110-chain": 20.0, "dag-200": 50.0, "fleet-100k": 2000.0}
TIERS = {
    "device": {"cost_per_hour": 0.0, "power_w": 4.0, "tx_power_w": 1.5},
    "edge": {"cost_per_hour": 0.6},
    "cloud": {"cost_per_hour": 3.06},
}
LINKS = {
    "device->edge": {"bandwidth_mbps": 40.0, "rtt_ms": 6.0},
    "edge->device": {"bandwidth_mbps": 120.0, "rtt_ms": 6.0},
    "edge->cloud": {"bandwidth_mbps": 800.0, "rtt_ms": 24.0, "cost_per_gb": 0.02},
    "cloud->edge": {"bandwidth_mbps": 800.0, "rtt_ms": 24.0},
    "device->cloud": {"bandwidth_mbps": 15.0, "rtt_ms": 45.0},
    "cloud->device": {"bandwidth_mbps": 50.0, "rtt_ms": 45.0},
}


def _layer(rng: np.random.Generator, name: str, inputs: list[str] | None = None) -> dict[str, Any]:
    device = float(rng.uniform(0.5, 40.0))
    layer: dict[str, Any] = {
        "name": name,
        "output_bytes": float(rng.choice([4e3, 5e4, 2e5, 8e5, 3e6])),
        "latency_ms": {
            "device": device,
            "edge": device / rng.uniform(10, 40),
            "cloud": device / rng.uniform(40, 90),
        },
    }
    if inputs is not None:
        layer["inputs"] = inputs
    return layer


def _doc(name: str, layers: list[dict[str, Any]], **model: Any) -> dict[str, Any]:
    return {
        "format": "continuum.scenario/v1",
        "model": {"name": name, "input_bytes": 602112.0, "layers": layers, **model},
        "tiers": TIERS,
        "links": LINKS,
        "objective": {"minimize": "latency"},
    }


def chain_doc(n: int, seed: int = 1) -> dict[str, Any]:
    """A chain of n layers with varied latencies and activation sizes."""
    rng = np.random.default_rng(seed)
    return _doc(f"chain-{n}", [_layer(rng, f"l{i}") for i in range(n)])


def limited_chain_doc(n: int, seed: int = 1) -> dict[str, Any]:
    """A chain minimising cost under a latency limit that binds (labels search, not the plain recursion)."""
    doc = chain_doc(n, seed)
    doc["objective"] = {"minimize": "cost", "max_latency_ms": 0.6 * _fastest_ms(chain_doc(n, seed), "cost")}
    return doc


def _fastest_ms(doc: dict[str, Any], objective: str) -> float:
    from orchestrator.planner import parse_scenario, plan

    doc["objective"] = {"minimize": objective}
    return plan(parse_scenario(doc)).latency_ms


def resnet110_doc(blocks: int = 55, seed: int = 2) -> dict[str, Any]:
    """A ResNet-110-sized chain: `blocks` residual blocks, every contiguous segment profiled, two exits."""
    rng = np.random.default_rng(seed)
    layers = [_layer(rng, f"block{i}") for i in range(blocks)]
    segments = []
    for s in range(blocks):
        for f in range(s, blocks):
            total = {
                t: sum(layers[i]["latency_ms"][t] for i in range(s, f + 1))
                for t in ("device", "edge", "cloud")
            }
            segments.append(
                {
                    "first": f"block{s}",
                    "last": f"block{f}",
                    "latency_ms": {t: v * 0.93 for t, v in total.items()},
                }
            )
    exits = [
        {
            "after": f"block{blocks // 3}",
            "exit_rate": 0.4,
            "output_bytes": 400.0,
            "latency_ms": {"device": 0.8},
        },
        {"after": f"block{2 * blocks // 3}", "exit_rate": 0.3, "output_bytes": 400.0},
    ]
    exits[0]["latency_ms"] = {"device": 0.8, "edge": 0.05, "cloud": 0.02}
    return _doc("resnet110", layers, segments=segments, exits=exits)


def dag_doc(n: int, seed: int = 3) -> dict[str, Any]:
    """A DAG of n nodes: each reads the previous node, and every third also a skip from 2-4 nodes back."""
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(n):
        inputs = ["input"] if i == 0 else [f"n{i - 1}"]
        if i >= 4 and i % 3 == 0:
            inputs.append(f"n{i - int(rng.integers(2, 5))}")
        layers.append(_layer(rng, f"n{i}", inputs))
    return _doc(f"dag-{n}", layers)


def _time(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """(cpu ms, wall ms) per call. CPU time is the figure to read on a shared machine: wall time there
    includes waiting for other processes' turns."""
    cpu, wall = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000.0)
        wall.append((time.perf_counter() - start) * 1000.0)
    return cpu, wall


def bench_single(name: str, doc: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Cold and warm plan latency of one scenario."""
    from orchestrator.planner import parse_scenario, plan

    samples = 2 if repeat <= 2 else max(5, repeat // 10)
    parse_cpu, _ = _time(lambda: parse_scenario(doc), samples)
    cold, cold_wall = _time(lambda: plan(parse_scenario(doc)), samples)
    base = parse_scenario(doc)
    plan(base)
    rng = np.random.default_rng(7)
    variants = [
        base.with_links({"device->edge": {"bandwidth_mbps": float(rng.uniform(2, 80))}})
        for _ in range(repeat)
    ]
    it = iter(variants)
    warm, warm_wall = _time(lambda: plan(next(it)), repeat)
    median = statistics.median(warm)
    return {
        "case": name,
        "layers": len(doc["model"]["layers"]),
        "segments": len(doc["model"].get("segments", [])),
        "parse_cpu_ms_median": statistics.median(parse_cpu),
        "cold_cpu_ms_median": statistics.median(cold),
        "cold_wall_ms_median": statistics.median(cold_wall),
        "warm_cpu_ms_median": median,
        "warm_cpu_ms_p95": sorted(warm)[int(0.95 * (len(warm) - 1))],
        "warm_wall_ms_median": statistics.median(warm_wall),
        "plans_per_s_cpu": 1000.0 / median,
        "target_ms": TARGETS_MS.get(name),
    }


def bench_fleet(devices: int = 100_000, case: str = "fleet-100k", dag: bool = False) -> dict[str, Any]:
    """A fleet replan: one 50-layer chain (or DAG), every device with its own device<->edge/cloud links."""
    from orchestrator.planner import parse_scenario, plan_fleet

    scn = parse_scenario(dag_doc(50) if dag else chain_doc(50))
    rng = np.random.default_rng(11)
    bandwidth = {
        "device->edge": rng.uniform(1, 100, devices),
        "edge->device": rng.uniform(5, 200, devices),
        "device->cloud": rng.uniform(1, 50, devices),
    }
    rtt = {"device->edge": rng.uniform(2, 40, devices), "device->cloud": rng.uniform(20, 120, devices)}
    plan_fleet(scn, {k: v[:100] for k, v in bandwidth.items()}, {k: v[:100] for k, v in rtt.items()})
    runs, wall = _time(lambda: plan_fleet(scn, bandwidth, rtt), 3)
    result = plan_fleet(scn, bandwidth, rtt)
    return {
        "case": case,
        "layers": 50,
        "devices": devices,
        "cpu_ms_median": statistics.median(runs),
        "wall_ms_median": statistics.median(wall),
        "devices_per_s_cpu": devices / statistics.median(runs) * 1000.0,
        "distinct_plans": len(set(result.tiers)),
        "target_ms": TARGETS_MS.get(case),
    }


def main(argv: list[str]) -> int:
    """Run every case, print a table (or JSON with --json); exit 0 (targets are reported, not enforced)."""
    parser = argparse.ArgumentParser(prog="continuum bench planner")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and a 10k fleet")
    parser.add_argument("--tiny", action="store_true", help="a smoke run: 2 repetitions, a 1k fleet (tests)")
    args = parser.parse_args(argv)
    import scipy.optimize  # noqa: F401  (loaded once here, so no case's cold figure includes the import)

    repeat = 2 if args.tiny else 20 if args.quick else 100
    results = [
        bench_single("chain-50", chain_doc(50), repeat),
        bench_single("chain-200", chain_doc(200), repeat),
        bench_single("chain-200-limited", limited_chain_doc(200), max(2, repeat // 5)),
        bench_single("resnet110-chain", resnet110_doc(), max(2, repeat // 5)),
        bench_single("dag-50", dag_doc(50), max(2, repeat // 5)),
        bench_single("dag-200", dag_doc(200), max(2, repeat // 10)),
        bench_fleet(1_000 if args.tiny else 10_000 if args.quick else 100_000),
        bench_fleet(1_000 if args.tiny else 10_000, "fleet-dag-10k", dag=True),
    ]
    if args.json:
        print(json.dumps({"area": "planner", "results": results}, indent=2))
        return 0
    print("median CPU ms per plan (wall ms in brackets; on a shared machine read CPU time)")
    print("  cold = parse + build + plan; warm = plan for new links on a parsed model (structure cached)")
    header = f"{'case':<16}{'layers':>7}{'parse':>8}{'cold':>16}{'warm':>16}"
    header += f"{'warm p95':>9}{'plans/s':>9}{'target':>8}"
    print(header)
    for r in results[:-2]:
        target = f"<{r['target_ms']:g}" if r["target_ms"] else "-"
        cold = f"{r['cold_cpu_ms_median']:.2f} ({r['cold_wall_ms_median']:.1f})"
        warm = f"{r['warm_cpu_ms_median']:.2f} ({r['warm_wall_ms_median']:.1f})"
        print(
            f"{r['case']:<16}{r['layers']:>7}{r['parse_cpu_ms_median']:>8.2f}{cold:>16}{warm:>16}"
            f"{r['warm_cpu_ms_p95']:>9.2f}{r['plans_per_s_cpu']:>9.0f}{target:>8}"
        )
    for fleet in results[-2:]:
        target = f"; target < {fleet['target_ms']:g} ms" if fleet["target_ms"] else ""
        kind = "DAG" if "dag" in fleet["case"] else "chain"
        print(
            f"{fleet['case']}: {fleet['devices']} devices x {fleet['layers']}-layer {kind}: "
            f"{fleet['cpu_ms_median']:.0f} ms CPU ({fleet['wall_ms_median']:.0f} ms wall, "
            f"{fleet['devices_per_s_cpu']:.0f} devices/s, {fleet['distinct_plans']} distinct plans{target})"
        )
    return 0
