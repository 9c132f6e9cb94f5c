"""The operator API over TLS: a real grpc.aio server with a throwaway certificate, a verifying client."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import grpc
import pytest

from orchestrator.api.server import OperatorServer
from orchestrator.api.service import OperatorService, TokenCheck
from protos.v1 import operator_pb2, operator_pb2_grpc
from tests.support.operator_controls import ShardControls
from tests.unit.orchestrator.fleetkit import birth

pytestmark = [pytest.mark.contract]


def _certificate(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
async def test_tls_clients_that_trust_the_certificate_are_served(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path)
    controls: Any = ShardControls()
    controls.shard.apply([birth("tls-1")], 0.0)
    server = OperatorServer(
        OperatorService(controls.fleet, controls.events, controls, controls, TokenCheck([], [])),
        "127.0.0.1",
        0,
        str(cert),
        str(key),
    )
    await server.start()
    try:
        credentials = grpc.ssl_channel_credentials(cert.read_bytes())
        async with grpc.aio.secure_channel(f"localhost:{server.port}", credentials) as channel:
            stub: Any = operator_pb2_grpc.OperatorStub(channel)
            reply = await stub.ListDevices(operator_pb2.ListDevicesRequest(), timeout=5)
            assert [d.id for d in reply.devices] == ["tls-1"]
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Replan(operator_pb2.ReplanRequest(), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        async with grpc.aio.insecure_channel(f"localhost:{server.port}") as plain:
            with pytest.raises(grpc.aio.AioRpcError):
                await operator_pb2_grpc.OperatorStub(plain).ListDevices(
                    operator_pb2.ListDevicesRequest(), timeout=2
                )
    finally:
        await server.stop(0.5)
        controls.events.close()
