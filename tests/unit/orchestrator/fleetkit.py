"""Builders for shard tests: protobuf inputs decoded as ingest does, a tiny two-layer model, commands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message

from orchestrator.domain.messages import Inbound
from orchestrator.fleet.records import Outbound, ShardOutput
from orchestrator.fleet.sessions import SessionPolicy
from orchestrator.fleet.shard import FleetShard
from orchestrator.fleet.spec import ShardSpec, build_shard
from orchestrator.ingest.decoding import decode
from orchestrator.mqtt.encoding import encode_command
from protos import PROTOCOL_VERSION
from protos.topics import device_topic
from protos.v1 import control_pb2

FLEET = "f1"


def tiny_scenario() -> dict[str, Any]:
    """Two layers, 1 MB input: the edge wins on a fast uplink, the device on a slow one."""
    return {
        "format": "continuum.scenario/v1",
        "model": {
            "name": "tiny",
            "input_bytes": 1_000_000,
            "layers": [
                {
                    "name": "l1",
                    "output_bytes": 100_000,
                    "latency_ms": {"device": 50.0, "edge": 5.0, "cloud": 2.0},
                },
                {
                    "name": "l2",
                    "output_bytes": 1_000,
                    "latency_ms": {"device": 50.0, "edge": 5.0, "cloud": 2.0},
                },
            ],
        },
        "tiers": {
            "device": {"cost_per_hour": 0.0, "power_w": 3.0, "tx_power_w": 1.2},
            "edge": {"cost_per_hour": 0.5},
            "cloud": {"cost_per_hour": 3.0},
        },
        "links": {
            "device->edge": {"bandwidth_mbps": 20.0, "rtt_ms": 10.0},
            "edge->device": {"bandwidth_mbps": 20.0, "rtt_ms": 10.0},
            "edge->cloud": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
            "cloud->edge": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
            "device->cloud": {"bandwidth_mbps": 10.0, "rtt_ms": 60.0},
            "cloud->device": {"bandwidth_mbps": 10.0, "rtt_ms": 60.0},
        },
        "objective": {"minimize": "latency"},
    }


def shard(**spec: Any) -> FleetShard:
    """A shard planning the tiny model; dwell 0 and two confirmations unless overridden."""
    values: dict[str, Any] = {
        "policy": SessionPolicy(10.0, 60.0, 5.0),
        "models": {"tiny": tiny_scenario()},
        "min_dwell_s": 0.0,
        "confirmations": 2,
    }
    values.update(spec)
    return build_shard(ShardSpec(**values))


def _inbound(kind: str, device: str, message: Message, now: float, retained: bool = False) -> Inbound:
    """`message` as ingest hands it to a shard."""
    result = decode(device_topic(FLEET, device, kind), message.SerializeToString(), now, 1 << 20, retained)
    assert isinstance(result, Inbound), result
    return result


def birth(
    device: str,
    bd_seq: int = 1,
    now: float = 0.0,
    site: str = "s1",
    retained: bool = False,
    plans: Sequence[control_pb2.PlanUpdate] = (),
) -> Inbound:
    """A birth of `device` holding the tiny model (and `plans`)."""
    message = control_pb2.DeviceBirth(
        protocol_version=PROTOCOL_VERSION,
        device_id=device,
        fleet=FLEET,
        bd_seq=bd_seq,
        site=site,
        capabilities=control_pb2.Capabilities(arch="aarch64", cpu_count=4, speed_factor=1.0),
        models=[control_pb2.ModelInfo(name="tiny")],
        plans=list(plans),
    )
    return _inbound("birth", device, message, now, retained)


def telemetry(device: str, seq: int, mbps: float, now: float, bd_seq: int = 1) -> Inbound:
    """Telemetry reporting an edge link of `mbps` both ways and 10 ms rtt."""
    message = control_pb2.Telemetry(
        protocol_version=PROTOCOL_VERSION,
        seq=seq,
        bd_seq=bd_seq,
        timestamp_ms=int(now * 1000),
        links=[control_pb2.LinkEstimate(target="edge", rtt_ms=10.0, uplink_mbps=mbps, downlink_mbps=mbps)],
    )
    return _inbound("state", device, message, now)


def death(device: str, bd_seq: int, now: float) -> Inbound:
    """A death (last will) of `device`."""
    message = control_pb2.DeviceDeath(protocol_version=PROTOCOL_VERSION, bd_seq=bd_seq, reason="will")
    return _inbound("death", device, message, now)


def commands(out: ShardOutput, kind: str | None = None) -> list[control_pb2.Command]:
    """Decoded commands of an output (optionally only one body kind)."""
    decoded = []
    for outbound in out.commands:
        assert isinstance(outbound, Outbound)
        command = control_pb2.Command()
        command.ParseFromString(encode_command(outbound.command))
        if kind is None or command.WhichOneof("body") == kind:
            decoded.append(command)
    return decoded
