"""A small transformer encoder (BERT-style, pre-norm) classifying a sequence of token ids.

Layers: the embedding, then per encoder block `attn` (LayerNorm + multi-head self-attention + projection),
`res1` (the residual add), `ffn` (LayerNorm + GELU MLP) and `res2`, then mean pooling and the head.
The residual adds make the layer graph a DAG.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto

from continuum_inference.zoo.builder import GraphBuilder

__all__ = ["TRANSFORMER_SHAPE", "transformer"]

TRANSFORMER_SHAPE = {
    "seq": 128,
    "vocab": 8000,
    "d_model": 256,
    "heads": 4,
    "ffn": 1024,
    "blocks": 4,
    "classes": 10,
}
"""Dimensions of the zoo transformer: a 4-block, 256-wide encoder over 128 tokens."""


def transformer() -> onnx.ModelProto:
    """The zoo's small transformer encoder: int64 token ids of shape 1x128 in, 1x10 class logits out."""
    dims = TRANSFORMER_SHAPE
    seq, d, heads = dims["seq"], dims["d_model"], dims["heads"]
    g = GraphBuilder("transformer", seed=105)
    g.begin("embed")
    table = g.weight((dims["vocab"], d), fan_in=d, gain=1.0)
    positions = g.weight((1, seq, d), fan_in=d, gain=0.1)
    x = g.end(g.op("Add", [g.op("Gather", [table, g.input_name], axis=0), positions]))
    for block in range(dims["blocks"]):
        prefix = f"enc{block}"
        g.begin(f"{prefix}.attn")
        attn = g.end(_attention(g, _layer_norm(g, x, d), seq, d, heads))
        g.begin(f"{prefix}.res1")
        x = g.end(g.op("Add", [x, attn]))
        g.begin(f"{prefix}.ffn")
        h = _linear(g, _layer_norm(g, x, d), d, dims["ffn"])
        h = _linear(g, _gelu(g, h), dims["ffn"], d)
        ffn = g.end(h)
        g.begin(f"{prefix}.res2")
        x = g.end(g.op("Add", [x, ffn]))
    g.begin("pool")
    x = g.end(g.op("ReduceMean", [_layer_norm(g, x, d)], axes=[1], keepdims=0))
    g.begin("head")
    x = g.end(g.gemm(x, d, dims["classes"]))
    return g.model([1, seq], x, input_type=TensorProto.INT64)


def _layer_norm(g: GraphBuilder, x: str, d: int) -> str:
    scale = g.constant(np.ones(d, dtype=np.float32))
    shift = g.constant(np.zeros(d, dtype=np.float32))
    return g.op("LayerNormalization", [x, scale, shift], axis=-1, epsilon=1e-5)


def _linear(g: GraphBuilder, x: str, n_in: int, n_out: int) -> str:
    w = g.weight((n_in, n_out), fan_in=n_in, gain=1.0)
    return g.op("Add", [g.op("MatMul", [x, w]), g.bias(n_out)])


def _gelu(g: GraphBuilder, x: str) -> str:
    """GELU written with Erf (the Gelu op only exists from opset 20)."""
    scaled = g.op("Mul", [x, g.constant(np.array(1.0 / np.sqrt(2.0), dtype=np.float32))])
    one_plus = g.op("Add", [g.op("Erf", [scaled]), g.constant(np.array(1.0, dtype=np.float32))])
    return g.op("Mul", [g.op("Mul", [x, one_plus]), g.constant(np.array(0.5, dtype=np.float32))])


def _attention(g: GraphBuilder, x: str, seq: int, d: int, heads: int) -> str:
    head_dim = d // heads
    split = g.constant(np.array([1, seq, heads, head_dim], dtype=np.int64))
    merge = g.constant(np.array([1, seq, d], dtype=np.int64))

    def project(perm: list[int]) -> str:
        return g.op("Transpose", [g.op("Reshape", [_linear(g, x, d, d), split])], perm=perm)

    q = project([0, 2, 1, 3])
    k = project([0, 2, 3, 1])
    v = project([0, 2, 1, 3])
    scale = g.constant(np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    weights = g.op("Softmax", [g.op("Mul", [g.op("MatMul", [q, k]), scale])], axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [weights, v])], perm=[0, 2, 1, 3])
    return _linear(g, g.op("Reshape", [context, merge]), d, d)
