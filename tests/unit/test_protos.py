"""The wire contracts: every control-plane message survives a protobuf round trip unchanged."""

from __future__ import annotations

from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2, dataplane_pb2, operator_pb2


def test_birth_round_trips() -> None:
    birth = control_pb2.DeviceBirth(
        protocol_version=PROTOCOL_VERSION,
        device_id="cam-1",
        fleet="f",
        bd_seq=3,
        agent_version="0.1.0",
        capabilities=control_pb2.Capabilities(arch="aarch64", cpu_count=4, memory_bytes=4 << 30),
        models=[control_pb2.ModelInfo(name="resnet18", profile_digest="sha256:ab")],
    )
    assert control_pb2.DeviceBirth.FromString(birth.SerializeToString()) == birth


def test_telemetry_round_trips_with_links_and_stats() -> None:
    telemetry = control_pb2.Telemetry(
        protocol_version=PROTOCOL_VERSION,
        seq=255,
        bd_seq=1,
        links=[control_pb2.LinkEstimate(target="edge", rtt_ms=8.5, uplink_mbps=12.0, link_type="wifi")],
        inference={"alexnet": control_pb2.InferenceStats(count=10, p95_ms=41.0)},
    )
    decoded = control_pb2.Telemetry.FromString(telemetry.SerializeToString())
    assert decoded == telemetry
    assert decoded.inference["alexnet"].p95_ms == 41.0


def test_command_carries_exactly_one_body() -> None:
    command = control_pb2.Command(
        protocol_version=PROTOCOL_VERSION,
        command_id="c1",
        plan_update=control_pb2.PlanUpdate(
            model="alexnet", version=2, layers=["a", "b"], tiers=["device", "edge"]
        ),
    )
    decoded = control_pb2.Command.FromString(command.SerializeToString())
    assert decoded.WhichOneof("body") == "plan_update"
    assert list(decoded.plan_update.tiers) == ["device", "edge"]


def test_hop_and_operator_messages_round_trip() -> None:
    hop = dataplane_pb2.HopMessage(
        header=dataplane_pb2.HopHeader(
            request_id="r1",
            route=["edge", "cloud"],
            tensors=[dataplane_pb2.TensorMeta(name="x", dtype="float32", shape=[1, 3], nbytes=12)],
        )
    )
    assert dataplane_pb2.HopMessage.FromString(hop.SerializeToString()) == hop
    change = operator_pb2.FleetChange(upsert=operator_pb2.DeviceSummary(id="d", state="online"))
    assert operator_pb2.FleetChange.FromString(change.SerializeToString()) == change
