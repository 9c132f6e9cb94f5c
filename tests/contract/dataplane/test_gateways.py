"""InferenceHop gateways over real gRPC: split inference end to end, canonical status codes, the ladder."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest

from agents.dataplane import DeviceInference
from continuum_inference import zoo
from continuum_inference.hops import HopError, send_hop
from continuum_inference.runtime import SegmentRunner, example_inputs, session
from orchestrator.dataplane.routing import Overloaded, StageFailed
from protos.v1 import dataplane_pb2 as pb
from tests.contract.dataplane.conftest import Gateways, InProcessExecutor

pytestmark = pytest.mark.contract

MODEL = "mobilenetv2"


@pytest.fixture(scope="module")
def runner() -> SegmentRunner:
    return SegmentRunner(zoo.build(MODEL))


@pytest.fixture(scope="module")
def reference(runner: SegmentRunner) -> tuple[dict[str, np.ndarray], np.ndarray]:
    inputs = example_inputs(runner.cutter.model)
    return inputs, session(runner.cutter.model).run(None, inputs)[0]


def _thirds(n: int, first: str = "device", second: str = "edge", third: str = "cloud") -> list[str]:
    return [first] * (n // 3) + [second] * (n // 3) + [third] * (n - 2 * (n // 3))


def _device(runner: SegmentRunner, gateways: Gateways) -> DeviceInference:
    return DeviceInference(MODEL, runner, gateways.addresses)


def _executor(gateway: object) -> InProcessExecutor:
    executor = gateway.executor  # type: ignore[attr-defined]
    assert isinstance(executor, InProcessExecutor)
    return executor


async def test_split_inference_through_edge_and_cloud_equals_local_execution(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    inputs, expected = reference
    device = _device(runner, gateways)
    result = await device.infer(inputs, _thirds(len(runner.cutter.graph.names())), deadline_s=10.0)
    await device.close()
    assert result.outcome == "ok"
    assert result.placement == "device+edge+cloud"
    assert [s.tier for s in result.segments] == ["device", "edge", "cloud"]
    assert np.allclose(next(iter(result.outputs.values())), expected, atol=1e-4)


async def test_a_plan_that_returns_to_the_device_midway_is_served(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    inputs, expected = reference
    device = _device(runner, gateways)
    tiers = _thirds(len(runner.cutter.graph.names()), third="device")
    result = await device.infer(inputs, tiers, deadline_s=10.0)
    await device.close()
    assert (result.outcome, result.placement) == ("ok", "device+edge+device")
    assert np.allclose(next(iter(result.outputs.values())), expected, atol=1e-4)


def _header(runner: SegmentRunner, tiers: list[str], route: list[str], **extra: object) -> pb.HopHeader:
    names = runner.cutter.graph.names()
    return pb.HopHeader(request_id="r1", model=MODEL, layers=names, tiers=tiers, route=route, **extra)  # type: ignore[arg-type]


async def _status(
    address: str, header: pb.HopHeader, tensors: dict[str, np.ndarray], timeout_s: float = 5.0
) -> str:
    async with grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(HopError) as caught:
            await send_hop(channel, header, tensors, timeout_s)
    return caught.value.code


async def test_plan_with_mismatched_layers_and_tiers_is_invalid_argument(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    header = _header(runner, ["edge"], [])
    assert await _status(gateways.addresses["edge"], header, reference[0]) == "INVALID_ARGUMENT"


async def test_stage_of_another_tier_is_invalid_argument(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    n = len(runner.cutter.graph.names())
    header = _header(runner, ["cloud"] * n, [])
    assert await _status(gateways.addresses["edge"], header, reference[0]) == "INVALID_ARGUMENT"


async def test_hop_past_its_absolute_deadline_is_deadline_exceeded(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    n = len(runner.cutter.graph.names())
    header = _header(runner, ["edge"] * n, [], deadline_unix_ms=int(time.time() * 1000) - 1000)
    assert await _status(gateways.addresses["edge"], header, reference[0]) == "DEADLINE_EXCEEDED"


async def test_stage_slower_than_the_deadline_is_deadline_exceeded(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    _executor(gateways.edge).stall_s = 5.0
    n = len(runner.cutter.graph.names())
    header = _header(runner, ["edge"] * n, [])
    assert (
        await _status(gateways.addresses["edge"], header, reference[0], timeout_s=0.3) == "DEADLINE_EXCEEDED"
    )


async def test_full_worker_queues_are_resource_exhausted_and_counted(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    from prometheus_client import CollectorRegistry

    from orchestrator.dataplane.metrics import DataPlaneMetrics

    registry = CollectorRegistry()
    gateways.edge.observe = DataPlaneMetrics(registry).observe_hop
    _executor(gateways.edge).failure = lambda: Overloaded("all queues full")
    n = len(runner.cutter.graph.names())
    assert await _status(gateways.addresses["edge"], _header(runner, ["edge"] * n, []), reference[0]) == (
        "RESOURCE_EXHAUSTED"
    )
    labels = {"tier": "edge", "code": "RESOURCE_EXHAUSTED"}
    assert registry.get_sample_value("continuum_dataplane_hops_total", labels) == 1


async def test_unreachable_next_tier_is_unavailable_and_named(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    await gateways.servers["cloud"].stop(None)
    tiers = _thirds(len(runner.cutter.graph.names()), first="edge")
    header = _header(runner, tiers, ["edge", "cloud"][1:])
    async with grpc.aio.insecure_channel(gateways.addresses["edge"]) as channel:
        with pytest.raises(HopError) as caught:
            await send_hop(channel, header, reference[0], 5.0)
    assert caught.value.code == "UNAVAILABLE"
    assert caught.value.message.startswith("cloud:")


async def test_failing_edge_falls_back_to_cloud_direct(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    inputs, expected = reference
    _executor(gateways.edge).failure = lambda: StageFailed("edge worker died")
    device = _device(runner, gateways)
    result = await device.infer(inputs, _thirds(len(runner.cutter.graph.names())), deadline_s=10.0)
    await device.close()
    assert (result.outcome, result.rung, result.placement) == ("fallback", "cloud_direct", "device+cloud")
    assert np.allclose(next(iter(result.outputs.values())), expected, atol=1e-4)
    assert result.errors
    assert "UNAVAILABLE" in result.errors[0]


async def test_with_every_gateway_down_the_device_serves_the_request_alone(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    inputs, expected = reference
    for server in gateways.servers.values():
        await server.stop(None)
    device = _device(runner, gateways)
    result = await device.infer(inputs, _thirds(len(runner.cutter.graph.names())), deadline_s=5.0)
    await device.close()
    assert (result.outcome, result.placement) == ("fallback", "device")
    assert np.allclose(next(iter(result.outputs.values())), expected, atol=1e-4)


async def test_a_stalled_edge_past_the_deadline_still_gets_the_request_served(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    inputs, expected = reference
    _executor(gateways.edge).stall_s = 30.0
    device = _device(runner, gateways)
    result = await device.infer(inputs, _thirds(len(runner.cutter.graph.names())), deadline_s=0.5)
    await device.close()
    assert result.outcome == "fallback"
    assert result.outputs, "the request was not lost"
    assert np.allclose(next(iter(result.outputs.values())), expected, atol=1e-4)


async def test_request_loop_reports_every_request_and_learns_corrections(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    from agents.dataplane import request_loop
    from agents.dataplane.simulated import simulated_device

    device = simulated_device(
        MODEL, gateways.addresses, lambda _t: 1000.0, rtt_ms={"edge": 1.0, "cloud": 1.0}
    )
    tiers = _thirds(len(runner.cutter.graph.names()))
    seen: list[str] = []
    done = await request_loop(
        device, lambda: tiers, reference[0], lambda r: seen.append(r.outcome), interval_s=0.0, max_requests=3
    )
    await device.close()
    assert done == 3
    assert seen == ["ok", "ok", "ok"]
    assert device.corrections.factor("edge") != 1.0, "edge timings were folded into the corrections"


async def test_a_request_cut_short_by_shutdown_is_reported_lost(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    import asyncio

    from agents.dataplane import request_loop

    _executor(gateways.edge).stall_s = 30.0
    device = _device(runner, gateways)
    seen: list[str] = []
    tiers = _thirds(len(runner.cutter.graph.names()))
    task = asyncio.create_task(
        request_loop(device, lambda: tiers, reference[0], lambda r: seen.append(r.outcome))
    )
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await device.close()
    assert seen == ["lost"]


async def test_setting_stop_lets_the_request_in_flight_finish(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    import asyncio

    from agents.dataplane import request_loop

    device = _device(runner, gateways)
    stop = asyncio.Event()
    seen: list[str] = []

    def record(result: object) -> None:
        seen.append(result.outcome)  # type: ignore[attr-defined]
        stop.set()

    tiers = _thirds(len(runner.cutter.graph.names()))
    done = await request_loop(device, lambda: tiers, reference[0], record, interval_s=60.0, stop=stop)
    await device.close()
    assert (done, seen) == (1, ["ok"])


async def test_a_hop_starting_with_a_chunk_is_invalid_argument(gateways: Gateways) -> None:
    from protos.v1 import dataplane_pb2_grpc as pb_grpc

    async def requests():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield pb.HopMessage(chunk=pb.TensorChunk(tensor_index=0, data=b"\0" * 65536))

    async with grpc.aio.insecure_channel(gateways.addresses["edge"]) as channel:
        call = pb_grpc.InferenceHopStub(channel).Infer(requests(), timeout=5.0)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in call:
                pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_edge_far_slower_than_its_profile_is_reported_as_drift_once(
    runner: SegmentRunner, reference: tuple[dict[str, np.ndarray], np.ndarray], gateways: Gateways
) -> None:
    from agents.dataplane import Drift, ProfileCorrections
    from continuum_inference.profiles import load_profile

    profile = load_profile(MODEL)
    for layer in profile["layers"]:
        layer["latency_ms"]["edge"] /= 1000.0
    reported: list[Drift] = []
    device = DeviceInference(
        MODEL, runner, gateways.addresses, profile=profile,
        corrections=ProfileCorrections(min_samples=2), on_drift=reported.append,
    )  # fmt: skip
    tiers = _thirds(len(runner.cutter.graph.names()))
    for _ in range(3):
        await device.infer(reference[0], tiers, deadline_s=10.0)
    await device.close()
    keys = [d.key for d in reported]
    assert "edge" in keys
    assert len(keys) == len(set(keys)), "each drifting key is reported once, not on every request"
