"""The fallback ladder: planned, edge-direct, cloud-direct, device-only; no repeats, no known-bad tiers."""

from __future__ import annotations

from agents.dataplane.ladder import ladder, placement, usable


def test_a_three_tier_plan_has_all_four_rungs_in_order() -> None:
    rungs = ladder(["device", "edge", "cloud"])
    assert [r.name for r in rungs] == ["planned", "edge_direct", "cloud_direct", "device_only"]
    assert rungs[1].tiers == ("device", "edge", "edge")
    assert rungs[2].tiers == ("device", "cloud", "cloud")
    assert rungs[3].tiers == ("device", "device", "device")


def test_rungs_equal_to_the_plan_are_not_tried_twice() -> None:
    assert [r.name for r in ladder(["device", "edge"])] == ["planned", "cloud_direct", "device_only"]
    assert [r.name for r in ladder(["device", "device"])] == ["planned"]


def test_a_rung_through_a_failed_tier_is_not_usable() -> None:
    planned, edge_direct, cloud_direct, device_only = ladder(["device", "edge", "cloud"])
    assert not usable(planned, {"edge"})
    assert not usable(edge_direct, {"edge"})
    assert usable(cloud_direct, {"edge"})
    assert usable(device_only, {"edge", "cloud"})


def test_placement_names_the_tiers_used_in_order() -> None:
    assert placement(["device", "device", "edge", "cloud"]) == "device+edge+cloud"
    assert placement(["edge", "edge"]) == "edge"
    assert placement(["device", "edge", "device"]) == "device+edge+device"
