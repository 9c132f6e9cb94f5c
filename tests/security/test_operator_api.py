"""Operator API security on the real `continuum orchestrator` process: reads are open, every mutation needs
the operator token (missing or unknown -> UNAUTHENTICATED, read-only -> PERMISSION_DENIED), and the API
serves TLS with a throwaway certificate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from protos.v1 import operator_pb2, operator_pb2_grpc
from tests.faults.support import OrchestratorProcess
from tests.security.certs import Pki, make_pki
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract

OPERATOR = "op-token-123"
READONLY = "ro-token-456"

MUTATIONS: dict[str, Callable[[], object]] = {
    "PinPlan": lambda: operator_pb2.PinPlanRequest(device_id="dev-1", model="alexnet", tiers=["device"]),
    "UnpinPlan": lambda: operator_pb2.UnpinPlanRequest(device_id="dev-1", model="alexnet"),
    "DrainDevice": lambda: operator_pb2.DrainDeviceRequest(device_id="dev-1", drained=True),
    "DrainSite": lambda: operator_pb2.DrainSiteRequest(site="default", drained=True),
    "Replan": lambda: operator_pb2.ReplanRequest(device_id=""),
    "RequestRebirth": lambda: operator_pb2.RebirthRequest(device_id="dev-1"),
}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A plain broker for the orchestrators of this module."""
    running = MosquittoBroker(tmp_path_factory.mktemp("broker"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def orchestrator(
    broker: MosquittoBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OrchestratorProcess]:
    """The orchestrator with one operator token and one read-only token."""
    process = OrchestratorProcess(
        tmp_path_factory.mktemp("orchestrator"),
        broker.port,
        "secure",
        token=OPERATOR,
        extra={"api": {"readonly_tokens": [READONLY]}},
    )
    process.start()
    yield process
    process.stop()


def _call(target: str, method: str, request: object, token: str | None) -> grpc.StatusCode:
    metadata = (("authorization", token),) if token is not None else None
    with grpc.insecure_channel(target) as channel:
        stub = operator_pb2_grpc.OperatorStub(channel)
        try:
            getattr(stub, method)(request, timeout=5, metadata=metadata)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("method", sorted(MUTATIONS))
def test_mutation_without_token_is_unauthenticated(orchestrator: OrchestratorProcess, method: str) -> None:
    assert _call(orchestrator.target, method, MUTATIONS[method](), None) == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", sorted(MUTATIONS))
@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", f"Basic {OPERATOR}", "Bearer ", OPERATOR, f"Bearer {OPERATOR}x"]
)
def test_mutation_with_a_bad_token_is_unauthenticated(
    orchestrator: OrchestratorProcess, method: str, header: str
) -> None:
    assert _call(orchestrator.target, method, MUTATIONS[method](), header) == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", sorted(MUTATIONS))
def test_mutation_with_read_only_token_is_permission_denied(
    orchestrator: OrchestratorProcess, method: str
) -> None:
    code = _call(orchestrator.target, method, MUTATIONS[method](), f"Bearer {READONLY}")
    assert code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("method", sorted(MUTATIONS))
def test_mutation_with_operator_token_passes_authorisation(
    orchestrator: OrchestratorProcess, method: str
) -> None:
    code = _call(orchestrator.target, method, MUTATIONS[method](), f"Bearer {OPERATOR}")
    assert code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)


def test_reads_need_no_token(orchestrator: OrchestratorProcess) -> None:
    assert (
        _call(orchestrator.target, "ListDevices", operator_pb2.ListDevicesRequest(), None)
        == grpc.StatusCode.OK
    )
    assert (
        _call(orchestrator.target, "ListTiers", operator_pb2.ListTiersRequest(), None) == grpc.StatusCode.OK
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Throwaway CA and server pair (SAN 127.0.0.1)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_orchestrator(
    broker: MosquittoBroker, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OrchestratorProcess]:
    """The orchestrator serving its API over TLS only."""
    process = OrchestratorProcess(
        tmp_path_factory.mktemp("tls-orchestrator"),
        broker.port,
        "secure-tls",
        token=OPERATOR,
        extra={"api": {"tls_cert": str(pki.server_cert), "tls_key": str(pki.server_key)}},
    )
    process.start()
    yield process
    process.stop()


def _tls_call(
    target: str, ca: Path, request_token: str | None = None, method: str = "ListDevices"
) -> grpc.StatusCode:
    credentials = grpc.ssl_channel_credentials(root_certificates=ca.read_bytes())
    metadata = (("authorization", request_token),) if request_token else None
    request = operator_pb2.ListDevicesRequest() if method == "ListDevices" else MUTATIONS[method]()
    with grpc.secure_channel(target, credentials) as channel:
        stub = operator_pb2_grpc.OperatorStub(channel)
        try:
            getattr(stub, method)(request, timeout=5, metadata=metadata)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_tls_client_trusting_the_ca_is_served(tls_orchestrator: OrchestratorProcess, pki: Pki) -> None:
    assert _tls_call(tls_orchestrator.target, pki.ca) == grpc.StatusCode.OK


def test_tls_still_requires_the_operator_token(tls_orchestrator: OrchestratorProcess, pki: Pki) -> None:
    assert _tls_call(tls_orchestrator.target, pki.ca, None, "Replan") == grpc.StatusCode.UNAUTHENTICATED
    assert _tls_call(tls_orchestrator.target, pki.ca, f"Bearer {OPERATOR}", "Replan") == grpc.StatusCode.OK


def test_plaintext_client_cannot_talk_to_the_tls_api(tls_orchestrator: OrchestratorProcess) -> None:
    code = _call(tls_orchestrator.target, "ListDevices", operator_pb2.ListDevicesRequest(), None)
    assert code == grpc.StatusCode.UNAVAILABLE


def test_client_that_does_not_trust_the_server_refuses_it(
    tls_orchestrator: OrchestratorProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stranger = make_pki(tmp_path_factory.mktemp("stranger"), ca_name="stranger")
    assert _tls_call(tls_orchestrator.target, stranger.ca) == grpc.StatusCode.UNAVAILABLE
