"""The client side of one InferenceHop call: stream a header and chunked tensors, read the reply.

This module owns grpc for the data plane's callers (the device agent and gateways forwarding to the next
tier). gRPC errors are translated into `HopError` carrying the canonical status name, so callers decide on
fallbacks without touching grpc types. An optional `EmulatedLink` shapes the bytes sent and received. An
optional `on_progress` callback hears the cumulative bytes sent each time gRPC takes the next message (the
previous one has left: the sender's view of an in-flight transfer, for passive bandwidth samples).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import grpc
import numpy as np

from continuum_inference.linkemu import EmulatedLink
from continuum_inference.tensors import (
    CHUNK_BYTES,
    FramingError,
    TensorAssembler,
    chunk_messages,
    tensor_metas,
)
from protos.v1 import dataplane_pb2 as pb
from protos.v1 import dataplane_pb2_grpc as pb_grpc

__all__ = ["HopError", "HopReply", "SegmentTime", "send_hop", "stage_count", "timing_to_pb"]

RETRYABLE = frozenset(
    {"DEADLINE_EXCEEDED", "UNAVAILABLE", "RESOURCE_EXHAUSTED", "CANCELLED", "INTERNAL", "UNKNOWN"}
)
"""Status names after which another rung of the fallback ladder may succeed."""


class HopError(Exception):
    """A hop failed; `code` is the canonical gRPC status name (e.g. "UNAVAILABLE")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        """Whether another path might serve the request (transient or capacity failures)."""
        return self.code in RETRYABLE


@dataclass(frozen=True)
class SegmentTime:
    """Timing of one stage that ran on a tier, as reported back along the path."""

    tier: str
    site: str
    compute_ms: float
    queue_ms: float
    transfer_ms: float
    bytes_out: int


@dataclass(frozen=True)
class HopReply:
    """What came back from a hop: the tensors, the downstream timings and the call's totals."""

    tensors: dict[str, np.ndarray]
    segments: tuple[SegmentTime, ...]
    elapsed_ms: float
    bytes_sent: int
    bytes_received: int

    @property
    def transfer_ms(self) -> float:
        """The part of the call not spent in downstream stages: this hop's transfers and overheads."""
        inside = sum(s.compute_ms + s.queue_ms + s.transfer_ms for s in self.segments)
        return max(0.0, self.elapsed_ms - inside)


def stage_count(tiers: list[str] | tuple[str, ...]) -> int:
    """Number of stages of a plan given as tiers in layer order (maximal runs of one tier)."""
    return sum(1 for i, tier in enumerate(tiers) if i == 0 or tiers[i - 1] != tier)


def timing_to_pb(segment: SegmentTime) -> pb.SegmentTiming:
    """The wire form of a segment timing."""
    return pb.SegmentTiming(
        tier=segment.tier,
        site=segment.site,
        compute_ms=segment.compute_ms,
        queue_ms=segment.queue_ms,
        transfer_ms=segment.transfer_ms,
        bytes_out=segment.bytes_out,
    )


Progress = Callable[[int], None]
"""Called with the cumulative bytes of the request stream sent so far."""


async def _request_stream(
    header: pb.HopHeader,
    tensors: Mapping[str, np.ndarray],
    link: EmulatedLink | None,
    chunk_bytes: int,
    on_progress: Progress | None = None,
) -> AsyncIterator[pb.HopMessage]:
    if link is not None:
        await link.propagate()
        await link.send(header.ByteSize())
    sent = header.ByteSize()
    yield pb.HopMessage(header=header)
    if on_progress is not None:
        on_progress(sent)
    for message in chunk_messages(tensors, chunk_bytes):
        if link is not None:
            await link.send(len(message.chunk.data))
        yield message
        sent += len(message.chunk.data)
        if on_progress is not None:
            on_progress(sent)


async def send_hop(
    channel: grpc.aio.Channel,
    header: pb.HopHeader,
    tensors: Mapping[str, np.ndarray],
    timeout_s: float,
    link: EmulatedLink | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    on_progress: Progress | None = None,
) -> HopReply:
    """Send `tensors` with `header` (its tensor metas are filled in here) and await the reply.

    `on_progress(bytes_sent)` is called as each message of the request leaves (see the module docstring).
    Raises HopError on any failure, including a reply that does not match its own header.
    """
    if timeout_s <= 0:
        raise HopError("DEADLINE_EXCEEDED", "no time left before the request's deadline")
    framed = pb.HopHeader()
    framed.CopyFrom(header)
    del framed.tensors[:]
    framed.tensors.extend(tensor_metas(tensors))
    return await _call(channel, framed, tensors, timeout_s, link, chunk_bytes, on_progress)


async def _call(
    channel: grpc.aio.Channel,
    header: pb.HopHeader,
    tensors: Mapping[str, np.ndarray],
    timeout_s: float,
    link: EmulatedLink | None,
    chunk_bytes: int,
    on_progress: Progress | None = None,
) -> HopReply:
    stub = pb_grpc.InferenceHopStub(channel)
    start = time.perf_counter()
    sent = header.ByteSize() + sum(int(a.nbytes) for a in tensors.values())
    assembler: TensorAssembler | None = None
    segments: list[SegmentTime] = []
    try:
        call = stub.Infer(_request_stream(header, tensors, link, chunk_bytes, on_progress), timeout=timeout_s)
        async for message in call:
            kind = message.WhichOneof("kind")
            if kind == "header":
                assembler = TensorAssembler(list(message.header.tensors))
            elif kind == "chunk":
                if assembler is None:
                    raise FramingError("reply chunk before the reply header")
                if link is not None:
                    await link.receive(len(message.chunk.data))
                assembler.add(message.chunk)
            elif kind == "timings":
                segments.extend(_timing(s) for s in message.timings.segments)
        if assembler is None:
            raise FramingError("the reply carried no header")
        result = assembler.tensors()
        received = assembler.nbytes
    except grpc.aio.AioRpcError as exc:
        raise HopError(exc.code().name, exc.details() or "hop failed") from None
    except FramingError as exc:
        raise HopError("INTERNAL", f"malformed reply: {exc}") from None
    if link is not None:
        await link.propagate()
    elapsed = (time.perf_counter() - start) * 1000.0
    return HopReply(result, tuple(segments), elapsed, sent, received)


def _timing(segment: pb.SegmentTiming) -> SegmentTime:
    return SegmentTime(
        segment.tier,
        segment.site,
        segment.compute_ms,
        segment.queue_ms,
        segment.transfer_ms,
        segment.bytes_out,
    )
