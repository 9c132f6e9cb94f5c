"""The convolutional zoo models: AlexNet, VGG16, ResNet-18 (a DAG) and MobileNetV2.

Architectures follow the torchvision definitions; batch norm is folded into the convolutions (as an exported
inference graph has it) and dropout is absent at inference. Weights are He-initialised from a seeded RNG.
"""

from __future__ import annotations

import numpy as np
import onnx

from continuum_inference.zoo.builder import GraphBuilder

__all__ = ["alexnet", "mobilenetv2", "resnet18", "vgg16"]

VGG16_INPUT = 112
"""VGG16's input side. Reduced from 224 to keep it CPU-friendly (4x fewer FLOPs, fc6 of 4608 inputs)."""


def alexnet() -> onnx.ModelProto:
    """AlexNet (torchvision layout) on 1x3x224x224: 5 convolutions, 3 pools, 3 fully connected layers."""
    g = GraphBuilder("alexnet", seed=101)
    x = g.input_name
    for name, c_in, c_out, k, s, p, pool in (
        ("conv1", 3, 64, 11, 4, 2, True),
        ("conv2", 64, 192, 5, 1, 2, True),
        ("conv3", 192, 384, 3, 1, 1, False),
        ("conv4", 384, 256, 3, 1, 1, False),
        ("conv5", 256, 256, 3, 1, 1, True),
    ):
        g.begin(name)
        x = g.end(g.op("Relu", [g.conv(x, c_in, c_out, k, s, p)]))
        if pool:
            g.begin(f"pool{name[-1]}")
            x = g.end(g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2]))
    g.begin("fc6")
    x = g.end(g.op("Relu", [g.gemm(g.op("Flatten", [x], axis=1), 256 * 6 * 6, 4096)]))
    g.begin("fc7")
    x = g.end(g.op("Relu", [g.gemm(x, 4096, 4096)]))
    g.begin("fc8")
    x = g.end(g.gemm(x, 4096, 1000))
    return g.model([1, 3, 224, 224], x)


def vgg16() -> onnx.ModelProto:
    """VGG16 (configuration D) on 1x3x112x112 (reduced input, see VGG16_INPUT): 13 convs, 5 pools, 3 FCs."""
    g = GraphBuilder("vgg16", seed=102)
    x = g.input_name
    c_in = 3
    for stage, (width, repeats) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1):
        for i in range(1, repeats + 1):
            g.begin(f"conv{stage}_{i}")
            x = g.end(g.op("Relu", [g.conv(x, c_in, width, 3, 1, 1)]))
            c_in = width
        g.begin(f"pool{stage}")
        x = g.end(g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2]))
    side = VGG16_INPUT // 32
    g.begin("fc6")
    x = g.end(g.op("Relu", [g.gemm(g.op("Flatten", [x], axis=1), 512 * side * side, 4096)]))
    g.begin("fc7")
    x = g.end(g.op("Relu", [g.gemm(x, 4096, 4096)]))
    g.begin("fc8")
    x = g.end(g.gemm(x, 4096, 1000))
    return g.model([1, 3, VGG16_INPUT, VGG16_INPUT], x)


def resnet18() -> onnx.ModelProto:
    """ResNet-18 on 1x3x224x224. Each basic block is four layers (conv1, conv2, optional downsample, add),
    so the layer graph is a DAG whose skip connections cross any cut placed inside a block."""
    g = GraphBuilder("resnet18", seed=103)
    g.begin("conv1")
    x = g.end(g.op("Relu", [g.conv(g.input_name, 3, 64, 7, 2, 3)]))
    g.begin("pool1")
    x = g.end(g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    c_in = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            prefix = f"layer{stage}.{block}"
            g.begin(f"{prefix}.conv1")
            y = g.end(g.op("Relu", [g.conv(x, c_in, width, 3, stride, 1)]))
            g.begin(f"{prefix}.conv2")
            y = g.end(_conv(g, y, width, 0.5))
            shortcut = x
            if stride != 1 or c_in != width:
                g.begin(f"{prefix}.downsample")
                shortcut = g.end(g.conv(x, c_in, width, 1, stride, 0))
            g.begin(f"{prefix}.add")
            x = g.end(g.op("Relu", [g.op("Add", [y, shortcut])]))
            c_in = width
    g.begin("avgpool")
    x = g.end(g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1))
    g.begin("fc")
    x = g.end(g.gemm(x, 512, 1000))
    return g.model([1, 3, 224, 224], x)


def _conv(g: GraphBuilder, x: str, width: int, gain: float) -> str:
    """A 3x3 same-padding conv whose weights are scaled down so residual sums stay in range without BN."""
    w = g.weight((width, width, 3, 3), fan_in=width * 9, gain=gain)
    b = g.bias(width)
    return g.op("Conv", [x, w, b], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], group=1)


def _relu6(g: GraphBuilder, x: str) -> str:
    low = g.constant(np.array(0.0, dtype=np.float32))
    high = g.constant(np.array(6.0, dtype=np.float32))
    return g.op("Clip", [x, low, high])


MOBILENETV2_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                      (6, 160, 3, 2), (6, 320, 1, 1))  # fmt: skip
"""(expansion t, channels c, repeats n, first stride s) of MobileNetV2's inverted residual stages."""


def mobilenetv2() -> onnx.ModelProto:
    """MobileNetV2 (width 1.0) on 1x3x224x224. A layer is one whole inverted residual block (expand,
    depthwise, project and the block's own residual add), so its layer graph is a 21-layer chain."""
    g = GraphBuilder("mobilenetv2", seed=104)
    g.begin("stem")
    x = g.end(_relu6(g, g.conv(g.input_name, 3, 32, 3, 2, 1)))
    c_in = 32
    index = 0
    for t, c, n, s in MOBILENETV2_BLOCKS:
        for i in range(n):
            index += 1
            stride = s if i == 0 else 1
            hidden = c_in * t
            g.begin(f"block{index}")
            y = x
            if t != 1:
                y = _relu6(g, g.conv(y, c_in, hidden, 1))
            y = _relu6(g, g.conv(y, hidden, hidden, 3, stride, 1, group=hidden))
            w = g.weight((c, hidden, 1, 1), fan_in=hidden, gain=1.0)
            y = g.op("Conv", [y, w, g.bias(c)], kernel_shape=[1, 1])
            if stride == 1 and c_in == c:
                y = g.op("Add", [y, x])
            x = g.end(y)
            c_in = c
    g.begin("head_conv")
    x = g.end(_relu6(g, g.conv(x, c_in, 1280, 1)))
    g.begin("avgpool")
    x = g.end(g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1))
    g.begin("classifier")
    x = g.end(g.gemm(x, 1280, 1000))
    return g.model([1, 3, 224, 224], x)
