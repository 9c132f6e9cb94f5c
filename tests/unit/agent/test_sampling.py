"""When the agent samples bandwidth: in-flight passive samples and the bounded active probe's rule."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pytest

from agents.dataplane import DeviceInference
from agents.probes.network import LinkMonitor
from agents.probes.passive import observe_inference, sample_sink
from agents.probes.sampling import InFlightMeter, PassiveSample, ProbeSchedule
from agents.probes.system import InferenceRecorder
from continuum_inference.hops import HopReply
from protos.v1 import dataplane_pb2 as pb


def test_a_steady_transfer_is_sampled_once_per_window_at_the_link_rate() -> None:
    meter = InFlightMeter(10.0, 1_000_000, window_s=0.25)
    samples = [meter.progress(int(125_000 * k * 0.1), 10.0 + k * 0.1) for k in range(1, 9)]  # 1 Mbps
    taken = [s for s in samples if s is not None]
    last = meter.finish(18.0)
    assert [round(s.at_s, 6) for s in taken] == [10.3, 10.6]
    assert all(s.mbps == pytest.approx(1.0) for s in taken)
    assert last is not None
    assert last.at_s == 18.0
    assert sum(s.nbytes for s in [*taken, last]) == 1_000_000


def test_a_stalled_transfer_reports_zero_while_it_stalls() -> None:
    meter = InFlightMeter(0.0, 500_000, window_s=0.25)
    assert meter.progress(100_000, 0.3) is not None
    stalled = meter.progress(100_000, 0.6)  # the timer: nothing acknowledged since
    assert stalled is not None
    assert (stalled.nbytes, stalled.mbps) == (0, 0.0)


def test_without_a_window_a_transfer_gives_one_sample_when_it_completes() -> None:
    meter = InFlightMeter(1.0, 200_000, window_s=None)
    assert meter.progress(100_000, 5.0) is None
    sample = meter.finish(3.0)
    assert sample == PassiveSample(3.0, 200_000, 2.0)
    assert meter.finish(4.0) is None, "finished once"


def test_small_transfers_and_short_last_windows_give_no_sample() -> None:
    small = InFlightMeter(0.0, 1000, window_s=0.25)
    assert small.progress(500, 1.0) is None
    assert small.finish(2.0) is None
    meter = InFlightMeter(0.0, 100_000, window_s=0.25)
    assert meter.progress(90_000, 0.25) is not None
    assert meter.finish(0.3) is None, "0.05 s is too short to be a rate"
    alone = InFlightMeter(0.0, 100_000, window_s=0.25)
    assert alone.finish(0.05) is not None, "a transfer shorter than a window still gives its one sample"


def test_the_active_probe_runs_only_on_an_idle_link_promptly_then_backing_off() -> None:
    schedule = ProbeSchedule(min_interval_s=1.0, max_interval_s=4.0)
    assert not schedule.due(10.0, 9.5, 9.0), "a passive sample since the last report: in use"
    probes = []
    for tick in range(11, 30):  # idle from here on: one report per second
        if schedule.due(float(tick), 9.5, tick - 1.0):
            schedule.ran(float(tick))
            probes.append(tick)
    assert probes == [11, 12, 14, 18, 22, 26], "prompt, then waits of 1, 2, 4 s capped at 4 s"
    assert schedule.due(31.0, 30.5, 30.0) is False, "used again"
    assert schedule.due(32.0, 30.5, 31.0), "idle again: the first probe is prompt"


@dataclass(frozen=True)
class _Segment:
    tier: str
    transfer_ms: float
    bytes_out: int


@dataclass(frozen=True)
class _Result:
    model: str
    outcome: str
    latency_ms: float
    segments: tuple[_Segment, ...]
    sampled: tuple[str, ...]


def test_a_transfer_sampled_in_flight_is_not_sampled_again_when_the_request_ends() -> None:
    monitor, recorder = LinkMonitor({}), InferenceRecorder()
    sample_sink(monitor)("edge", PassiveSample(4.0, 250_000, 1.0))  # 2 Mbps, in flight
    segments = (_Segment("device", 100.0, 125_000), _Segment("edge", 0.0, 4000))
    observe_inference(_Result("m", "ok", 40.0, segments, ("edge",)), monitor, recorder, 5.0)
    link = monitor.links["edge"]
    assert link.uplink.estimate == pytest.approx(2.0)
    assert link.last_passive_s["up"] == 4.0


async def test_the_device_samples_a_hop_while_it_is_in_flight_including_a_stall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fake hop sends half the tensor, stalls until a zero-byte sample was seen, then finishes."""
    samples: list[tuple[str, PassiveSample]] = []
    seen_stall = asyncio.Event()
    now = [0.0]

    def sink(tier: str, sample: PassiveSample) -> None:
        samples.append((tier, sample))
        if sample.nbytes == 0:
            seen_stall.set()

    async def fake_send_hop(
        channel: Any,
        header: pb.HopHeader,
        tensors: dict[str, np.ndarray],
        timeout_s: float,
        link: Any,
        chunk_bytes: int,
        on_progress: Callable[[int], None],
    ) -> HopReply:
        total = sum(int(a.nbytes) for a in tensors.values())
        on_progress(100)  # the header
        now[0] = 0.5
        on_progress(100 + total // 2)
        now[0] = 1.0  # the timer fires during the stall with nothing new acknowledged
        await seen_stall.wait()
        now[0] = 1.5
        on_progress(100 + total)
        return HopReply({}, (), 1500.0, total + 100, 0)

    monkeypatch.setattr("agents.dataplane.device.send_hop", fake_send_hop)
    device = DeviceInference(
        "m",
        cast(Any, None),
        {"edge": "127.0.0.1:9"},
        on_sample=sink,
        passive_window_s=0.01,
        clock=lambda: now[0],
    )
    tensors = {"x": np.zeros(100_000, dtype=np.uint8)}
    await asyncio.wait_for(device._send("edge", pb.HopHeader(), tensors, 5.0), 30.0)
    await device.close()
    assert {tier for tier, _ in samples} == {"edge"}
    assert samples[0][1] == PassiveSample(0.5, 50_000, 0.5)
    assert any(s.nbytes == 0 and s.at_s == 1.0 for _, s in samples), "the stall shows as ~0"
    assert samples[-1][1].at_s == 1.5
    assert sum(s.nbytes for _, s in samples) == 100_000
