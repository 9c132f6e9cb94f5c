"""The plan cache (versioned, idempotent, on disk) and the fallback ladder."""

from __future__ import annotations

from pathlib import Path

from agents.plans import PlanStore, effective_tiers
from protos.v1 import control_pb2 as pb


def plan(version: int, tiers: list[str], model: str = "m") -> pb.PlanUpdate:
    return pb.PlanUpdate(
        model=model, version=version, layers=[f"l{i}" for i in range(len(tiers))], tiers=tiers
    )


def test_newer_versions_apply_repeats_and_older_ones_do_not(tmp_path: Path) -> None:
    store = PlanStore(tmp_path)
    assert store.apply(plan(2, ["device", "edge"])) == "applied"
    assert store.apply(plan(2, ["cloud", "cloud"])) == "duplicate"
    assert store.apply(plan(1, ["cloud", "cloud"])) == "stale"
    held = store.get("m")
    assert held is not None
    assert list(held.tiers) == ["device", "edge"]
    assert store.apply(plan(3, ["edge", "edge"])) == "applied"
    assert store.version == 3


def test_plans_survive_a_restart(tmp_path: Path) -> None:
    PlanStore(tmp_path).apply(plan(5, ["device", "cloud"], model="resnet18"))
    reloaded = PlanStore(tmp_path)
    assert reloaded.models() == ["resnet18"]
    assert reloaded.version == 5


def test_a_corrupt_plan_file_is_counted_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.pb").write_bytes(b"\xff\xff\xff")
    store = PlanStore(tmp_path)
    assert store.corrupt_files == 1
    assert store.models() == []


def test_unreachable_tiers_fall_down_the_ladder() -> None:
    tiers = ["device", "edge", "cloud"]
    assert effective_tiers(tiers, {"edge": True, "cloud": True}) == ("device", "edge", "cloud")
    assert effective_tiers(tiers, {"edge": True, "cloud": False}) == ("device", "edge", "edge")
    assert effective_tiers(tiers, {"edge": False, "cloud": False}) == ("device", "device", "device")
    assert effective_tiers(tiers, {"edge": False, "cloud": True}) == ("device", "device", "cloud")


def test_a_custom_ladder_is_followed() -> None:
    assert effective_tiers(["cloud"], set(), ladder=["cloud", "device"]) == ("device",)
