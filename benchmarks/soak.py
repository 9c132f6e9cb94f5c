"""`continuum bench soak`: N simulated devices at 1 Hz against a real broker and the real orchestrator.

Starts Mosquitto (unless `--broker` names one) and `continuum orchestrator` as child processes, runs the
simulated fleet (agents.sim, the real agent protocol code) in this process for `--duration` seconds, and
samples the orchestrator's RSS and its /metrics while it runs. Prints messages sent vs received (births and
deaths are QoS 1; live telemetry is QoS 0 by the agent's design, buffered telemetry replays at QoS 1),
RSS growth after warm-up, and the decision latency p50/p99 from the orchestrator's own histogram.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.brokers import free_port, start_mosquitto, wait_port

__all__ = ["SoakReport", "main", "run_soak", "start_mosquitto", "start_orchestrator"]

FLEET = "soak"


@dataclass
class Sample:
    """One look at the orchestrator while the fleet runs."""

    elapsed_s: float
    rss_bytes: int
    received: float
    online: float


@dataclass
class SoakReport:
    """What a soak run measured."""

    devices: int
    duration_s: float
    interval_s: float = 1.0
    online_peak: int = 0
    telemetry_sent: int = 0
    births_sent: int = 0
    orchestrator_received: int = 0
    orchestrator_telemetry: int = 0
    orchestrator_births: int = 0
    orchestrator_deaths: int = 0
    rejected: int = 0
    dropped_queue_full: int = 0
    orchestrator_disconnects: int = 0
    rebirths_requested: int = 0
    births_by_outcome: dict[str, int] = field(default_factory=dict)
    rss_start_bytes: int = 0
    rss_end_bytes: int = 0
    rss_growth_percent: float = 0.0
    decision_p50_ms: float = 0.0
    decision_p99_ms: float = 0.0
    decisions: int = 0
    samples: list[Sample] = field(default_factory=list)

    @property
    def telemetry_lost(self) -> int:
        """Telemetry the fleet published that the orchestrator never handled (negative: duplicates)."""
        return self.telemetry_sent - self.orchestrator_telemetry

    @property
    def births_lost(self) -> int:
        """QoS 1 births the fleet published that the orchestrator never handled (negative when it resubscribed
        and the broker delivered the retained births again)."""
        return self.births_sent - self.orchestrator_births


def start_orchestrator(
    workdir: Path, broker: str, token: str = "", fleet: str = FLEET
) -> tuple[subprocess.Popen[bytes], int, int]:
    """`continuum orchestrator` as a child process; returns it with its metrics and gRPC ports."""
    metrics_port, grpc_port = free_port(), free_port()
    config = {
        "mqtt": {"broker": broker, "fleets": [fleet], "status_fleets": [fleet]},
        "api": {"port": grpc_port, "operator_tokens": [token] if token else []},
        "metrics": {"port": metrics_port},
    }
    path = workdir / "orchestrator.json"
    path.write_text(json.dumps(config))
    log = (workdir / "orchestrator.log").open("ab")
    argv = [
        sys.executable,
        "-m",
        "continuum_cli.main",
        "orchestrator",
        "--config",
        str(path),
        "--log-level",
        "WARNING",
    ]
    process = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        wait_port(metrics_port)
        wait_port(grpc_port)
    except TimeoutError:
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"the orchestrator did not start; see {workdir / 'orchestrator.log'}") from None
    return process, metrics_port, grpc_port


def _scrape(port: int) -> dict[str, float]:
    """Flattened samples of /metrics: `name{label=value,...}` -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    flat: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            flat[f"{sample.name}{{{labels}}}"] = float(sample.value)
    return flat


def _quantile_ms(metrics: dict[str, float], name: str, q: float) -> tuple[float, int]:
    """The q-quantile (ms) of a histogram, interpolated inside its bucket as PromQL's histogram_quantile
    does, and the histogram's count."""
    buckets: list[tuple[float, float]] = []
    for key, value in metrics.items():
        if key.startswith(f"{name}_bucket{{le="):
            text = key.split("le=", 1)[1].rstrip("}")
            buckets.append((float("inf") if text == "+Inf" else float(text), value))
    buckets.sort()
    total = int(metrics.get(f"{name}_count{{}}", 0))
    if not total:
        return 0.0, 0
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return float("inf"), total  # beyond the top bucket: only a lower bound is known
            inside = max(cumulative - below, 1e-12)
            return (lower + (upper - lower) * (rank - below) / inside) * 1000.0, total
        lower, below = upper, cumulative
    return lower * 1000.0, total


async def _soak(report: SoakReport, broker: str, metrics_port: int, pid: int, interval_s: float) -> None:
    import psutil

    from agents.sim.fleet import SimulatedFleet

    host, _, port = broker.rpartition(":")
    fleet = SimulatedFleet(host, int(port), FLEET, report.devices, telemetry_interval_s=interval_s)
    process = psutil.Process(pid)
    started = time.monotonic()
    await fleet.start()
    await fleet.wait_online(min(120.0, report.duration_s))
    # Warm-up: per-device link histories (60 samples) fill in the first minute; RSS growth counts after it.
    warm_until = started + min(report.duration_s / 2, max(60.0, report.duration_s * 0.2))
    sample_every = max(1.0, report.duration_s / 60)
    try:
        while (now := time.monotonic()) - started < report.duration_s:
            await asyncio.sleep(sample_every)
            metrics = await asyncio.to_thread(_scrape, metrics_port)
            rss = process.memory_info().rss
            sample = Sample(
                now - started,
                rss,
                metrics.get("continuum_mqtt_messages_received_total{}", 0.0),
                metrics.get("continuum_devices{state=online}", 0.0),
            )
            report.samples.append(sample)
            report.online_peak = max(report.online_peak, fleet.online_count)
            if now >= warm_until and not report.rss_start_bytes:
                report.rss_start_bytes = rss
            report.rss_end_bytes = rss
    finally:
        await fleet.stop()
    counters = fleet.counters()
    report.telemetry_sent = counters.get("telemetry_sent", 0) + counters.get("telemetry_replayed", 0)
    report.births_sent = counters.get("births", 0)


