"""TLS and mutual TLS on a broker configured with `--tls-dir`, using throwaway openssl certificates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.broker import ConfiguredBroker, Observer, Tls, mqtt_pub, write_config
from tests.security.certs import Pki, make_pki

pytestmark = pytest.mark.contract

F = "continuum/v1/f1"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA with server and client pairs."""
    return make_pki(tmp_path_factory.mktemp("pki"))


def _broker(pki: Pki, out: object, *extra: str) -> ConfiguredBroker:
    conf, port = write_config(out, "--tls-dir", str(pki.directory), *extra)  # type: ignore[arg-type]
    broker = ConfiguredBroker(conf, port)
    broker.start()
    return broker


@pytest.fixture(scope="module")
def tls_broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredBroker]:
    """Server-authenticated TLS; clients still log in with passwords."""
    broker = _broker(pki, tmp_path_factory.mktemp("tls"))
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def mtls_broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredBroker]:
    """Mutual TLS: a client certificate signed by the CA is required as well."""
    broker = _broker(pki, tmp_path_factory.mktemp("mtls"), "--require-client-cert")
    yield broker
    broker.stop()


def test_tls_client_trusting_the_ca_delivers(tls_broker: ConfiguredBroker, pki: Pki) -> None:
    observer = Observer(tls_broker.port, "orch", "secret-o", client_id="orch", tls=Tls(pki.ca))
    observer.start([f"{F}/#"])
    try:
        result = mqtt_pub(
            tls_broker.port, f"{F}/d1/state", "over-tls", user="d1", password="secret-1", tls=Tls(pki.ca)
        )
        assert result.returncode == 0, result.stderr
        assert observer.wait_for(lambda r: (f"{F}/d1/state", "over-tls") in r)
    finally:
        observer.stop()


def test_plaintext_client_cannot_use_the_tls_listener(tls_broker: ConfiguredBroker) -> None:
    result = mqtt_pub(tls_broker.port, f"{F}/d1/state", "plain", user="d1", password="secret-1")
    assert result.returncode != 0


def test_client_that_does_not_trust_the_server_refuses_it(
    tls_broker: ConfiguredBroker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stranger = make_pki(tmp_path_factory.mktemp("other-ca"), ca_name="someone-else")
    result = mqtt_pub(
        tls_broker.port, f"{F}/d1/state", "x", user="d1", password="secret-1", tls=Tls(stranger.ca)
    )
    assert result.returncode != 0


def test_tls_still_checks_passwords(tls_broker: ConfiguredBroker, pki: Pki) -> None:
    result = mqtt_pub(tls_broker.port, f"{F}/d1/state", "x", user="d1", password="wrong", tls=Tls(pki.ca))
    assert result.returncode == 5


def test_mtls_refuses_a_client_without_certificate(mtls_broker: ConfiguredBroker, pki: Pki) -> None:
    result = mqtt_pub(mtls_broker.port, f"{F}/d1/state", "x", user="d1", password="secret-1", tls=Tls(pki.ca))
    assert result.returncode != 0


def test_mtls_accepts_a_client_certificate_signed_by_the_ca(mtls_broker: ConfiguredBroker, pki: Pki) -> None:
    tls = Tls(pki.ca, pki.client_cert, pki.client_key)
    result = mqtt_pub(mtls_broker.port, f"{F}/d1/state", "x", user="d1", password="secret-1", tls=tls)
    assert result.returncode == 0, result.stderr


def test_mtls_refuses_a_certificate_from_another_ca(
    mtls_broker: ConfiguredBroker, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stranger = make_pki(tmp_path_factory.mktemp("rogue"), ca_name="rogue")
    tls = Tls(pki.ca, stranger.client_cert, stranger.client_key)
    result = mqtt_pub(mtls_broker.port, f"{F}/d1/state", "x", user="d1", password="secret-1", tls=tls)
    assert result.returncode != 0
