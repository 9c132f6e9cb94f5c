"""`continuum bench orchestrator`: ingest rate, decision latency and memory, measured and printed.

1. ingest: a real Mosquitto on a free port, a publisher PROCESS flooding QoS 0 telemetry for `--devices`
   devices, the real orchestrator (MQTT on the asyncio loop, decode, sessions, local shard) in this
   process; figure: messages handled per second by the orchestrator (target >= 20k/s).
2. decision latency: 10k devices, `--decision-rate` telemetry/s; one device in ten alternates its
   bandwidth between 80 and 2 Mb/s every round so each of its messages changes its plan (confirmations=1,
   dwell 0); figure: p50/p99 from arrival to PlanUpdate published.
3. memory: `--rss-devices` simulated devices (births + telemetry, each planned) fed straight into local
   shards; figure: this process's resident memory (target < 1.5 GB at 100k).
Figures are as measured on the machine at hand; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.brokers import start_mosquitto

__all__ = ["main"]


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _publisher(port: int, devices: int, messages: int, mode: str, rate: float) -> None:
    """Child process: births for every device, then `messages` telemetry messages (QoS 0)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from protos.topics import device_topic
    from protos.v1 import control_pb2

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    ids = [f"b{i:06d}" for i in range(devices)]
    for device in ids:
        birth = control_pb2.DeviceBirth(
            protocol_version=1,
            device_id=device,
            fleet="bench",
            bd_seq=1,
            site="default",
            capabilities=control_pb2.Capabilities(speed_factor=4.0),
            models=[control_pb2.ModelInfo(name="alexnet")],
        )
        client.publish(device_topic("bench", device, "birth"), birth.SerializeToString(), qos=1)
    time.sleep(2.0)
    topics = [device_topic("bench", d, "state") for d in ids]
    seqs = [0] * devices
    start = time.perf_counter()
    for n in range(messages):
        d = n % devices
        round_ = n // devices
        moving = mode == "alternate" and d % 10 == 0
        mbps = (80.0 if round_ % 2 == 0 else 2.0) if moving else 50.0
        message = control_pb2.Telemetry(
            protocol_version=1,
            seq=seqs[d],
            bd_seq=1,
            links=[
                control_pb2.LinkEstimate(target="edge", rtt_ms=10.0, uplink_mbps=mbps, downlink_mbps=mbps)
            ],
        )
        seqs[d] = (seqs[d] + 1) % 256
        client.publish(topics[d], message.SerializeToString(), qos=0)
        if rate > 0:
            ahead = (n + 1) / rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()


# Over 60 lines: one measurement, start to finish (broker, orchestrator, fleet, load, teardown), reads
# best in the order it happens; its pieces share a dozen locals.
async def _run_orchestrator(
    port: int, devices: int, messages: int, mode: str, rate: float, protocol: str = "auto", ray: bool = False
) -> dict[str, Any]:
    from orchestrator.app import build
    from orchestrator.settings import load_settings

    settings = load_settings(
        None,
        mqtt={
            "broker": f"127.0.0.1:{port}",
            "status_fleets": ["bench"],
            "queue_limit": 2_000_000,
            "protocol": protocol,
        },
        fleet={
            "stale_after_s": 600,
            "offline_after_s": 1200,
            "backend": "ray" if ray else "local",
            "shards": 2 if ray else 1,
        },
        replanning={"confirmations": 1, "min_dwell_s": 0.0, "relative": 0.05, "absolute_ms": 1.0},
        api={"port": 0},
        metrics={"port": -1},
    )
    app = build(settings)
    await app.startup()
    ctx = multiprocessing.get_context("spawn")
    publisher = ctx.Process(target=_publisher, args=(port, devices, messages, mode, rate))
    publisher.start()
    stats = app.stats
    try:
        deadline = time.monotonic() + 120
        while stats.outcomes.get("birth_new_session", 0) < devices:
            if time.monotonic() > deadline or (not publisher.is_alive() and not len(app.intake)):
                raise SystemExit(
                    f"only {stats.outcomes.get('birth_new_session', 0)}/{devices} births arrived"
                )
            await asyncio.sleep(0.05)
        stats.decision_latency.recent.clear()
        base = stats.outcomes.get("telemetry_accepted", 0)
        first_at: float | None = None
        cpu_at_first = 0.0
        idle_since = time.perf_counter()
        last = base
        while True:
            await asyncio.sleep(0.05)
            handled = stats.outcomes.get("telemetry_accepted", 0) + stats.outcomes.get("telemetry_gap", 0)
            if handled > last:
                if first_at is None:
                    first_at = time.perf_counter()
                    cpu_at_first = time.process_time()
                last, idle_since = handled, time.perf_counter()
            if handled - base >= messages or (first_at and time.perf_counter() - idle_since > 15.0):
                break
        done_at = idle_since
        cpu_s = max(1e-9, time.process_time() - cpu_at_first)
        got = last - base
        elapsed = max(1e-9, done_at - (first_at or done_at))
        return {
            "messages_sent": messages,
            "messages_handled": got,
            "handled_per_s": got / elapsed if got else 0.0,
            "handled_per_cpu_s": got / cpu_s if got else 0.0,
            "load_average_1m": os.getloadavg()[0],
            "dropped": app.intake.dropped,
            "decisions": stats.decision_latency.count,
            "decision_p50_ms": stats.decision_latency.percentile(0.5) * 1000,
            "decision_p99_ms": stats.decision_latency.percentile(0.99) * 1000,
            "plan_updates": stats.commands.get("plan_update", 0),
        }
    finally:
        publisher.join(timeout=60)
        if publisher.is_alive():
            publisher.kill()
        await app.shutdown()


