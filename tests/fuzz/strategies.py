"""Hypothesis strategies for hostile control-plane input: ids, topics, protobuf payloads."""

from __future__ import annotations

from hypothesis import strategies as st

from benchmarks.fuzzgen import HOSTILE_IDS
from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2, operator_pb2

KINDS = ("birth", "state", "death", "cmd")
any_float = st.floats(allow_nan=True, allow_infinity=True)
uint32 = st.integers(0, 2**32 - 1)
uint64 = st.integers(0, 2**64 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
versions = st.sampled_from((PROTOCOL_VERSION, 0, 2, 2**32 - 1))

hostile_ids = st.one_of(
    st.sampled_from(HOSTILE_IDS),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,30}", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
"""Valid ids, the classic hostile ones ('/', '+', '#', NUL, very long) and arbitrary text."""

wire_ids = hostile_ids.map(lambda s: s.encode("utf-8", "replace").decode("utf-8"))
"""Hostile ids that protobuf string fields can carry (no lone surrogates)."""

topics = st.one_of(
    st.builds(lambda f, d, k: f"continuum/v1/{f}/{d}/{k}", hostile_ids, hostile_ids, st.sampled_from(KINDS)),
    st.builds(lambda f: f"continuum/v1/{f}/orchestrator", hostile_ids),
    st.lists(st.one_of(hostile_ids, st.sampled_from(("continuum", "v1", "+", "#", ""))), max_size=8).map(
        "/".join
    ),
    st.text(max_size=300),
)

links = st.builds(
    control_pb2.LinkEstimate,
    target=st.sampled_from(("edge", "cloud", "", "moon")),
    rtt_ms=any_float,
    uplink_mbps=any_float,
    downlink_mbps=any_float,
    loss=any_float,
    link_type=st.sampled_from(("wifi", "cellular", "", "ethernet")),
    changed=st.booleans(),
)

telemetry = st.builds(
    control_pb2.Telemetry,
    protocol_version=versions,
    seq=uint32,
    bd_seq=uint64,
    timestamp_ms=int64,
    links=st.lists(links, max_size=4),
    cpu_percent=any_float,
    memory_percent=any_float,
    temperature_c=any_float,
    battery_percent=any_float,
    on_ac=st.booleans(),
    plan_version=uint64,
    historical=st.booleans(),
)

births = st.builds(
    control_pb2.DeviceBirth,
    protocol_version=versions,
    device_id=wire_ids,
    fleet=wire_ids,
    bd_seq=uint64,
    agent_version=st.text(max_size=20),
    capabilities=st.builds(
        control_pb2.Capabilities,
        cpu_count=uint32,
        memory_bytes=uint64,
        speed_factor=any_float,
        power=st.builds(
            control_pb2.Power, has_battery=st.booleans(), battery_percent=any_float, on_ac=st.booleans()
        ),
    ),
    models=st.lists(
        st.builds(control_pb2.ModelInfo, name=wire_ids, profile_digest=st.text(max_size=8)), max_size=3
    ),
    timestamp_ms=int64,
    site=wire_ids,
)

deaths = st.builds(
    control_pb2.DeviceDeath,
    protocol_version=versions,
    bd_seq=uint64,
    timestamp_ms=int64,
    reason=st.text(max_size=10),
)

plan_updates = st.builds(
    control_pb2.PlanUpdate,
    model=st.one_of(st.sampled_from(("alexnet", "")), wire_ids),
    version=uint64,
    layers=st.lists(st.text(max_size=8), max_size=12),
    tiers=st.lists(st.sampled_from(("device", "edge", "cloud", "", "mars")), max_size=12),
    predicted_latency_ms=any_float,
    fallback_ladder=st.lists(st.sampled_from(("device", "edge", "cloud", "", "mars")), max_size=5),
    pinned=st.booleans(),
)


def _command(
    version: int, command_id: str, issued: int, body: tuple[str, object] | None
) -> control_pb2.Command:
    cmd = control_pb2.Command(protocol_version=version, command_id=command_id, issued_ms=issued)
    if body is not None:
        getattr(cmd, body[0]).CopyFrom(body[1])
    return cmd


commands = st.builds(
    _command,
    versions,
    st.text(max_size=20),
    int64,
    st.one_of(
        st.none(),
        plan_updates.map(lambda p: ("plan_update", p)),
        st.builds(control_pb2.Rebirth, reason=st.text(max_size=10)).map(lambda r: ("rebirth", r)),
        st.builds(control_pb2.ProfileRequest, model=wire_ids, runs=uint32).map(lambda r: ("profile", r)),
        st.builds(control_pb2.Drain, drained=st.booleans()).map(lambda r: ("drain", r)),
    ),
)


@st.composite
def mutated(draw: st.DrawFn, messages: st.SearchStrategy[object]) -> bytes:
    """A serialised message, maybe truncated, bit-flipped or extended with garbage; or random bytes."""
    choice = draw(st.integers(0, 4))
    if choice == 4:
        return draw(st.binary(max_size=512))
    data: bytes = draw(messages).SerializeToString()  # type: ignore[attr-defined]
    if choice == 1 and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if choice == 2 and data:
        index = draw(st.integers(0, len(data) - 1))
        return data[:index] + bytes([data[index] ^ (1 << draw(st.integers(0, 7)))]) + data[index + 1 :]
    if choice == 3:
        return data + draw(st.binary(min_size=1, max_size=32))
    return data


huge_ids = st.one_of(wire_ids, st.integers(129, 2_000_000).map(lambda n: "d" * n))
"""Hostile ids plus very long ones (up to 2 MB, past what any handler should read)."""
tier_lists = st.one_of(
    st.lists(st.sampled_from(("device", "edge", "cloud", "", "mars", "\x00")), max_size=20),
    st.integers(1000, 1_000_000).map(lambda n: ["edge"] * n),
)

OPERATOR_REQUESTS: dict[str, st.SearchStrategy[object]] = {
    "ListDevices": st.builds(operator_pb2.ListDevicesRequest, fleet=huge_ids, state=wire_ids),
    "GetDevice": st.builds(operator_pb2.GetDeviceRequest, device_id=huge_ids),
    "ListTiers": st.just(operator_pb2.ListTiersRequest()),
    "ListEvents": st.builds(
        operator_pb2.ListEventsRequest, device_id=huge_ids, kind=wire_ids, limit=uint32, after_id=int64
    ),
    "PinPlan": st.builds(operator_pb2.PinPlanRequest, device_id=huge_ids, model=huge_ids, tiers=tier_lists),
    "UnpinPlan": st.builds(operator_pb2.UnpinPlanRequest, device_id=huge_ids, model=huge_ids),
    "DrainDevice": st.builds(operator_pb2.DrainDeviceRequest, device_id=huge_ids, drained=st.booleans()),
    "DrainSite": st.builds(operator_pb2.DrainSiteRequest, site=huge_ids, drained=st.booleans()),
    "Replan": st.builds(operator_pb2.ReplanRequest, device_id=huge_ids),
    "RequestRebirth": st.builds(operator_pb2.RebirthRequest, device_id=huge_ids),
}
"""A hostile request strategy for every unary Operator method."""
