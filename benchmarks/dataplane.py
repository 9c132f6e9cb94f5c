"""`continuum bench dataplane`: split inference measured through the real path (gRPC gateways, Ray workers).

0. Calibration: the fixed per-hop overhead of each remote tier (gateway + Ray call, a 5 KB hop) is measured
   and given to the planner as that tier's `queue_ms`, so plans account for the data path's own cost.
1. For AlexNet, ResNet-18 and MobileNetV2 at DADS's uplink rates (CAT1 0.13, 3G 1.1, 4G 5.85, WiFi 18.88
   Mbps), the planner's split vs device-only, edge-only and cloud-only: measured end-to-end median latency
   (and the cost model's prediction). The device is this machine slowed by `--device-slowdown` (EMULATED:
   each device stage really runs, then waits (slowdown - 1) x its time); its uplink is an EMULATED token
   bucket at the given rate with the stated RTTs. Edge and cloud workers are Ray actors on this machine, so
   their profile figures are this machine's (the shipped cloud factor is undone). Configurations whose
   prediction exceeds `--max-predicted-s` are not run (shown as `-`, with the prediction).
2. Data-path overhead for a ~0.8 MB activation (ResNet-18 cut after pool1): measured latency vs the physical
   bound (measured compute + bytes / bandwidth + RTT), target <= 10 %.
3. Gateway requests/s: closed loop, 8 concurrent requests through the edge gateway and a Ray worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

DADS_RATES_MBPS = {"CAT1": 0.13, "3G": 1.1, "4G": 5.85, "WiFi": 18.88}
MODELS = ("alexnet", "resnet18", "mobilenetv2")
RTT_MS = {"device->edge": 10.0, "device->cloud": 40.0, "edge->cloud": 1.0}
OVERHEAD_TARGET = 0.10


def scenario(
    model: str, uplink_mbps: float, slowdown: float, queue_ms: dict[str, float] | None = None
) -> dict[str, Any]:
    """The scenario the bench plans with: shipped profile, emulated device speed, DADS uplink, and the
    measured per-entry overhead of each remote tier (gateway + Ray call) as the planner's `queue_ms`."""
    from continuum_inference.profiles import SHIPPED_TIERS, load_profile

    profile = load_profile(model)
    scale = {"device": slowdown / SHIPPED_TIERS["device"], "edge": 1.0, "cloud": 1.0 / SHIPPED_TIERS["cloud"]}
    for entry in [*profile["layers"], *profile.get("segments", [])]:
        entry["latency_ms"] = {t: ms * scale[t] for t, ms in entry["latency_ms"].items()}
    links = {
        "device->edge": {"bandwidth_mbps": uplink_mbps, "rtt_ms": RTT_MS["device->edge"]},
        "edge->device": {"bandwidth_mbps": uplink_mbps, "rtt_ms": RTT_MS["device->edge"]},
        "device->cloud": {"bandwidth_mbps": uplink_mbps, "rtt_ms": RTT_MS["device->cloud"]},
        "cloud->device": {"bandwidth_mbps": uplink_mbps, "rtt_ms": RTT_MS["device->cloud"]},
        "edge->cloud": {"bandwidth_mbps": 1000.0, "rtt_ms": RTT_MS["edge->cloud"]},
        "cloud->edge": {"bandwidth_mbps": 1000.0, "rtt_ms": RTT_MS["edge->cloud"]},
    }
    return {
        "format": "continuum.scenario/v1",
        "model": profile,
        "tiers": {
            "device": {"power_w": 4.0, "tx_power_w": 1.5},
            "edge": {"queue_ms": (queue_ms or {}).get("edge", 0.0)},
            "cloud": {"queue_ms": (queue_ms or {}).get("cloud", 0.0)},
        },
        "links": links,
        "objective": {"minimize": "latency"},
    }


async def _measure(device: Any, inputs: Any, tiers: Sequence[str], runs: int) -> tuple[float, str, list[Any]]:
    results = [await device.infer(inputs, tiers, deadline_s=120.0) for _ in range(runs + 1)][1:]
    bad = [r for r in results if r.outcome != "ok"]
    if bad:
        raise RuntimeError(f"{bad[0].placement}: {bad[0].outcome} {bad[0].errors}")
    return statistics.median(r.latency_ms for r in results), results[0].placement, results


def _device(model: str, runner: Any, addresses: dict[str, str], mbps: float, slowdown: float) -> Any:
    from agents.dataplane import DeviceInference
    from continuum_inference.linkemu import EmulatedLink

    links = {
        "edge": EmulatedLink.fixed(mbps, RTT_MS["device->edge"], downlink_mbps=mbps),
        "cloud": EmulatedLink.fixed(mbps, RTT_MS["device->cloud"], downlink_mbps=mbps),
    }
    return DeviceInference(model, runner, addresses, links=links, emulated_slowdown=slowdown)


