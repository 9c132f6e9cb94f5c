"""The orchestrator's own MQTT connection to a Mosquitto listener that requires client certificates.

Throwaway certificates come from openssl (`tests.security.certs.make_pki`). With `mqtt.tls_cert` /
`mqtt.tls_key` the orchestrator presents its certificate and gets a session; with only `mqtt.tls_ca`
the broker refuses the handshake and startup fails with an MqttError.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import build
from orchestrator.mqtt.connection import MqttError
from orchestrator.settings import OrchestratorSettings, load_settings
from tests.security.certs import Pki, make_pki
from tests.support.mosquitto import MosquittoBroker
from tests.unit.orchestrator.fleetkit import tiny_scenario

pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl CLI makes the test certificates"),
]


@pytest.fixture
def mtls_broker(tmp_path: Path) -> Iterator[tuple[MosquittoBroker, Pki]]:
    """A Mosquitto TLS listener that refuses clients without a certificate signed by the test CA."""
    pki = make_pki(tmp_path / "pki")
    config = (
        f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
        "require_certificate true\n" + ("user root\n" if os.geteuid() == 0 else "")
        # As root Mosquitto would switch to the `mosquitto` user, who cannot read the private tmp folder.
    )
    broker = MosquittoBroker(tmp_path / "mosquitto", extra_config=config)
    broker.start()
    try:
        yield broker, pki
    finally:
        broker.stop()


def settings(broker: MosquittoBroker, folder: Path, **tls: Any) -> OrchestratorSettings:
    """Local-backend orchestrator settings for `broker` (v5 only, so a refusal is reported quickly)."""
    scenario = folder / "tiny.json"
    scenario.write_text(json.dumps(tiny_scenario()))
    return load_settings(
        None,
        mqtt={"broker": broker.address, "status_fleets": ["f1"], "protocol": "v5", **tls},
        models=[{"name": "tiny", "scenario": str(scenario)}],
        api={"port": 0, "operator_tokens": ["op-token"]},
        metrics={"port": 0},
        events={"path": str(folder / "events.sqlite3")},
    )


async def test_with_a_client_certificate_the_orchestrator_joins_a_mutual_tls_listener(
    mtls_broker: tuple[MosquittoBroker, Pki], tmp_path: Path
) -> None:
    broker, pki = mtls_broker
    app = build(
        settings(
            broker,
            tmp_path,
            tls_ca=str(pki.ca),
            tls_cert=str(pki.client_cert),
            tls_key=str(pki.client_key),
        )
    )
    await app.startup()
    try:
        assert app.mqtt is not None
        assert app.mqtt.connected
    finally:
        await app.shutdown()


async def test_without_a_client_certificate_the_listener_refuses_the_orchestrator(
    mtls_broker: tuple[MosquittoBroker, Pki], tmp_path: Path
) -> None:
    broker, pki = mtls_broker
    app = build(settings(broker, tmp_path, tls_ca=str(pki.ca)))
    try:
        with pytest.raises(MqttError):
            await app.startup()
        assert app.mqtt is None or not app.mqtt.connected
    finally:
        await app.shutdown()


def test_a_client_certificate_without_its_key_is_rejected_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"tls_cert and mqtt\.tls_key go together"):
        load_settings(None, mqtt={"tls_cert": str(tmp_path / "client.crt")})
