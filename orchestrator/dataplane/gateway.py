"""The InferenceHop gateway of one tier: receive a hop, run this tier's stage on a worker, forward or return.

The servicer only converts and delegates: framing comes from `continuum_inference.tensors`, the stage runs on
a `StageExecutor` (the Ray worker pool), forwarding uses `continuum_inference.hops`. Failures map to
canonical status codes: malformed hops INVALID_ARGUMENT, full queues RESOURCE_EXHAUSTED, missing or dead
workers and an unreachable next tier UNAVAILABLE, a blown deadline DEADLINE_EXCEEDED. The deadline is the
earlier of the gRPC deadline and the header's absolute `deadline_unix_ms`, and it is passed on to the next
tier.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import NoReturn, Protocol

import grpc
import numpy as np

from continuum_inference.hops import HopError, SegmentTime, send_hop, stage_count, timing_to_pb
from continuum_inference.tensors import FramingError, TensorAssembler, chunk_messages, tensor_metas
from orchestrator.dataplane.routing import NoWorker, Overloaded, StageFailed, StageRun
from protos.v1 import dataplane_pb2 as pb
from protos.v1 import dataplane_pb2_grpc as pb_grpc

__all__ = ["DEFAULT_TIMEOUT_S", "HopGateway", "StageExecutor"]

DEFAULT_TIMEOUT_S = 30.0
"""Deadline applied when a hop carries none at all."""

TIERS = frozenset({"device", "edge", "cloud"})


class StageExecutor(Protocol):
    """Runs one stage of a plan on some worker of a tier (the Ray pool, or an in-process fake in tests)."""

    async def run(
        self,
        model: str,
        tier: str,
        site: str | None,
        tiers: tuple[str, ...],
        index: int,
        tensors: dict[str, np.ndarray],
        timeout_s: float,
    ) -> StageRun:
        """Run stage `index` of `tiers`; raise NoWorker, Overloaded, StageFailed, ValueError, TimeoutError."""
        ...


class HopGateway(pb_grpc.InferenceHopServicer):
    """The gateway of `tier` (optionally pinned to `site`), forwarding to `next_hops[tier]` addresses."""

    def __init__(
        self,
        tier: str,
        executor: StageExecutor,
        next_hops: Mapping[str, str] | None = None,
        site: str | None = None,
        max_request_bytes: int = 256 * 1024 * 1024,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.tier = tier
        self.site = site
        self.executor = executor
        self.next_hops = dict(next_hops or {})
        self.max_request_bytes = max_request_bytes
        self.observe = observe
        """Called with (tier, status code name, seconds) after every hop (metrics)."""
        self._channels: dict[str, grpc.aio.Channel] = {}
        self.requests = 0

    async def close(self) -> None:
        """Close the channels to next tiers."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()

    async def Infer(
        self,
        request_iterator: AsyncIterator[pb.HopMessage],
        context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage],
    ) -> AsyncIterator[pb.HopMessage]:
        """Serve one hop and report its status code and duration to `observe`."""
        self.requests += 1
        start = time.perf_counter()
        code = "OK"
        try:
            async for message in self._serve(request_iterator, context):
                yield message
        except BaseException:
            status = context.code()
            code = status.name if isinstance(status, grpc.StatusCode) else "CANCELLED"
            raise
        finally:
            if self.observe is not None:
                self.observe(self.tier, code, time.perf_counter() - start)

    async def _serve(
        self,
        request_iterator: AsyncIterator[pb.HopMessage],
        context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage],
    ) -> AsyncIterator[pb.HopMessage]:
        """Read header and chunks, run the stage, forward or reply."""
        header, tensors = await self._receive(request_iterator, context)
        tiers = tuple(header.tiers)
        route = list(header.route)
        index = stage_count(tiers) - 1 - len(route)
        run = await self._run_stage(header, tiers, index, tensors, context)
        own = SegmentTime(self.tier, run.site, run.compute_ms, run.queue_ms, 0.0, _nbytes(run.tensors))
        segments = [own]
        out = run.tensors
        if route and route[0] != "device":
            reply_tensors, downstream, transfer_ms = await self._forward(header, route, run.tensors, context)
            segments = [
                SegmentTime(own.tier, own.site, own.compute_ms, own.queue_ms, transfer_ms, own.bytes_out)
            ]
            segments.extend(downstream)
            out = reply_tensors
        yield pb.HopMessage(
            header=pb.HopHeader(request_id=header.request_id, model=header.model, tensors=tensor_metas(out))
        )
        for message in chunk_messages(out):
            yield message
        yield pb.HopMessage(timings=pb.HopTimings(segments=[timing_to_pb(s) for s in segments]))

    async def _receive(
        self,
        messages: AsyncIterator[pb.HopMessage],
        context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage],
    ) -> tuple[pb.HopHeader, dict[str, np.ndarray]]:
        iterator = messages.__aiter__()
        try:
            first = await anext(iterator)
        except StopAsyncIteration:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "empty hop: send a header first")
        if first.WhichOneof("kind") != "header":
            await _refuse(
                iterator, context, grpc.StatusCode.INVALID_ARGUMENT, "a hop must start with its header"
            )
        header = first.header
        problem = self._validate(header)
        announced = sum(meta.nbytes for meta in header.tensors)
        if not problem and announced > self.max_request_bytes:
            problem = f"hop carries {announced} bytes, this gateway accepts at most {self.max_request_bytes}"
            code = grpc.StatusCode.RESOURCE_EXHAUSTED
        else:
            code = grpc.StatusCode.INVALID_ARGUMENT
        try:
            if problem:
                raise FramingError(problem)
            assembler = TensorAssembler(list(header.tensors))
            async for message in iterator:
                if message.WhichOneof("kind") != "chunk":
                    raise FramingError("only tensor chunks may follow the header")
                assembler.add(message.chunk)
            return header, assembler.tensors()
        except FramingError as exc:
            await _refuse(iterator, context, code, str(exc))

    def _validate(self, header: pb.HopHeader) -> str:
        if not header.model:
            return "header names no model"
        if not header.layers or len(header.layers) != len(header.tiers):
            return (
                f"plan has {len(header.layers)} layers but {len(header.tiers)} tiers; send one tier per layer"
            )
        unknown = sorted((set(header.tiers) | set(header.route)) - TIERS)
        if unknown:
            return f"unknown tiers {unknown}; use device, edge, cloud"
        index = stage_count(tuple(header.tiers)) - 1 - len(header.route)
        if index < 0:
            return f"route {list(header.route)} is longer than the plan's remaining stages"
        return ""

    async def _run_stage(
        self,
        header: pb.HopHeader,
        tiers: tuple[str, ...],
        index: int,
        tensors: dict[str, np.ndarray],
        context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage],
    ) -> StageRun:
        remaining = _remaining_s(header, context)
        if remaining <= 0:
            await _abort(
                context, grpc.StatusCode.DEADLINE_EXCEEDED, f"deadline passed before the {self.tier} stage"
            )
        try:
            site = header.site or self.site  # the sender may name the site it wants (e.g. its edge)
            return await self.executor.run(header.model, self.tier, site, tiers, index, tensors, remaining)
        except NoWorker as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except Overloaded as exc:
            await _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, f"{self.tier} overloaded: {exc}")
        except StageFailed as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except TimeoutError as exc:
            await _abort(context, grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
        except (ValueError, KeyError) as exc:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, f"plan does not fit model {header.model!r}: {exc}"
            )

    async def _forward(
        self,
        header: pb.HopHeader,
        route: list[str],
        tensors: dict[str, np.ndarray],
        context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage],
    ) -> tuple[dict[str, np.ndarray], tuple[SegmentTime, ...], float]:
        next_tier = route[0]
        address = self.next_hops.get(next_tier)
        if address is None:
            await _abort(
                context, grpc.StatusCode.UNAVAILABLE, f"{self.tier} gateway knows no {next_tier} gateway"
            )
        onward = pb.HopHeader()
        onward.CopyFrom(header)
        del onward.route[:]
        onward.route.extend(route[1:])
        onward.site = ""
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = grpc.aio.insecure_channel(address)
        try:
            reply = await send_hop(channel, onward, tensors, _remaining_s(header, context))
        except HopError as exc:
            await _abort(context, grpc.StatusCode[exc.code], f"{next_tier}: {exc.message}")
        return reply.tensors, reply.segments, reply.transfer_ms


