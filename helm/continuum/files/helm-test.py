"""`helm test` check, run in the Continuum image: gRPC health SERVING, then /metrics with continuum_ series.

Targets come from GRPC_TARGET (host:port) and METRICS_URL; exits non-zero with one line saying what failed.
"""

import os
import sys
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

target = os.environ["GRPC_TARGET"]
metrics_url = os.environ["METRICS_URL"]
timeout = float(os.environ.get("CHECK_TIMEOUT_S", "10"))

try:
    with grpc.insecure_channel(target) as channel:
        request = health_pb2.HealthCheckRequest(service="")
        reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout)
except grpc.RpcError as exc:
    sys.exit(f"FAIL gRPC health of {target}: {exc.code().name}: {exc.details()}")
status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
if reply.status != health_pb2.HealthCheckResponse.SERVING:
    sys.exit(f"FAIL gRPC health of {target}: {status}")
print(f"ok   gRPC health of {target}: {status}")

try:
    with urllib.request.urlopen(metrics_url, timeout=timeout) as response:
        body = response.read().decode("utf-8", "replace")
except OSError as exc:
    sys.exit(f"FAIL scraping {metrics_url}: {exc}")
samples = [line for line in body.splitlines() if line.startswith("continuum_")]
if not samples:
    sys.exit(f"FAIL {metrics_url} has no continuum_ samples")
print(f"ok   {metrics_url}: {len(samples)} continuum_ samples")
