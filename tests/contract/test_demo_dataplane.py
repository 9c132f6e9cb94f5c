"""`continuum demo` with the data plane: simulated devices run split inference along the plans they hold.

The demo runs as a subprocess (embedded broker, local Ray with tier resources, orchestrator, Ray tier
workers and gateways, 4 simulated devices of which 2 run real ONNX inference). On this machine's slow
cellular traces the orchestrator's own plans are mostly device-only, so the test pins two plans over the
operator API (the same path an operator takes) to force a cloud and an edge hop, waits until /metrics
counts requests on at least two placements, then stops the demo with SIGTERM: it must exit 0, report
no `lost` request in its final summary, and leave no process behind (Ray's included).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents.sim.dataplane import pick_devices, plan_tiers
from continuum_inference.profiles import load_profile
from orchestrator.dataplane.demo import site_loads
from orchestrator.dataplane.routing import WorkerLoad
from tests.support.ports import free_port

CLI = [sys.executable, "-m", "continuum_cli.main"]
_SERIES = re.compile(r"^continuum_inference_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.M)


def _labels(text: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', text))


def _requests(metrics_port: int) -> list[tuple[dict[str, str], float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        body = response.read().decode()
    return [(_labels(m["labels"]), float(m["value"])) for m in _SERIES.finditer(body)]


def _eventually(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"never happened within {timeout:.0f} s: {what}")


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc), so orphans can be checked after it exits."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, int, int]]:
    grpc_port, metrics_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    args = ["demo", "--headless", "--devices", "4", "--inference-devices", "2"]
    args += ["--grpc-port", str(grpc_port), "--metrics-port", str(metrics_port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*CLI, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=tmp_path,
        )
    try:
        yield process, log, grpc_port, metrics_port
    finally:
        if process.poll() is None:  # the test failed before stopping it: leave nothing behind
            below = _descendants(process.pid)
            process.kill()
            process.wait(timeout=10)
            for pid in below:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def _pin(grpc_port: int, token: str, device: str, model: str, tiers: list[str]) -> None:
    target = ["--target", f"127.0.0.1:{grpc_port}", "--token", token]
    subprocess.run(
        [*CLI, "fleet", "pin", device, model, "--tiers", ",".join(tiers), *target],
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.mark.contract
@pytest.mark.slow
def test_demo_serves_split_inference_on_several_placements_and_stops_cleanly(
    demo: tuple[subprocess.Popen[bytes], Path, int, int],
) -> None:
    process, log, grpc_port, metrics_port = demo
    _eventually(lambda: "operator token:" in log.read_text(), "the demo reports it is up", 60)
    text = log.read_text()
    token = re.search(r"operator token: (\S+)", text)
    assert token is not None
    assert "sim-000 mobilenetv2" in text, text
    assert "sim-002 resnet18" in text, text

    # Only the classifier remote: a few KB cross the (slow, trace-driven) uplink, so the hops make the
    # deadline whatever the traces do. mobilenetv2 goes straight to the cloud, resnet18 to the edge.
    mobilenet = len(load_profile("mobilenetv2")["layers"])
    resnet = len(load_profile("resnet18")["layers"])
    _pin(grpc_port, token.group(1), "sim-000", "mobilenetv2", ["device"] * (mobilenet - 1) + ["cloud"])
    _pin(grpc_port, token.group(1), "sim-002", "resnet18", ["device"] * (resnet - 1) + ["edge"])

    def pinned_placements_served() -> bool:
        served = {labels["placement"] for labels, n in _requests(metrics_port) if labels["outcome"] == "ok"}
        return {"device+edge", "device+cloud"} <= served

    _eventually(pinned_placements_served, "ok requests counted on both pinned placements", 45)
    series = _requests(metrics_port)
    assert not [labels for labels, n in series if labels["outcome"] == "lost" and n > 0], series

    below = _descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    _eventually(lambda: not [pid for pid in below if _alive(pid)], "every child process has exited", 20)
    summary = re.search(r"split inference: (.*)", log.read_text())
    assert summary is not None, log.read_text()[-3000:]
    assert " lost:" not in summary.group(1), summary.group(1)
    assert " ok:" in summary.group(1), summary.group(1)


def test_inference_devices_are_spread_over_the_fleet() -> None:
    assert pick_devices(4, 2) == [0, 2]
    assert pick_devices(20, 4) == [0, 5, 10, 15]
    assert pick_devices(3, 5) == [0, 1, 2]
    assert pick_devices(4, 0) == []


def test_a_held_plan_is_mapped_onto_the_model_layers_and_down_the_ladder() -> None:
    layers = ["a", "b", "c"]
    assert plan_tiers(layers, ["c", "a", "b"], ["cloud", "device", "edge"], ["edge", "cloud"]) == (
        "device",
        "edge",
        "cloud",
    )
    assert plan_tiers(layers, ["a", "b", "c"], ["device", "edge", "cloud"], ["edge"]) == (
        "device",
        "edge",
        "edge",
    )
    assert plan_tiers(layers, ["a", "b"], ["edge", "edge"], ["edge"]) == ("device", "device", "device")


def test_worker_loads_sum_per_site_into_tier_load() -> None:
    loads = {
        ("m1", "edge", "site-a"): WorkerLoad(3, 2),
        ("m2", "edge", "site-a"): WorkerLoad(1, 2),
        ("m1", "cloud", "cloud"): WorkerLoad(0, 2),
    }
    figures = site_loads(loads)
    assert figures[("edge", "site-a")] == {"workers": 2, "capacity": 4, "queue_depth": 1, "utilisation": 1.0}
    assert figures[("cloud", "cloud")] == {"workers": 1, "capacity": 2, "queue_depth": 0, "utilisation": 0.0}
