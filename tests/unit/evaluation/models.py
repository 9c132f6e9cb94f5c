"""Small hand-made model profiles and traces for the evaluation tests."""

from __future__ import annotations

from typing import Any

from continuum_evaluation.scenario import LinkSetup, build_scenario


def chain_model() -> dict[str, Any]:
    """A 4-layer chain with shrinking activations and device-heavy compute: the best split moves."""
    return {
        "name": "tiny-chain",
        "input_bytes": 150_000,
        "layers": [
            {
                "name": "conv1",
                "output_bytes": 200_000,
                "latency_ms": {"device": 20.0, "edge": 2.0, "cloud": 1.0},
            },
            {
                "name": "pool1",
                "output_bytes": 20_000,
                "latency_ms": {"device": 5.0, "edge": 0.5, "cloud": 0.3},
            },
            {
                "name": "conv2",
                "output_bytes": 30_000,
                "latency_ms": {"device": 60.0, "edge": 6.0, "cloud": 3.0},
            },
            {"name": "fc", "output_bytes": 4_000, "latency_ms": {"device": 40.0, "edge": 4.0, "cloud": 2.0}},
        ],
    }


def exit_model() -> dict[str, Any]:
    """The chain with a profiled segment and an early exit after pool1."""
    model = chain_model()
    model["segments"] = [{"first": "conv1", "last": "pool1", "latency_ms": {"device": 22.0, "edge": 2.2}}]
    model["exits"] = [
        {
            "after": "pool1",
            "exit_rate": 0.4,
            "output_bytes": 40,
            "latency_ms": {"device": 1.0, "edge": 0.2, "cloud": 0.1},
        }
    ]
    return model


def dag_model() -> dict[str, Any]:
    """A residual block: conv_a and conv_b both read stem; add reads both; head returns the result."""
    return {
        "name": "tiny-dag",
        "input_bytes": 100_000,
        "layers": [
            {
                "name": "stem",
                "output_bytes": 80_000,
                "latency_ms": {"device": 10.0, "edge": 1.0, "cloud": 0.5},
            },
            {
                "name": "conv_a",
                "output_bytes": 60_000,
                "latency_ms": {"device": 30.0, "edge": 3.0, "cloud": 1.5},
                "inputs": ["stem"],
            },
            {
                "name": "conv_b",
                "output_bytes": 60_000,
                "latency_ms": {"device": 20.0, "edge": 2.0, "cloud": 1.0},
                "inputs": ["stem"],
            },
            {
                "name": "add",
                "output_bytes": 60_000,
                "latency_ms": {"device": 1.0, "edge": 0.1, "cloud": 0.1},
                "inputs": ["conv_a", "conv_b"],
            },
            {
                "name": "head",
                "output_bytes": 2_000,
                "latency_ms": {"device": 8.0, "edge": 0.8, "cloud": 0.4},
                "inputs": ["add"],
            },
        ],
    }


def scenario(model: dict[str, Any], edge_rtt_ms: float = 10.0, cloud_rtt_ms: float = 50.0) -> dict[str, Any]:
    """The evaluation scenario around `model` on an `x86`-class device (no slowdown: hand-checkable)."""
    return build_scenario(model, "x86", LinkSetup(edge_rtt_ms=edge_rtt_ms, cloud_rtt_ms=cloud_rtt_ms))
