"""Small scenario documents the planner tests start from (built fresh on every call)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def chain_doc() -> dict[str, Any]:
    """A three-layer chain that splits between device and edge, with every link present."""
    return {
        "format": "continuum.scenario/v1",
        "model": {
            "name": "small",
            "input_bytes": 600000.0,
            "layers": [
                {
                    "name": "a",
                    "output_bytes": 100000.0,
                    "latency_ms": {"device": 5.0, "edge": 1.0, "cloud": 0.5},
                },
                {
                    "name": "b",
                    "output_bytes": 800000.0,
                    "latency_ms": {"device": 40.0, "edge": 2.0, "cloud": 1.0},
                },
                {
                    "name": "c",
                    "output_bytes": 4000.0,
                    "latency_ms": {"device": 30.0, "edge": 1.5, "cloud": 0.7},
                },
            ],
        },
        "tiers": {
            "device": {"power_w": 3.0, "tx_power_w": 1.2},
            "edge": {"cost_per_hour": 0.5},
            "cloud": {"cost_per_hour": 3.0},
        },
        "links": {
            "device->edge": {"bandwidth_mbps": 20.0, "rtt_ms": 8.0},
            "edge->device": {"bandwidth_mbps": 60.0, "rtt_ms": 8.0},
            "edge->cloud": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0, "cost_per_gb": 0.02},
            "cloud->edge": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
            "device->cloud": {"bandwidth_mbps": 10.0, "rtt_ms": 60.0},
            "cloud->device": {"bandwidth_mbps": 30.0, "rtt_ms": 60.0},
        },
        "objective": {"minimize": "latency"},
    }


def dag_doc() -> dict[str, Any]:
    """A four-layer DAG with a skip connection (d reads b and c)."""
    doc = chain_doc()
    doc["model"]["layers"].append(
        {
            "name": "d",
            "output_bytes": 4000.0,
            "latency_ms": {"device": 1.0, "edge": 0.1},
            "inputs": ["b", "c"],
        }
    )
    return doc
