"""Tensors survive framing into chunks; malformed hops are refused with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from continuum_inference.tensors import FramingError, TensorAssembler, chunk_messages, tensor_metas
from protos.v1 import dataplane_pb2 as pb


def test_tensors_round_trip_through_chunks() -> None:
    tensors = {
        "big": np.arange(300_000, dtype=np.float32).reshape(3, 100_000),
        "ids": np.array([[1, 2, 3]], dtype=np.int64),
    }
    messages = list(chunk_messages(tensors, chunk_bytes=64 * 1024))
    assert len(messages) == 1 + 19, "1.2 MB in 64 KiB chunks plus one chunk of ids"
    assembler = TensorAssembler(tensor_metas(tensors))
    for message in messages:
        assembler.add(message.chunk)
    rebuilt = assembler.tensors()
    for name, array in tensors.items():
        assert rebuilt[name].dtype == array.dtype
        np.testing.assert_array_equal(rebuilt[name], array)


def test_short_tensor_is_refused() -> None:
    tensors = {"x": np.ones((4,), dtype=np.float32)}
    assembler = TensorAssembler(tensor_metas(tensors))
    assembler.add(pb.TensorChunk(tensor_index=0, data=b"\0" * 8))
    with pytest.raises(FramingError, match="8 of 16 bytes"):
        assembler.tensors()


def test_header_whose_shape_disagrees_with_its_size_is_refused() -> None:
    with pytest.raises(FramingError, match="does not hold"):
        TensorAssembler([pb.TensorMeta(name="x", dtype="float32", shape=[2, 2], nbytes=12)])


def test_unknown_dtype_is_refused() -> None:
    with pytest.raises(FramingError, match="dtype"):
        TensorAssembler([pb.TensorMeta(name="x", dtype="object", shape=[1], nbytes=8)])


def test_chunk_for_an_unannounced_tensor_is_refused() -> None:
    assembler = TensorAssembler([])
    with pytest.raises(FramingError, match="announced 0"):
        assembler.add(pb.TensorChunk(tensor_index=0, data=b"x"))