def _nbytes(tensors: Mapping[str, np.ndarray]) -> int:
    return sum(int(a.nbytes) for a in tensors.values())


def _remaining_s(
    header: pb.HopHeader, context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage]
) -> float:
    """Seconds left: the earlier of the gRPC deadline and the header's absolute deadline."""
    candidates = [DEFAULT_TIMEOUT_S]
    grpc_left = context.time_remaining()
    if grpc_left is not None:
        candidates.append(grpc_left)
    if header.deadline_unix_ms > 0:
        candidates.append(header.deadline_unix_ms / 1000.0 - time.time())
    return min(candidates)


async def _refuse(
    iterator: AsyncIterator[pb.HopMessage],
    context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage],
    code: grpc.StatusCode,
    details: str,
) -> NoReturn:
    """Abort a hop whose request is still streaming in, after reading it to its end: a grpcio aio client
    still writing when the server ends the call reports INTERNAL instead of our status (grpc/grpc#36066)."""
    async for _ in iterator:
        pass
    await _abort(context, code, details)


async def _abort(
    context: grpc.aio.ServicerContext[pb.HopMessage, pb.HopMessage], code: grpc.StatusCode, details: str
) -> NoReturn:
    await context.abort(code, details)
    raise AssertionError("context.abort returned")  # pragma: no cover - abort always raises