def _rss(devices: int) -> dict[str, Any]:
    from orchestrator.app import shard_spec
    from orchestrator.domain.messages import Birth, Capabilities, Inbound, LinkSample, TelemetryReport
    from orchestrator.fleet.spec import build_shard
    from orchestrator.settings import load_settings

    before = _rss_bytes()
    shard = build_shard(shard_spec(load_settings(None)))
    caps = Capabilities(arch="aarch64", cpu_count=4, memory_bytes=4 << 30, speed_factor=4.0)
    start = time.perf_counter()
    for lo in range(0, devices, 5000):
        batch = []
        for i in range(lo, min(devices, lo + 5000)):
            device = f"m{i:07d}"
            birth = Birth(bd_seq=1, site="default", capabilities=caps, models=("alexnet",))
            batch.append(Inbound("birth", "bench", device, birth, 0.0))
            for seq in range(3):
                mbps = 5.0 + (i % 50) + seq
                telemetry = TelemetryReport(
                    bd_seq=1, seq=seq, links={"edge": LinkSample(12.0, mbps, mbps * 2, 0.0, "wifi")}
                )
                batch.append(Inbound("state", "bench", device, telemetry, 1.0 + seq))
        shard.apply(batch, 4.0)
    elapsed = time.perf_counter() - start
    after = _rss_bytes()
    return {
        "devices": devices,
        "online": shard.counts()["online"],
        "rss_bytes": after,
        "rss_growth_bytes": after - before,
        "seconds_to_ingest": elapsed,
    }


# Over 60 lines: the flags and the three measurements in the order they are printed.
def main(argv: list[str]) -> int:
    """Run the three measurements and print the figures (JSON with --json)."""
    parser = argparse.ArgumentParser(prog="continuum bench orchestrator")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--devices", type=int, default=1000, help="devices for the ingest run")
    parser.add_argument("--messages", type=int, default=200_000, help="telemetry messages for the ingest run")
    parser.add_argument("--decision-devices", type=int, default=10_000)
    parser.add_argument("--decision-messages", type=int, default=40_000)
    parser.add_argument("--decision-rate", type=float, default=1000.0, help="telemetry/s in the latency run")
    parser.add_argument("--rss-devices", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[], choices=["ingest", "decision", "rss"])
    parser.add_argument(
        "--protocol", default="auto", choices=["auto", "v5", "v311"], help="orchestrator MQTT version"
    )
    parser.add_argument("--ray", action="store_true", help="fleet shards in Ray actors (2 shards, local Ray)")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="continuum-bench-") as tmp:
        process, port = start_mosquitto(Path(tmp), max_queued_messages=1_000_000)
        try:
            if "ingest" not in args.skip:
                figures["ingest"] = asyncio.run(
                    _run_orchestrator(
                        port, args.devices, args.messages, "constant", 0, args.protocol, args.ray
                    )
                )
            if "decision" not in args.skip:
                figures["decision"] = asyncio.run(
                    _run_orchestrator(
                        port,
                        args.decision_devices,
                        args.decision_messages,
                        "alternate",
                        args.decision_rate,
                        args.protocol,
                        args.ray,
                    )
                )
        finally:
            process.terminate()
            process.wait(timeout=10)
    if "rss" not in args.skip:
        figures["rss"] = _rss(args.rss_devices)
    if args.json:
        print(json.dumps({"area": "orchestrator", "figures": figures}, indent=2))
        return 0
    if "ingest" in figures:
        f = figures["ingest"]
        print(
            f"ingest: {f['handled_per_s']:.0f} msg/s handled ({f['messages_handled']}/{f['messages_sent']} "
            f"messages, {f['dropped']} dropped; QoS 0, real Mosquitto; target >= 20000); "
            f"{f['handled_per_cpu_s']:.0f} msg per CPU-second of this process; "
            f"load average {f['load_average_1m']:.1f} on {os.cpu_count()} CPUs"
        )
    if "decision" in figures:
        f = figures["decision"]
        print(
            f"decision latency at {args.decision_devices} devices: p50 {f['decision_p50_ms']:.1f} ms, "
            f"p99 {f['decision_p99_ms']:.1f} ms over {f['decisions']} decisions "
            f"({args.decision_rate:.0f} telemetry/s; target p99 < 50 ms)"
        )
    if "rss" in figures:
        f = figures["rss"]
        print(
            f"memory: {f['rss_bytes'] / 2**20:.0f} MiB RSS with {f['devices']} devices "
            f"({f['rss_growth_bytes'] / 2**20:.0f} MiB for the fleet; "
            f"ingested in {f['seconds_to_ingest']:.1f} s; target < 1536 MiB)"
        )
    return 0
