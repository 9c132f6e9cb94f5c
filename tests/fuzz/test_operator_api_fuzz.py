"""Fuzzing the Operator gRPC handlers on the real server: hostile ids, huge sizes and odd numbers get
canonical status codes (INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, ...), never INTERNAL or UNKNOWN."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protos.v1 import operator_pb2, operator_pb2_grpc
from tests.faults.support import OrchestratorProcess
from tests.fuzz.strategies import OPERATOR_REQUESTS
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract

TOKEN = "fuzz-operator-token"
CANONICAL = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
}
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[operator_pb2_grpc.OperatorStub]:
    """A stub on one channel to a real orchestrator (with a real broker behind it)."""
    broker = MosquittoBroker(tmp_path_factory.mktemp("broker"))
    broker.start()
    orchestrator = OrchestratorProcess(
        tmp_path_factory.mktemp("orchestrator"), broker.port, "fuzz", token=TOKEN
    )
    orchestrator.start()
    channel = grpc.insecure_channel(orchestrator.target)
    try:
        yield operator_pb2_grpc.OperatorStub(channel)
    finally:
        channel.close()
        orchestrator.stop()
        broker.stop()


def _code(stub: operator_pb2_grpc.OperatorStub, method: str, request: object, token: bool) -> grpc.StatusCode:
    metadata = (("authorization", f"Bearer {TOKEN}"),) if token else None
    try:
        getattr(stub, method)(request, timeout=10, metadata=metadata)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, object]:
    method = draw(st.sampled_from(sorted(OPERATOR_REQUESTS)))
    return method, draw(OPERATOR_REQUESTS[method])


@FUZZ
@given(calls(), st.booleans())
def test_every_operator_handler_answers_hostile_input_with_a_canonical_code(
    stub: operator_pb2_grpc.OperatorStub, call: tuple[str, object], token: bool
) -> None:
    method, request = call
    code = _code(stub, method, request, token)
    assert code in CANONICAL, f"{method} answered {code}"


def test_request_over_the_message_limit_is_resource_exhausted(stub: operator_pb2_grpc.OperatorStub) -> None:
    request = operator_pb2.PinPlanRequest(device_id="dev-1", model="alexnet", tiers=["edge"] * 2_000_000)
    assert _code(stub, "PinPlan", request, True) == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize("device_id", ["a/b", "+", "#", "a\x00b", "d" * 129, "", "-x"])
def test_hostile_device_ids_are_invalid_argument(
    stub: operator_pb2_grpc.OperatorStub, device_id: str
) -> None:
    assert _code(stub, "GetDevice", operator_pb2.GetDeviceRequest(device_id=device_id), False) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    request = operator_pb2.DrainDeviceRequest(device_id=device_id, drained=True)
    assert _code(stub, "DrainDevice", request, True) == grpc.StatusCode.INVALID_ARGUMENT


def test_watch_fleet_stream_starts_with_a_snapshot(stub: operator_pb2_grpc.OperatorStub) -> None:
    stream = stub.WatchFleet(operator_pb2.WatchFleetRequest(), timeout=5)
    first = next(iter(stream))
    stream.cancel()
    assert first.snapshot_done or first.HasField("upsert")
