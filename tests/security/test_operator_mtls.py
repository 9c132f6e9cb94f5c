"""Mutual TLS on the operator API: the orchestrator's own server and servicer (`OperatorServer`,
`OperatorService`) on a free port with `tls_client_ca`; only clients with a certificate signed by that CA
get through the handshake, and `continuum fleet` (--ca/--cert/--key) and the TUI client can present one."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pydantic import ValidationError

from orchestrator.api.server import OperatorServer
from orchestrator.api.service import OperatorService, TokenCheck
from protos.v1 import operator_pb2, operator_pb2_grpc
from tests.faults.support import OrchestratorProcess
from tests.security.certs import Pki, make_pki
from tests.support.mosquitto import MosquittoBroker
from tests.support.operator_controls import ShardControls
from tests.unit.orchestrator.fleetkit import birth
from tui.client import OperatorClient
from tui.errors import Disconnected
from tui.settings import TuiSettings

pytestmark = [pytest.mark.contract]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The CA that signs the server and the trusted client."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CA, with a client pair the server must not accept."""
    return make_pki(tmp_path_factory.mktemp("stranger"), ca_name="stranger-ca")


@pytest.fixture
async def server(pki: Pki) -> AsyncIterator[OperatorServer]:
    """The operator server on 127.0.0.1, port 0, requiring client certificates signed by `pki.ca`."""
    controls: Any = ShardControls()
    controls.shard.apply([birth("mtls-1"), birth("mtls-2")], 0.0)
    running = OperatorServer(
        OperatorService(controls.fleet, controls.events, controls, controls, TokenCheck([], [])),
        "127.0.0.1",
        0,
        str(pki.server_cert),
        str(pki.server_key),
        str(pki.ca),
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop(0.2)
        controls.events.close()


async def _list_devices(port: int, credentials: grpc.ChannelCredentials) -> list[str]:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        stub: Any = operator_pb2_grpc.OperatorStub(channel)
        reply = await stub.ListDevices(operator_pb2.ListDevicesRequest(), timeout=5)
        return sorted(d.id for d in reply.devices)


async def test_client_with_a_certificate_from_the_client_ca_is_served(
    server: OperatorServer, pki: Pki
) -> None:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pki.ca.read_bytes(),
        private_key=pki.client_key.read_bytes(),
        certificate_chain=pki.client_cert.read_bytes(),
    )
    assert await _list_devices(server.port, credentials) == ["mtls-1", "mtls-2"]


async def test_client_without_a_certificate_fails_the_handshake(server: OperatorServer, pki: Pki) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _list_devices(server.port, credentials)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_client_with_a_certificate_from_another_ca_fails_the_handshake(
    server: OperatorServer, pki: Pki, stranger: Pki
) -> None:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pki.ca.read_bytes(),
        private_key=stranger.client_key.read_bytes(),
        certificate_chain=stranger.client_cert.read_bytes(),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _list_devices(server.port, credentials)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_ca_without_a_server_pair_is_refused(pki: Pki) -> None:
    controls: Any = ShardControls()
    try:
        with pytest.raises(ValueError, match="tls_cert"):
            OperatorServer(
                OperatorService(controls.fleet, controls.events, controls, controls, TokenCheck([], [])),
                "127.0.0.1",
                0,
                tls_client_ca=str(pki.ca),
            )
    finally:
        controls.events.close()


async def _fleet_ls(port: int, *tls: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "continuum_cli.main", "fleet", "ls", "--target", f"127.0.0.1:{port}", *tls,
        "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_fleet_cli_presents_its_certificate(server: OperatorServer, pki: Pki, stranger: Pki) -> None:
    code, out, err = await _fleet_ls(
        server.port, "--ca", str(pki.ca), "--cert", str(pki.client_cert), "--key", str(pki.client_key)
    )
    assert code == 0, err
    assert sorted(d["id"] for d in json.loads(out)) == ["mtls-1", "mtls-2"]
    code, out, err = await _fleet_ls(server.port, "--ca", str(pki.ca))
    assert code == 1
    assert "no orchestrator answers" in err
    code, out, err = await _fleet_ls(server.port, "--ca", str(pki.ca), "--cert", str(pki.client_cert))
    assert code != 0
    assert "--cert and --key go together" in err


async def test_tui_client_presents_its_certificate(server: OperatorServer, pki: Pki) -> None:
    settings = TuiSettings(
        target=f"127.0.0.1:{server.port}",
        tls_ca=str(pki.ca),
        tls_cert=str(pki.client_cert),
        tls_key=str(pki.client_key),
    )
    client = OperatorClient(
        settings.target,
        tls_ca=settings.tls_ca,
        tls_cert=settings.tls_cert,
        tls_key=settings.tls_key,
    )
    try:
        assert sorted(row.id for row in await client.list_devices()) == ["mtls-1", "mtls-2"]
    finally:
        await client.close()
    without = OperatorClient(settings.target, tls_ca=settings.tls_ca)
    try:
        with pytest.raises(Disconnected):
            await without.list_devices()
    finally:
        await without.close()


def test_tui_settings_refuse_a_certificate_without_its_key(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="go together"):
        TuiSettings(tls_cert=str(pki.client_cert))


def test_orchestrator_process_requires_client_certificates_with_tls_client_ca(
    pki: Pki, tmp_path: Path
) -> None:
    broker = MosquittoBroker(tmp_path / "broker")
    broker.start()
    process = OrchestratorProcess(
        tmp_path / "orchestrator",
        broker.port,
        "mtls",
        extra={
            "api": {
                "tls_cert": str(pki.server_cert),
                "tls_key": str(pki.server_key),
                "tls_client_ca": str(pki.ca),
            }
        },
    )
    try:
        process.start()
        trusted = grpc.ssl_channel_credentials(
            pki.ca.read_bytes(), pki.client_key.read_bytes(), pki.client_cert.read_bytes()
        )
        anonymous = grpc.ssl_channel_credentials(pki.ca.read_bytes())
        codes = []
        for credentials in (trusted, anonymous):
            with grpc.secure_channel(process.target, credentials) as channel:
                try:
                    operator_pb2_grpc.OperatorStub(channel).ListDevices(
                        operator_pb2.ListDevicesRequest(), timeout=5
                    )
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    codes.append(exc.code())
        assert codes == [grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE]
    finally:
        process.stop()
        broker.stop()