async def _splits(args: argparse.Namespace, addresses: dict[str, str]) -> list[dict[str, Any]]:
    from continuum_inference import zoo
    from continuum_inference.runtime import SegmentRunner, example_inputs
    from orchestrator.planner import parse_scenario, plan

    rows = []
    for model in args.models:
        runner = SegmentRunner(zoo.build(model))
        inputs = example_inputs(runner.cutter.model)
        names = runner.cutter.graph.names()
        for rate_name, mbps in DADS_RATES_MBPS.items():
            chosen = plan(parse_scenario(scenario(model, mbps, args.device_slowdown, args.queue_ms)))
            configs = {
                "planned": ([chosen.assignment[n] for n in names], chosen.latency_ms),
                **{
                    f"{tier}_only": ([tier] * len(names), fig.latency_ms if fig is not None else float("inf"))
                    for tier in ("device", "edge", "cloud")
                    for fig in [chosen.alternatives.get(f"{tier}_only")]
                },
            }
            row: dict[str, Any] = {"model": model, "link": rate_name, "mbps": mbps}
            device = _device(model, runner, addresses, mbps, args.device_slowdown)
            done: dict[tuple[str, ...], tuple[float, str]] = {}
            for name, (tiers, predicted) in configs.items():
                measured = None
                placement = "+".join(dict.fromkeys(tiers)) if name != "planned" else ""
                if tuple(tiers) in done:  # the plan is one of the alternatives: one measurement for both
                    measured, placement = done[tuple(tiers)]
                elif predicted <= args.max_predicted_s * 1000:
                    measured, placement, _ = await _measure(device, inputs, tiers, args.runs)
                    done[tuple(tiers)] = (measured, placement)
                row[name] = {
                    "predicted_ms": round(predicted, 1),
                    "measured_ms": _r(measured),
                    "placement": placement,
                }
            await device.close()
            rows.append(row)
            if not args.json:
                print(_split_line(row), flush=True)
    return rows


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _split_line(row: dict[str, Any]) -> str:
    def cell(name: str) -> str:
        c = row[name]
        measured = "-" if c["measured_ms"] is None else f"{c['measured_ms']:.0f}"
        return f"{measured:>7} ({c['predicted_ms']:.0f})"

    return f"{row['model']:<12} {row['link']:<5} {row['planned']['placement']:<18} " + " ".join(
        cell(n) for n in ("planned", "device_only", "edge_only", "cloud_only")
    )


async def _overhead(args: argparse.Namespace, addresses: dict[str, str]) -> list[dict[str, Any]]:
    from continuum_inference import zoo
    from continuum_inference.runtime import SegmentRunner, example_inputs

    runner = SegmentRunner(zoo.build("resnet18"))
    inputs = example_inputs(runner.cutter.model)
    names = runner.cutter.graph.names()
    cut = names.index("pool1") + 1
    tiers = ["device"] * cut + ["edge"] * (len(names) - cut)
    rows = []
    for label, mbps in (("WiFi", DADS_RATES_MBPS["WiFi"]), ("100M", 100.0)):
        device = _device("resnet18", runner, addresses, mbps, 1.0)
        _, _, results = await _measure(device, inputs, tiers, args.runs)
        await device.close()
        ratios = []
        for result in results:
            sent = sum(s.bytes_out for s in result.segments if s.tier == "device")
            back = sum(int(a.nbytes) for a in result.outputs.values())
            compute = sum(s.compute_ms for s in result.segments)
            bound = compute + (sent + back) * 8 / (mbps * 1000) + RTT_MS["device->edge"]
            ratios.append((result.latency_ms, bound, sent))
        latency = statistics.median(r[0] for r in ratios)
        bound = statistics.median(r[1] for r in ratios)
        rows.append(
            {
                "link": label, "mbps": mbps, "activation_bytes": ratios[0][2],
                "measured_ms": round(latency, 1), "bound_ms": round(bound, 1),
                "overhead": round(latency / bound - 1, 4),
            }
        )  # fmt: skip
    return rows


async def _calibrate(addresses: dict[str, str], runs: int = 7) -> dict[str, float]:
    """Per-entry overhead of each remote tier: median (Ray round trip - compute + hop transfer), 5 KB hop."""
    import grpc

    from continuum_inference import zoo
    from continuum_inference.hops import send_hop
    from continuum_inference.runtime import SegmentRunner, example_inputs
    from protos.v1 import dataplane_pb2 as pb

    runner = SegmentRunner(zoo.build("mobilenetv2"))
    names = runner.cutter.graph.names()
    overhead = {}
    for tier in ("edge", "cloud"):
        tiers = ["device"] * (len(names) - 1) + [tier]
        first, _ = runner.cutter.stages(tiers)
        tensors = runner.run_stage(first, example_inputs(runner.cutter.model)).tensors
        header = pb.HopHeader(
            request_id="calibrate", model="mobilenetv2", layers=names, tiers=tiers, route=[]
        )
        samples = []
        async with grpc.aio.insecure_channel(addresses[tier]) as channel:
            for _ in range(runs + 1):
                reply = await send_hop(channel, header, tensors, 10.0)
                samples.append(reply.transfer_ms + sum(s.queue_ms for s in reply.segments))
        overhead[tier] = round(statistics.median(samples[1:]), 2)
    return overhead