def run_soak(
    devices: int, duration_s: float, broker: str | None = None, interval_s: float = 1.0
) -> SoakReport:
    """Run one soak and return its figures (starts and stops everything it needs)."""
    report = SoakReport(devices, duration_s, interval_s)
    with tempfile.TemporaryDirectory(prefix="continuum-soak-") as tmp:
        workdir = Path(tmp)
        children: list[subprocess.Popen[bytes]] = []
        try:
            if broker is None:
                mosquitto, port = start_mosquitto(workdir)
                children.append(mosquitto)
                broker = f"127.0.0.1:{port}"
            orchestrator, metrics_port, _ = start_orchestrator(workdir, broker)
            children.append(orchestrator)
            asyncio.run(_soak(report, broker, metrics_port, orchestrator.pid, interval_s))
            time.sleep(2.0)  # let the orchestrator drain what is in flight
            final = _scrape(metrics_port)
        finally:
            for child in reversed(children):
                child.terminate()
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(timeout=10)
    report.orchestrator_received = int(final.get("continuum_mqtt_messages_received_total{}", 0))
    outcomes = {k: v for k, v in final.items() if k.startswith("continuum_telemetry_messages_total{")}
    report.orchestrator_telemetry = int(sum(v for k, v in outcomes.items() if "outcome=telemetry_" in k))
    report.orchestrator_births = int(sum(v for k, v in outcomes.items() if "outcome=birth_" in k))
    report.births_by_outcome = {
        k.split("outcome=", 1)[1].rstrip("}"): int(v) for k, v in outcomes.items() if "outcome=birth_" in k
    }
    report.orchestrator_disconnects = int(final.get("continuum_broker_disconnects_total{}", 0))
    report.rebirths_requested = int(final.get("continuum_commands_published_total{kind=rebirth}", 0))
    report.orchestrator_deaths = int(sum(v for k, v in outcomes.items() if "outcome=death_" in k))
    report.rejected = int(sum(v for k, v in outcomes.items() if "outcome=rejected_" in k))
    report.dropped_queue_full = int(
        final.get("continuum_telemetry_messages_total{outcome=dropped_queue_full}", 0)
    )
    if report.rss_start_bytes:
        report.rss_growth_percent = (
            100.0 * (report.rss_end_bytes - report.rss_start_bytes) / report.rss_start_bytes
        )
    report.decision_p50_ms, report.decisions = _quantile_ms(final, "continuum_decision_latency_seconds", 0.5)
    report.decision_p99_ms, _ = _quantile_ms(final, "continuum_decision_latency_seconds", 0.99)
    return report


def _ms(value: float) -> str:
    return "beyond the top bucket" if value == float("inf") else f"{value:.1f} ms"


def render(report: SoakReport) -> str:
    """The human-readable summary."""
    mib = 1024 * 1024

    def share(lost: int, sent: int) -> str:
        return f"{lost} lost ({100.0 * lost / max(sent, 1):.3f} %)"

    return "\n".join(
        [
            f"soak: {report.devices} devices, telemetry every {report.interval_s:g} s, "
            f"{report.duration_s:.0f} s (online peak {report.online_peak})",
            f"  telemetry (QoS 0 live, QoS 1 replay): sent {report.telemetry_sent}, handled by the "
            f"orchestrator {report.orchestrator_telemetry}: "
            f"{share(report.telemetry_lost, report.telemetry_sent)}",
            f"  births (QoS 1, retained): sent {report.births_sent}, handled {report.orchestrator_births} "
            f"{report.births_by_outcome} (retained births are delivered again on every resubscription)",
            f"  orchestrator broker disconnects {report.orchestrator_disconnects}; rebirths requested "
            f"{report.rebirths_requested}",
            f"  deaths handled {report.orchestrator_deaths}; MQTT messages received "
            f"{report.orchestrator_received}; rejected {report.rejected}; "
            f"dropped queue-full {report.dropped_queue_full}",
            f"  orchestrator RSS {report.rss_start_bytes / mib:.1f} MiB after warm-up -> "
            f"{report.rss_end_bytes / mib:.1f} MiB ({report.rss_growth_percent:+.1f} %)",
            f"  decision latency p50 {_ms(report.decision_p50_ms)}, p99 {_ms(report.decision_p99_ms)} "
            f"({report.decisions} decisions; interpolated in histogram buckets)",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `continuum bench soak [--devices N] [--duration S] [--broker HOST:PORT] [--json]`."""
    parser = argparse.ArgumentParser(prog="continuum bench soak", description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000, help="simulated devices (default 10000)")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--broker", default=None, help="use this broker instead of starting Mosquitto")
    parser.add_argument("--interval", type=float, default=1.0, help="telemetry interval per device (s)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    report = run_soak(args.devices, args.duration, args.broker, args.interval)
    if args.json:
        extra = {"telemetry_lost": report.telemetry_lost, "births_lost": report.births_lost}
        document = {k: (None if v == float("inf") else v) for k, v in {**asdict(report), **extra}.items()}
        print(json.dumps(document, indent=2))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
