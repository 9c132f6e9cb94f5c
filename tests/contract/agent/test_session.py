"""The agent's MQTT session against a real Mosquitto: birth, telemetry, commands, clean death."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from protos import PROTOCOL_VERSION
from protos.v1 import control_pb2 as pb
from tests.contract.agent.conftest import agent_settings, running_agent
from tests.contract.agent.recorder import Recorder
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.contract

PREFIX = "continuum/v1/testfleet/dev-1"


def births(rec: Recorder) -> list[pb.DeviceBirth]:
    return [pb.DeviceBirth.FromString(m.payload) for m in rec.on(f"{PREFIX}/birth")]


def states(rec: Recorder) -> list[pb.Telemetry]:
    return [pb.Telemetry.FromString(m.payload) for m in rec.on(f"{PREFIX}/state")]


async def wait(rec: Recorder, check: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(rec.wait, check)


def command(**body: object) -> bytes:
    return pb.Command(protocol_version=PROTOCOL_VERSION, command_id="c", **body).SerializeToString()  # type: ignore[arg-type]


async def test_birth_is_retained_and_carries_real_capabilities(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    async with running_agent(agent_settings(mosquitto.port, tmp_path / "state")):
        await wait(recorder, lambda: births(recorder))
        late = Recorder(mosquitto.port, f"{PREFIX}/birth").start()
        try:
            seen = await wait(late, lambda: late.on("/birth"))
        finally:
            late.stop()
    assert seen[0].retain
    birth = pb.DeviceBirth.FromString(seen[0].payload)
    assert birth.device_id == "dev-1"
    assert birth.fleet == "testfleet"
    assert birth.capabilities.cpu_count == os.cpu_count()
    assert birth.capabilities.memory_bytes > 0
    assert birth.capabilities.arch
    assert birth.bd_seq == 0


async def test_telemetry_seq_counts_up_from_zero_with_the_session_bdseq(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    async with running_agent(agent_settings(mosquitto.port, tmp_path / "state")):
        await wait(recorder, lambda: len([t for t in states(recorder) if not t.historical]) >= 8)
    live = [t for t in states(recorder) if not t.historical]
    assert [t.seq for t in live[:8]] == list(range(8))
    assert {t.bd_seq for t in live} == {births(recorder)[0].bd_seq}


async def test_clean_stop_publishes_death_with_the_session_bdseq(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    async with running_agent(agent_settings(mosquitto.port, tmp_path / "state")):
        await wait(recorder, lambda: births(recorder))
    deaths = await wait(recorder, lambda: recorder.on(f"{PREFIX}/death"))
    death = pb.DeviceDeath.FromString(deaths[0].payload)
    assert death.reason == "shutdown"
    assert death.bd_seq == births(recorder)[0].bd_seq


async def test_rebirth_command_republishes_the_birth(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    async with running_agent(agent_settings(mosquitto.port, tmp_path / "state")):
        await wait(recorder, lambda: births(recorder))
        recorder.publish(f"{PREFIX}/cmd", command(rebirth=pb.Rebirth(reason="seq gap")))
        await wait(recorder, lambda: len(births(recorder)) >= 2)
    first, second = births(recorder)[:2]
    assert first.bd_seq == second.bd_seq


async def test_orchestrator_coming_online_triggers_a_rebirth(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    topic = "continuum/v1/testfleet/orchestrator"
    offline = pb.OrchestratorState(protocol_version=PROTOCOL_VERSION, online=False, instance="o-1")
    recorder.publish(topic, offline.SerializeToString(), retain=True)
    async with running_agent(agent_settings(mosquitto.port, tmp_path / "state")) as agent:
        await wait(recorder, lambda: births(recorder))
        await wait(recorder, lambda: agent.session.orchestrator_online is False)
        assert len(births(recorder)) == 1
        online = pb.OrchestratorState(protocol_version=PROTOCOL_VERSION, online=True, instance="o-2")
        recorder.publish(topic, online.SerializeToString(), retain=True)
        await wait(recorder, lambda: len(births(recorder)) >= 2)


async def test_malformed_and_unknown_commands_are_counted_and_the_agent_keeps_going(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    async with running_agent(agent_settings(mosquitto.port, tmp_path / "state")):
        await wait(recorder, lambda: births(recorder))
        recorder.publish(f"{PREFIX}/cmd", b"\xff\xff\xff not protobuf")
        recorder.publish(f"{PREFIX}/cmd", pb.Command(protocol_version=PROTOCOL_VERSION).SerializeToString())
        recorder.publish(
            f"{PREFIX}/cmd", pb.Command(protocol_version=99, rebirth=pb.Rebirth()).SerializeToString()
        )
        bad_plan = pb.PlanUpdate(model="m", version=1, layers=["a", "b"], tiers=["device"])
        recorder.publish(f"{PREFIX}/cmd", command(plan_update=bad_plan))

        def counted() -> pb.Telemetry | None:
            seen = states(recorder)
            last = seen[-1] if seen else None
            if last is None or sum(v for k, v in last.counters.items() if "rejected" in k) < 4:
                return None
            return last

        last = await wait(recorder, counted)
        count = len(states(recorder))
        await wait(recorder, lambda: len(states(recorder)) > count + 2)
    counters = last.counters
    assert counters["commands_rejected:undecodable"] == 1
    assert counters["commands_rejected:unknown"] == 1
    assert counters["commands_rejected:protocol_version"] == 1
    assert counters["commands_rejected:invalid_plan"] == 1


async def test_plan_update_is_applied_once_reported_and_kept_across_restarts(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    settings = agent_settings(mosquitto.port, tmp_path / "state")
    plan = pb.PlanUpdate(model="resnet18", version=7, layers=["l0", "l1"], tiers=["device", "edge"])
    async with running_agent(settings) as agent:
        await wait(recorder, lambda: births(recorder))
        for _ in range(2):
            recorder.publish(f"{PREFIX}/cmd", command(plan_update=plan))
        await wait(recorder, lambda: any(t.plan_version == 7 for t in states(recorder)))
        await wait(recorder, lambda: agent.session.counters["plans_duplicate"] == 1)
        assert agent.session.counters["plans_applied"] == 1
    async with running_agent(settings) as agent:
        held = agent.session.plans.get("resnet18")
        assert held is not None
        assert list(held.tiers) == ["device", "edge"]
        # The birth of the new session tells a (restarted) orchestrator what the device runs.
        await wait(recorder, lambda: len(births(recorder)) >= 2)
    reborn = births(recorder)[1]
    assert [(p.model, p.version, list(p.tiers)) for p in reborn.plans] == [
        ("resnet18", 7, ["device", "edge"])
    ]


async def test_the_active_probe_times_a_bounded_publish_into_an_uplink_estimate(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    settings = agent_settings(
        mosquitto.port, tmp_path / "state", probes={"active_bytes": 32768, "active_interval_s": 3600}
    )
    async with running_agent(settings) as agent:
        await wait(recorder, lambda: [t for t in states(recorder) if t.links and t.links[0].uplink_mbps > 0])
        probe = agent.active_probe
        assert probe is not None
        assert probe.runs == 1  # rate limited: once per hour here
    probes = recorder.on(f"{PREFIX}/probe")
    assert len(probes) == 1
    assert len(probes[0].payload) == 32768
    link = next(t for t in states(recorder) if t.links).links[0]
    assert link.target == "edge"


def tiny_model(path: Path) -> None:
    """A two-layer ONNX chain (MatMul -> Relu) written with onnx.helper."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
            helper.make_node("Relu", ["h"], ["y"], name="relu"),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