async def _throughput(args: argparse.Namespace, addresses: dict[str, str]) -> list[dict[str, Any]]:
    import grpc

    from continuum_inference import zoo
    from continuum_inference.hops import send_hop
    from continuum_inference.runtime import SegmentRunner, example_inputs
    from protos.v1 import dataplane_pb2 as pb

    runner = SegmentRunner(zoo.build("mobilenetv2"))
    inputs = example_inputs(runner.cutter.model)
    names = runner.cutter.graph.names()
    head_on_edge = ["device"] * (len(names) - 1) + ["edge"]
    first, _ = runner.cutter.stages(head_on_edge)
    cases = (
        ("classifier hop (5 KB in)", head_on_edge, runner.run_stage(first, inputs).tensors),
        ("whole MobileNetV2 hop (602 KB in)", ["edge"] * len(names), inputs),
    )
    rows = []
    async with grpc.aio.insecure_channel(addresses["edge"]) as channel:
        for label, tiers, tensors in cases:
            header = pb.HopHeader(
                request_id="bench", model="mobilenetv2", layers=names, tiers=tiers, route=[]
            )
            await send_hop(channel, header, tensors, 10.0)
            count = 0
            stop_at = time.perf_counter() + args.throughput_s

            async def client(
                header: pb.HopHeader = header, tensors: dict[str, Any] = tensors, stop_at: float = stop_at
            ) -> None:
                nonlocal count
                while time.perf_counter() < stop_at:
                    await send_hop(channel, header, tensors, 10.0)
                    count += 1

            start = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(args.concurrency)))
            rows.append({"case": label, "requests_per_s": round(count / (time.perf_counter() - start), 1)})
    return rows


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from orchestrator.dataplane.services import DataPlane, DataPlaneSettings

    models = tuple(dict.fromkeys([*args.models, "resnet18", "mobilenetv2"]))
    plane = DataPlane(DataPlaneSettings(models=models, max_queue=64))
    started = time.perf_counter()
    await plane.start()
    if not args.json:
        print(f"data plane up in {time.perf_counter() - started:.1f} s: {plane.addresses}")
        print(
            f"device = this machine x{args.device_slowdown} (emulated); RTT device->edge "
            f"{RTT_MS['device->edge']:.0f} ms, device->cloud {RTT_MS['device->cloud']:.0f} ms"
        )
    try:
        args.queue_ms = await _calibrate(plane.addresses)
        if not args.json:
            print(f"measured per-hop overhead (gateway + Ray), planned as tier queue_ms: {args.queue_ms}")
            print(
                "median ms measured (cost-model prediction); '-' = not run, prediction over "
                f"{args.max_predicted_s:.0f} s"
            )
            print(f"{'model':<12} {'link':<5} {'planned placement':<18} {'planned':>15} {'device-only':>15} "
                  f"{'edge-only':>15} {'cloud-only':>15}")  # fmt: skip
        splits = await _splits(args, plane.addresses)
        overhead = await _overhead(args, plane.addresses)
        throughput = await _throughput(args, plane.addresses)
    finally:
        await plane.stop()
    return {"queue_ms": args.queue_ms, "splits": splits, "overhead": overhead, "throughput": throughput}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the data-plane benchmark and print its tables (or JSON)."""
    parser = argparse.ArgumentParser(prog="continuum bench dataplane", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--runs", type=int, default=3, help="timed requests per configuration (median)")
    parser.add_argument(
        "--device-slowdown", type=float, default=10.0, help="emulated device: x slower than here"
    )
    parser.add_argument(
        "--max-predicted-s", type=float, default=3.0, help="skip configurations predicted slower"
    )
    parser.add_argument("--throughput-s", type=float, default=5.0, help="seconds per throughput case")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="concurrent clients in the throughput cases"
    )
    args = parser.parse_args(list(argv or []))
    import ray

    try:
        figures = asyncio.run(_run(args))
    finally:
        ray.shutdown()
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    print("\ndata-path overhead over the physical bound (ResNet-18 cut after pool1, device -> edge)")
    for row in figures["overhead"]:
        verdict = "ok" if row["overhead"] <= OVERHEAD_TARGET else "OVER TARGET"
        print(f"  {row['link']:<5} {row['mbps']:>6.2f} Mbps  {row['activation_bytes']} B  measured "
              f"{row['measured_ms']:.1f} ms  bound {row['bound_ms']:.1f} ms  overhead {row['overhead']:+.1%} "
              f"({verdict}, target <= {OVERHEAD_TARGET:.0%})")  # fmt: skip
    print(f"\ngateway throughput ({args.concurrency} concurrent clients, edge gateway + Ray worker here)")
    for row in figures["throughput"]:
        print(f"  {row['case']:<36} {row['requests_per_s']:>8.1f} requests/s")
    return 0
