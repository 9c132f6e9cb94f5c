"""The agent over mutual TLS to a real Mosquitto TLS listener (throwaway certificates from openssl)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from protos.v1 import control_pb2 as pb
from tests.contract.agent.conftest import agent_settings, keep_root, running_agent
from tests.support.mosquitto import MosquittoBroker

pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl CLI makes the test certificates"),
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    folder.mkdir(parents=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, cn in (("server", "127.0.0.1"), ("client", "dev-1")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        extra = ["-extfile", "san.ext"] if name == "server" else []
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *extra, cwd=folder)  # fmt: skip


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[MosquittoBroker, Path]]:
    pki = tmp_path / "pki"
    make_pki(pki)
    config = (
        f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\n"
        "require_certificate true\n" + keep_root()
    )
    broker = MosquittoBroker(tmp_path / "tls-mosquitto", extra_config=config)
    broker.start()
    try:
        yield broker, pki
    finally:
        broker.stop()


async def test_agent_connects_over_mutual_tls_and_publishes_its_birth(
    tls_broker: tuple[MosquittoBroker, Path], tmp_path: Path
) -> None:
    broker, pki = tls_broker
    tls = {
        "enabled": True,
        "ca_file": pki / "ca.crt",
        "cert_file": pki / "client.crt",
        "key_file": pki / "client.key",
    }
    settings = agent_settings(broker.port, tmp_path / "state", broker={"tls": tls})
    async with running_agent(settings) as agent:
        for _ in range(600):
            if agent.session.counters["births"] and agent.session.counters["telemetry_sent"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert agent.session.counters["births"] == 1
        assert agent.session.counters["telemetry_sent"] >= 2
        assert agent.connection.protocol == "5"
    birth_check = pb.DeviceBirth()
    assert birth_check.bd_seq == 0


async def test_agent_without_a_client_certificate_is_refused_and_keeps_retrying(
    tls_broker: tuple[MosquittoBroker, Path], tmp_path: Path
) -> None:
    broker, pki = tls_broker
    settings = agent_settings(
        broker.port, tmp_path / "state", broker={"tls": {"enabled": True, "ca_file": pki / "ca.crt"}}
    )
    async with running_agent(settings) as agent:
        for _ in range(600):
            if agent.session.counters["connect_failures"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert agent.session.counters["connect_failures"] >= 2
        assert agent.session.counters["births"] == 0