async def test_profile_command_measures_a_present_model_and_rebirths_with_its_digest(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    tiny_model(state / "models" / "tiny.onnx")
    async with running_agent(agent_settings(mosquitto.port, state)) as agent:
        first = (await wait(recorder, lambda: births(recorder)))[0]
        assert [(m.name, m.profile_digest) for m in first.models] == [("tiny", "")]
        recorder.publish(f"{PREFIX}/cmd", command(profile=pb.ProfileRequest(model="tiny", runs=2)))
        recorder.publish(f"{PREFIX}/cmd", command(profile=pb.ProfileRequest(model="absent", runs=2)))
        second = (await wait(recorder, lambda: births(recorder)[1:]))[0]
        await wait(recorder, lambda: agent.session.counters["commands_rejected:model_not_present"] == 1)
    assert len(second.models[0].profile_digest) == 64
    profile = (state / "profiles" / "tiny.json").read_text()
    assert '"device"' in profile


async def test_drain_is_reported_and_survives_a_restart(
    mosquitto: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    settings = agent_settings(mosquitto.port, tmp_path / "state")
    async with running_agent(settings):
        await wait(recorder, lambda: births(recorder))
        recorder.publish(f"{PREFIX}/cmd", command(drain=pb.Drain(drained=True)))
        await wait(recorder, lambda: any(t.drained for t in states(recorder)))
    async with running_agent(settings) as agent:
        assert agent.session.drained
