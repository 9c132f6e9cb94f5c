"""`continuum bench agent`: how many simulated devices one core carries, and what one real agent costs.

Against a real Mosquitto on a free loopback port:
1. a SimulatedFleet of `--devices` devices (one MQTT connection each, 1 telemetry message/s each) in this
   process: CPU per message (process CPU time / messages sent over `--window` seconds), devices per core at
   1 msg/s (= 1 / CPU per message), the rate actually sustained, memory per device, the broker's CPU;
2. a real `continuum agent run` process: RSS when idle and CPU per telemetry message.
Figures are as measured on this run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.brokers import start_mosquitto

__all__ = ["main"]


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


async def _fleet(port: int, devices: int, window_s: float, broker_pid: int) -> dict[str, Any]:
    from agents.sim.fleet import SimulatedFleet

    rss_before = _rss_bytes(os.getpid())
    fleet = SimulatedFleet("127.0.0.1", port, "bench", devices, telemetry_interval_s=1.0)
    started = time.perf_counter()
    await fleet.start()
    online = await fleet.wait_online(timeout_s=120)
    connect_s = time.perf_counter() - started
    await asyncio.sleep(3.0)
    sent0, cpu0, broker0 = fleet.counters().get("telemetry_sent", 0), time.process_time(), _cpu_s(broker_pid)
    wall0 = time.perf_counter()
    await asyncio.sleep(window_s)
    wall = time.perf_counter() - wall0
    sent = fleet.counters().get("telemetry_sent", 0) - sent0
    cpu = time.process_time() - cpu0
    broker_cpu = _cpu_s(broker_pid) - broker0
    rss_after = _rss_bytes(os.getpid())
    stop0 = time.perf_counter()
    await fleet.stop()
    cpu_per_msg = cpu / max(sent, 1)
    return {
        "devices": devices,
        "online": online,
        "connect_all_s": round(connect_s, 2),
        "messages": sent,
        "rate_msg_s": round(sent / wall, 1),
        "rate_per_device_msg_s": round(sent / wall / max(devices, 1), 3),
        "cpu_core_fraction": round(cpu / wall, 3),
        "cpu_per_message_us": round(cpu_per_msg * 1e6, 1),
        "devices_per_core_at_1_msg_s": int(1.0 / cpu_per_msg) if sent else 0,
        "memory_per_device_kib": round((rss_after - rss_before) / max(devices, 1) / 1024, 1),
        "broker_cpu_core_fraction": round(broker_cpu / wall, 3),
        "clean_stop_s": round(time.perf_counter() - stop0, 2),
    }


def _single_agent(port: int, folder: Path, window_s: float) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "continuum_cli.main", "agent", "run", "--broker", f"127.0.0.1:{port}",
        "--fleet", "bench", "--device-id", "real-agent", "--state-dir", str(folder / "agent-state"),
        "--telemetry-interval", "1",
    ]  # fmt: skip
    log = (folder / "agent.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        time.sleep(8.0)  # start-up, the onnxruntime provider probe (a child process), first messages
        cpu0, wall0 = _cpu_s(process.pid), time.perf_counter()
        time.sleep(window_s)
        cpu = _cpu_s(process.pid) - cpu0
        wall = time.perf_counter() - wall0
        rss = _rss_bytes(process.pid)
    finally:
        process.terminate()
        process.wait(20)
    messages = wall / 1.0
    return {
        "rss_idle_mib": round(rss / 2**20, 1),
        "cpu_core_fraction": round(cpu / wall, 4),
        "cpu_per_message_ms": round(cpu / messages * 1e3, 2),
        "exit_status": process.returncode,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the agent benchmark and print its figures (text, or JSON with --json)."""
    parser = argparse.ArgumentParser(prog="continuum bench agent", description=__doc__)
    parser.add_argument("--devices", type=int, default=5000, help="simulated devices (default 5000)")
    parser.add_argument("--window", type=float, default=10.0, help="measurement window in seconds")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--skip-single", action="store_true", help="skip the single real agent")
    args = parser.parse_args(argv)
    _raise_fd_limit(2 * args.devices + 256)
    with tempfile.TemporaryDirectory(prefix="continuum-bench-agent-") as tmp:
        folder = Path(tmp)
        broker, port = start_mosquitto(folder, max_queued_messages=1000)
        try:
            fleet = asyncio.run(_fleet(port, args.devices, args.window, broker.pid))
            single = None if args.skip_single else _single_agent(port, folder, args.window)
        finally:
            broker.terminate()
            broker.wait(10)
    result = {"simulated_fleet": fleet, "single_agent": single, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"simulated fleet: {fleet['devices']} devices, {fleet['online']} online in {fleet['connect_all_s']} s"
    )
    print(
        f"  sustained {fleet['rate_msg_s']} msg/s ({fleet['rate_per_device_msg_s']} per device), "
        f"agent process at {fleet['cpu_core_fraction']:.0%} of a core, broker at "
        f"{fleet['broker_cpu_core_fraction']:.0%}"
    )
    print(
        f"  CPU per message {fleet['cpu_per_message_us']} us -> {fleet['devices_per_core_at_1_msg_s']} "
        f"devices per core at 1 msg/s; {fleet['memory_per_device_kib']} KiB per device"
    )
    if single is not None:
        print(
            f"single agent: RSS idle {single['rss_idle_mib']} MiB, CPU per telemetry message "
            f"{single['cpu_per_message_ms']} ms ({single['cpu_core_fraction']:.2%} of a core at 1 msg/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
