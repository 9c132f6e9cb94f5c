"""DeviceInference: serve one model's requests on a device along a plan, with the fallback ladder.

The device runs its own stages with ONNX Runtime (in a thread, so the event loop stays free), sends the cut
activations to the gateway of the next tier with a deadline, and continues with whatever comes back. When a
path fails (an error status or a blown deadline) the next rung of the ladder is tried; device-only always
completes, so a request is never lost while the device runs. Each served request feeds its per-segment and
per-transfer timings into `ProfileCorrections`.

Passive bandwidth samples: with `on_sample` set, each transfer to a gateway is streamed in
`sample_chunk_bytes` chunks and measured WHILE IN FLIGHT (`agents.probes.sampling.InFlightMeter`: bytes the
stream has sent per `passive_window_s`, also on a timer so a stall reports ~0), and each sample goes to
`on_sample(tier, sample)` (e.g. `agents.probes.passive.sample_sink(monitor)`, the agent's estimators).

Two EMULATIONS, clearly named, let one machine stand in for slow devices on real networks: `links`
(token-bucket shaping of the device's uplink, see `continuum_inference.linkemu`) and `emulated_slowdown`
(after each device stage really ran, wait (slowdown - 1) times its compute time, as a device that much slower
would).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc
import numpy as np

from agents.dataplane.corrections import Drift, ProfileCorrections
from agents.dataplane.ladder import Rung, ladder, placement, usable
from agents.probes.sampling import PASSIVE_WINDOW_S, InFlightMeter, PassiveSample
from continuum_inference.cutting import Stage
from continuum_inference.hops import HopError, HopReply, SegmentTime, send_hop
from continuum_inference.linkemu import EmulatedLink
from continuum_inference.runtime import SegmentRunner
from protos.v1 import dataplane_pb2 as pb

__all__ = ["DeviceInference", "InferenceResult", "Outcome"]

Outcome = Literal["ok", "fallback", "error", "lost"]
TIERS = ("device", "edge", "cloud")


@dataclass(frozen=True)
class InferenceResult:
    """One request's result and what it took.

    outcome: ok (the planned path answered), fallback (a lower rung answered), error (every rung failed),
    lost (no answer: cancelled before any rung finished).
    """

    request_id: str
    model: str
    outputs: dict[str, np.ndarray]
    outcome: Outcome
    rung: str
    placement: str
    latency_ms: float
    segments: tuple[SegmentTime, ...]
    transfers_ms: dict[str, float]
    errors: tuple[str, ...]
    sampled: tuple[str, ...] = ()
    """Tiers whose uplink this request already sampled in flight (no end-of-transfer sample is due)."""


@dataclass
class DeviceInference:
    """The device side of one model's split inference."""

    model: str
    runner: SegmentRunner
    gateways: Mapping[str, str]
    """Tier name -> gateway address ("host:port") the device may call directly."""
    links: Mapping[str, EmulatedLink] = field(default_factory=dict)
    """Tier name -> EMULATED link from this device to that tier's gateway (none: unshaped loopback)."""
    emulated_slowdown: float = 1.0
    profile: Mapping[str, Any] | None = None
    """The scenario `model` object used for predictions; corrections need it."""
    corrections: ProfileCorrections = field(default_factory=ProfileCorrections)
    on_drift: Callable[[Drift], None] | None = None
    """Called once per key when its measurements drift from the profile: ask for a re-profile there."""
    site: str = ""
    """The edge site this device prefers (sent as HopHeader.site; empty: any site)."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    on_sample: Callable[[str, PassiveSample], None] | None = None
    """Receives in-flight uplink samples (tier, sample); None: no in-flight sampling."""
    passive_window_s: float | None = PASSIVE_WINDOW_S
    """Window of the in-flight samples (None: one sample per transfer, when its last byte left)."""
    sample_chunk_bytes: int = 32 * 1024
    """Chunk size of sampled transfers: small enough that a slow uplink still moves a chunk per window."""
    clock: Callable[[], float] = time.monotonic
    """Time base of the samples (the asyncio loop's clock, which the agent's estimators use)."""
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict, init=False)
    _reported: set[str] = field(default_factory=set, init=False)

    async def close(self) -> None:
        """Close the gateway channels."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()

    async def infer(
        self, inputs: Mapping[str, np.ndarray], tiers: Sequence[str], deadline_s: float, plan_version: int = 0
    ) -> InferenceResult:
        """Serve one request along the plan `tiers` (one per layer), within `deadline_s` if possible."""
        request_id = uuid.uuid4().hex
        start = time.perf_counter()
        deadline = time.time() + deadline_s
        errors: list[str] = []
        failed: set[str] = set()
        for rung in ladder(tiers):
            if rung.name != "device_only" and (not usable(rung, failed) or time.time() >= deadline):
                continue
            try:
                outputs, segments, transfers = await self._run_rung(
                    rung, inputs, deadline, request_id, plan_version
                )
            except HopError as exc:
                errors.append(f"{rung.name}: {exc}")
                failed.add(_failing_tier(exc, rung))
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broken reply, model or plan: try the next rung, never crash the loop
                errors.append(f"{rung.name}: {type(exc).__name__}: {exc}")
                failed.update(rung.remote_tiers)
                continue
            elapsed = (time.perf_counter() - start) * 1000.0
            self._learn(rung, segments)
            outcome: Outcome = "ok" if rung.name == "planned" else "fallback"
            return InferenceResult(
                request_id, self.model, outputs, outcome, rung.name, placement(rung.tiers),
                elapsed, segments, transfers, tuple(errors),
                tuple(key.split("->", 1)[1] for key in transfers) if self.on_sample is not None else (),
            )  # fmt: skip
        elapsed = (time.perf_counter() - start) * 1000.0
        return InferenceResult(
            request_id, self.model, {}, "error", "none", placement(tiers), elapsed, (), {}, tuple(errors)
        )

    async def _run_rung(
        self,
        rung: Rung,
        inputs: Mapping[str, np.ndarray],
        deadline: float,
        request_id: str,
        plan_version: int,
    ) -> tuple[dict[str, np.ndarray], tuple[SegmentTime, ...], dict[str, float]]:
        stages = self.runner.cutter.stages(list(rung.tiers))
        names = self.runner.cutter.graph.names()
        carried: dict[str, np.ndarray] = dict(inputs)
        segments: list[SegmentTime] = []
        transfers: dict[str, float] = {}
        i = 0
        while i < len(stages):
            stage = stages[i]
            if stage.tier == "device":
                carried, timing = await self._run_local(stage, carried)
                segments.append(timing)
                i += 1
                continue
            header = pb.HopHeader(
                request_id=request_id,
                model=self.model,
                plan_version=plan_version,
                layers=names,
                tiers=list(rung.tiers),
                route=[s.tier for s in stages[i + 1 :]],
                deadline_unix_ms=int(deadline * 1000),
                site=self.site if stage.tier == "edge" else "",
            )
            reply = await self._send(stage.tier, header, carried, deadline - time.time())
            key = f"device->{stage.tier}"
            transfers[key] = transfers.get(key, 0.0) + reply.transfer_ms
            segments.extend(reply.segments)
            carried = reply.tensors
            i += 1
            while i < len(stages) and stages[i].tier != "device":
                i += 1
        outputs = {name: carried[name] for name in self.runner.cutter.graph.graph_outputs}
        return outputs, tuple(segments), transfers

    async def _send(
        self, tier: str, header: pb.HopHeader, carried: dict[str, np.ndarray], timeout_s: float
    ) -> HopReply:
        """One hop to `tier`'s gateway; with `on_sample`, its upload is sampled while in flight."""
        channel, link, sink = self._channel(tier), self.links.get(tier), self.on_sample
        if sink is None:
            return await send_hop(channel, header, carried, timeout_s, link)
        meter = InFlightMeter(
            self.clock(), sum(int(a.nbytes) for a in carried.values()), self.passive_window_s
        )
        header_bytes: list[int] = []

        def emit(sample: PassiveSample | None) -> None:
            if sample is not None:
                sink(tier, sample)

        def progress(sent: int) -> None:
            if not header_bytes:  # the first call is the header; the meter counts tensor bytes
                header_bytes.append(sent)
            acked = sent - header_bytes[0]
            now = self.clock()
            emit(meter.finish(now) if acked >= meter.total_bytes else meter.progress(acked, now))

        async def tick(window_s: float) -> None:  # a stalled stream calls no progress: sample it anyway
            while not meter.done:
                await asyncio.sleep(window_s)
                emit(meter.progress(meter.acked, self.clock()))

        ticker = None
        if self.passive_window_s is not None and meter.enabled:
            ticker = asyncio.create_task(tick(self.passive_window_s), name=f"sample-{tier}")
        try:
            return await send_hop(
                channel, header, carried, timeout_s, link, self.sample_chunk_bytes, on_progress=progress
            )
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker

    async def _run_local(
        self, stage: Stage, carried: dict[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], SegmentTime]:
        result = await asyncio.to_thread(self.runner.run_stage, stage, carried)
        compute = result.compute_ms
        if self.emulated_slowdown > 1.0:
            await self.sleep(compute * (self.emulated_slowdown - 1.0) / 1000.0)
            compute *= self.emulated_slowdown
        bytes_out = sum(int(a.nbytes) for a in result.tensors.values())
        return result.tensors, SegmentTime("device", "", compute, 0.0, 0.0, bytes_out)

    def _channel(self, tier: str) -> grpc.aio.Channel:
        address = self.gateways.get(tier)
        if address is None:
            raise HopError("UNAVAILABLE", f"this device knows no {tier} gateway")
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = grpc.aio.insecure_channel(address)
        return channel

    def _learn(self, rung: Rung, segments: Sequence[SegmentTime]) -> None:
        if self.profile is None:
            return
        stages = self.runner.cutter.stages(list(rung.tiers))
        latency = {layer["name"]: layer["latency_ms"] for layer in self.profile["layers"]}
        for stage, timing in zip(stages, segments, strict=False):
            if stage.tier != timing.tier:
                break
            predicted = sum(float(latency[name].get(stage.tier, 0.0)) for name in stage.layers)
            self.corrections.observe(stage.tier, predicted, timing.compute_ms)
        drifted = {drift.key: drift for drift in self.corrections.drifted()}
        for key, drift in drifted.items():
            if key not in self._reported and self.on_drift is not None:
                self.on_drift(drift)
        self._reported = set(drifted)


def _failing_tier(error: HopError, rung: Rung) -> str:
    """The tier a hop error came from: gateways prefix downstream failures with "<tier>: "."""
    prefix = error.message.split(":", 1)[0].strip()
    if prefix in TIERS:
        return prefix
    remote = [t for t in rung.tiers if t != "device"]
    return remote[0] if remote else "device"
