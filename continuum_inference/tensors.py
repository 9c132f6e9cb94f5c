"""Tensor framing for the data plane: numpy arrays <-> HopMessage headers and fixed-size chunks.

A hop is a header (with one TensorMeta per tensor) followed by the tensors' raw bytes cut into chunks of
`CHUNK_BYTES`, so a multi-megabyte activation never becomes one huge gRPC message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from protos.v1 import dataplane_pb2 as pb

__all__ = ["CHUNK_BYTES", "FramingError", "TensorAssembler", "chunk_messages", "tensor_metas"]

CHUNK_BYTES = 256 * 1024
"""Bytes of tensor data per TensorChunk message."""

ALLOWED_DTYPES = frozenset({"float32", "float16", "float64", "int64", "int32", "int8", "uint8", "bool"})
"""dtypes a hop may carry; anything else is refused as INVALID_ARGUMENT."""


class FramingError(ValueError):
    """The tensors of a hop do not match their header (bad dtype, shape or size)."""


def tensor_metas(tensors: Mapping[str, np.ndarray]) -> list[pb.TensorMeta]:
    """One TensorMeta per tensor, in the mapping's order."""
    return [
        pb.TensorMeta(name=name, dtype=str(a.dtype), shape=list(a.shape), nbytes=int(a.nbytes))
        for name, a in tensors.items()
    ]


def chunk_messages(
    tensors: Mapping[str, np.ndarray], chunk_bytes: int = CHUNK_BYTES
) -> Iterator[pb.HopMessage]:
    """The chunk messages carrying `tensors`' bytes, tensor by tensor, in the mapping's order."""
    for index, array in enumerate(tensors.values()):
        view = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        for start in range(0, len(view), chunk_bytes):
            yield pb.HopMessage(
                chunk=pb.TensorChunk(tensor_index=index, data=view[start : start + chunk_bytes].tobytes())
            )


class TensorAssembler:
    """Rebuilds the tensors announced by a header from the chunks that follow it."""

    def __init__(self, metas: list[pb.TensorMeta]) -> None:
        self._metas = metas
        self._buffers: list[bytearray] = []
        for meta in metas:
            if meta.dtype not in ALLOWED_DTYPES:
                raise FramingError(
                    f"tensor {meta.name!r}: dtype {meta.dtype!r} is not one of {sorted(ALLOWED_DTYPES)}"
                )
            expected = int(np.prod(meta.shape, dtype=np.int64)) * np.dtype(meta.dtype).itemsize
            if any(d < 0 for d in meta.shape) or expected != meta.nbytes:
                raise FramingError(
                    f"tensor {meta.name!r}: shape {list(meta.shape)} does not hold {meta.nbytes} bytes"
                )
            self._buffers.append(bytearray())

    def add(self, chunk: pb.TensorChunk) -> None:
        """Append one chunk; refuses chunks for unknown tensors or beyond the announced size."""
        if chunk.tensor_index >= len(self._metas):
            raise FramingError(
                f"chunk for tensor {chunk.tensor_index}, but the header announced {len(self._metas)}"
            )
        buffer = self._buffers[chunk.tensor_index]
        buffer.extend(chunk.data)
        if len(buffer) > self._metas[chunk.tensor_index].nbytes:
            raise FramingError(
                f"tensor {self._metas[chunk.tensor_index].name!r} got more bytes than announced"
            )

    def tensors(self) -> dict[str, np.ndarray]:
        """The complete tensors; raises FramingError when any is short."""
        result: dict[str, np.ndarray] = {}
        for meta, buffer in zip(self._metas, self._buffers, strict=True):
            if len(buffer) != meta.nbytes:
                raise FramingError(f"tensor {meta.name!r}: {len(buffer)} of {meta.nbytes} bytes arrived")
            result[meta.name] = np.frombuffer(bytes(buffer), dtype=meta.dtype).reshape(tuple(meta.shape))
        return result

    @property
    def nbytes(self) -> int:
        """Bytes received so far."""
        return sum(len(b) for b in self._buffers)
