"""A fleet shard end to end without I/O: sessions, replanning with hysteresis, pin and drain."""

from __future__ import annotations

import pytest

from orchestrator.domain.messages import Birth
from orchestrator.fleet.records import ShardOutput
from orchestrator.fleet.shard import FleetShard
from orchestrator.replanning.replanner import PlanContext
from protos.topics import device_topic
from protos.v1 import control_pb2
from tests.unit.orchestrator.fleetkit import birth, commands, death, shard, telemetry

FAST, SLOW = 1000.0, 2.0
EDGE, DEVICE = ("edge", "edge"), ("device", "device")


def plans(out: ShardOutput) -> list[tuple[int, tuple[str, ...]]]:
    return [(c.plan_update.version, tuple(c.plan_update.tiers)) for c in commands(out, "plan_update")]


def on_edge(s: FleetShard) -> None:
    """Birth then two fast telemetry intervals: the device ends on the edge plan (v2)."""
    s.apply([birth("d1", now=0.0)], 0.0)
    s.apply([telemetry("d1", 0, FAST, 1.0)], 1.0)
    out = s.apply([telemetry("d1", 1, FAST, 2.0)], 2.0)
    assert plans(out) == [(2, EDGE)]


def test_a_birth_gets_a_first_plan_at_once() -> None:
    s = shard()
    out = s.apply([birth("d1")], 0.0)
    assert plans(out) == [(1, DEVICE)]
    assert s.counts()["online"] == 1


def test_a_better_link_switches_the_plan_on_the_second_interval() -> None:
    s = shard()
    s.apply([birth("d1")], 0.0)
    first = s.apply([telemetry("d1", 0, FAST, 1.0)], 1.0)
    assert plans(first) == []
    assert any("confirmation 1/2" in e.message for e in first.events)
    on_edge(shard())


def test_a_bandwidth_drop_switches_within_two_telemetry_intervals() -> None:
    s = shard()
    on_edge(s)
    s.apply([telemetry("d1", 2, SLOW, 3.0)], 3.0)
    out = s.apply([telemetry("d1", 3, SLOW, 4.0)], 4.0)
    assert plans(out) == [(3, DEVICE)]
    assert out.switches == 1
    assert any(e.kind == "switch" for e in out.events)


def test_a_one_interval_blip_does_not_switch() -> None:
    s = shard()
    on_edge(s)
    blip = s.apply([telemetry("d1", 2, SLOW, 3.0)], 3.0)
    back = s.apply([telemetry("d1", 3, FAST, 4.0)], 4.0)
    after = s.apply([telemetry("d1", 4, FAST, 5.0)], 5.0)
    assert plans(blip) == plans(back) == plans(after) == []
    detail = s.detail("d1")
    assert detail is not None
    assert detail.plans[0].version == 2
    assert tuple(detail.plans[0].tiers) == EDGE


def test_a_small_gain_is_held_by_hysteresis_and_the_reason_recorded() -> None:
    s = shard(relative=0.99)
    s.apply([birth("d1")], 0.0)
    out = s.apply([telemetry("d1", 0, FAST, 1.0)], 1.0)
    assert plans(out) == []
    assert any("hysteresis bound" in e.message for e in out.events)


def test_draining_a_device_moves_everything_on_it_at_once_and_tells_it() -> None:
    s = shard()
    on_edge(s)
    result, out = s.drain("d1", True, 3.0)
    assert result.status == "ok"
    assert [c.drain.drained for c in commands(out, "drain")] == [True]
    assert plans(out) == [(3, DEVICE)]
    again = s.apply([telemetry("d1", 2, FAST, 4.0)], 4.0)
    assert plans(again) == []


def test_draining_the_edge_site_moves_devices_off_the_edge() -> None:
    s = shard()
    on_edge(s)
    out = s.set_context(PlanContext(drained_sites=frozenset({"s1"})), 3.0)
    [(version, tiers)] = plans(out)
    assert "edge" not in tiers
    assert version == 3


def test_a_pinned_plan_is_published_and_never_replaced() -> None:
    s = shard()
    on_edge(s)
    result, out = s.pin("d1", "tiny", ["device", "edge"], True, 3.0)
    assert result.status == "ok"
    [update] = [c.plan_update for c in commands(out, "plan_update")]
    assert (tuple(update.tiers), update.pinned) == (("device", "edge"), True)
    for seq, now in ((2, 4.0), (3, 5.0), (4, 6.0)):
        assert plans(s.apply([telemetry("d1", seq, SLOW, now)], now)) == []
    result, out = s.pin("d1", "tiny", [], False, 7.0)
    assert result.status == "ok"
    assert [c.plan_update.pinned for c in commands(out, "plan_update")] == [False]


def test_pin_with_the_wrong_number_of_tiers_is_an_invalid_argument() -> None:
    s = shard()
    s.apply([birth("d1")], 0.0)
    result, _ = s.pin("d1", "tiny", ["edge"], True, 1.0)
    assert result.status == "invalid_argument"


def test_actions_on_an_unknown_device_are_not_found() -> None:
    s = shard()
    assert s.drain("ghost", True, 0.0)[0].status == "not_found"
    assert s.rebirth("ghost", 0.0)[0].status == "not_found"
    assert s.detail("ghost") is None


