"""The `helm test` hook's script, taken from the rendered Job, against a real gRPC health server and /metrics.

The servers are the standard ones the orchestrator uses (grpc_health's HealthServicer, prometheus_client's
exposition) on free loopback ports; the script runs as the Job runs it: `python -c SCRIPT` with its env.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry, Gauge, make_wsgi_app

from tests.chart.render import find, render

pytestmark = [pytest.mark.chart, pytest.mark.contract]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on stderr."""


@pytest.fixture
def health_server() -> Iterator[tuple[str, health.HealthServicer]]:
    servicer = health.HealthServicer()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        server.stop(grace=None).wait(5)


def metrics_server(registry: CollectorRegistry) -> tuple[WSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, make_wsgi_app(registry), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def registry() -> Iterator[tuple[CollectorRegistry, str]]:
    registry = CollectorRegistry()
    server, thread = metrics_server(registry)
    try:
        yield registry, f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run_hook(helm: str, target: str, metrics_url: str) -> subprocess.CompletedProcess[str]:
    job = find(render(helm), "Job")
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["python", "-c"]
    env = {"GRPC_TARGET": target, "METRICS_URL": metrics_url, "CHECK_TIMEOUT_S": "5"}
    return subprocess.run(
        [sys.executable, "-c", command[2]], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_hook_passes_on_a_serving_orchestrator_with_metrics(
    helm: str, health_server: tuple[str, health.HealthServicer], registry: tuple[CollectorRegistry, str]
) -> None:
    target, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    Gauge("continuum_devices", "Devices by state", ["state"], registry=registry[0]).labels("online").set(3)

    done = run_hook(helm, target, registry[1])

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SERVING" in done.stdout
    assert "continuum_ samples" in done.stdout


def test_hook_fails_when_the_orchestrator_is_not_serving(
    helm: str, health_server: tuple[str, health.HealthServicer], registry: tuple[CollectorRegistry, str]
) -> None:
    target, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)

    done = run_hook(helm, target, registry[1])

    assert done.returncode == 1
    assert "FAIL gRPC health" in done.stderr
    assert "NOT_SERVING" in done.stderr


def test_hook_fails_when_metrics_lack_continuum_series(
    helm: str, health_server: tuple[str, health.HealthServicer], registry: tuple[CollectorRegistry, str]
) -> None:
    target, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    done = run_hook(helm, target, registry[1])

    assert done.returncode == 1
    assert "no continuum_ samples" in done.stderr