def test_telemetry_from_an_unknown_device_sends_a_rebirth_command() -> None:
    s = shard()
    out = s.apply([telemetry("stranger", 0, FAST, 1.0)], 1.0)
    assert len(commands(out, "rebirth")) == 1
    assert out.outcomes == {"telemetry_unknown_device": 1}


def test_a_retained_birth_is_asked_to_confirm_with_a_rebirth() -> None:
    s = shard()
    out = s.apply([birth("d1", retained=True)], 0.0)
    assert len(commands(out, "rebirth")) == 1
    assert s.counts()["stale"] == 1


def test_a_death_ends_the_session_and_a_stale_one_is_ignored() -> None:
    s = shard()
    s.apply([birth("d1", bd_seq=2)], 0.0)
    s.apply([death("d1", 1, 1.0)], 1.0)
    assert s.counts()["online"] == 1
    s.apply([death("d1", 2, 2.0)], 2.0)
    assert s.counts()["offline"] == 1


def test_changes_since_reports_only_devices_touched_after_a_revision() -> None:
    s = shard()
    s.apply([birth("d1"), birth("d2")], 0.0)
    revision, changed = s.changes_since(0)
    assert sorted(d.id for d in changed) == ["d1", "d2"]
    s.apply([telemetry("d2", 0, FAST, 1.0)], 1.0)
    _, changed = s.changes_since(revision)
    assert [d.id for d in changed] == ["d2"]


def test_a_plan_the_device_holds_is_adopted_so_new_versions_are_newer() -> None:
    s = shard()
    held = control_pb2.PlanUpdate(model="tiny", version=7, layers=["l1", "l2"], tiers=["edge", "edge"])
    born = birth("d1", plans=[held])
    assert isinstance(born.message, Birth)
    sent = plans(s.apply([born], 0.0))
    for seq in range(2):
        sent += plans(s.apply([telemetry("d1", seq, SLOW, 1.0 + seq)], 1.0 + seq))
    assert sent == [(8, DEVICE)]


@pytest.mark.parametrize("retained", [False, True], ids=["live", "retained"])
def test_a_birth_older_than_the_plan_sent_since_does_not_rewind_it_and_the_plan_goes_again(
    retained: bool,
) -> None:
    # The device answered two rebirth requests in a row, or the broker handed its retained birth out again:
    # the birth reports the plan held when it was published, older than the one sent since. Adopting its
    # tiers under the newer version would show a plan the device does not run, numbered like one it does.
    s = shard()
    on_edge(s)
    older = control_pb2.PlanUpdate(model="tiny", version=1, layers=["l1", "l2"], tiers=list(DEVICE))
    out = s.apply([birth("d1", plans=[older], retained=retained)], 3.0)
    detail = s.detail("d1")
    assert detail is not None
    assert [(p.version, p.tiers) for p in detail.plans] == [(2, EDGE)]
    # Sent again: a device that has v2 ignores the repeat; one that never got it (a standby's) applies it.
    assert (2, EDGE) in plans(out)


def test_a_birth_holding_the_same_version_with_other_tiers_wins_and_numbering_goes_above() -> None:
    # Two orchestrators numbered independently: what the device runs is the truth.
    s = shard()
    on_edge(s)
    same = control_pb2.PlanUpdate(model="tiny", version=2, layers=["l1", "l2"], tiers=list(DEVICE))
    s.apply([birth("d1", plans=[same])], 3.0)
    detail = s.detail("d1")
    assert detail is not None
    assert [(p.version, p.tiers) for p in detail.plans] == [(2, DEVICE)]


def test_a_repeated_birth_refreshes_what_the_device_reports() -> None:
    s = shard()
    s.apply([birth("d1", site="s1")], 0.0)
    s.apply([birth("d1", site="s2")], 1.0)
    detail = s.detail("d1")
    assert detail is not None
    assert detail.summary.site == "s2"


def test_pinning_the_current_plan_sends_a_newer_version_the_device_will_not_ignore() -> None:
    s = shard()
    on_edge(s)
    result, out = s.pin("d1", "tiny", [], True, 3.0)
    assert result.status == "ok"
    [update] = [c.plan_update for c in commands(out, "plan_update")]
    assert (update.version, tuple(update.tiers), update.pinned) == (3, EDGE, True)


def test_a_retained_birth_repeating_the_current_session_sends_no_rebirth() -> None:
    s = shard()
    s.apply([birth("d1", bd_seq=3, now=0.0)], 0.0)
    s.apply([telemetry("d1", 0, FAST, 1.0, bd_seq=3)], 1.0)
    out = s.apply([birth("d1", bd_seq=3, now=2.0, retained=True), birth("d2", retained=True)], 2.0)
    rebirth_topics = [o.topic for o in out.commands if o.kind == "rebirth"]
    assert rebirth_topics == [device_topic("f1", "d2", "cmd")]
    assert len(commands(out, "rebirth")) == 1
    assert s.counts()["online"] == 1


def test_a_retained_birth_with_a_newer_bd_seq_still_asks_for_a_rebirth() -> None:
    s = shard()
    s.apply([birth("d1", bd_seq=3, now=0.0)], 0.0)
    out = s.apply([birth("d1", bd_seq=4, now=1.0, retained=True)], 1.0)
    assert len(commands(out, "rebirth")) == 1
