"""Pure pieces of the TUI: the filter language, the fleet index, the formatters, the backoff."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tui.recorded_fleet import recorded_devices
from tui import convert, operator_values
from tui.backoff import Backoff
from tui.filtering import parse_filter
from tui.fleet_index import SORT_KEYS, FleetIndex, SortOrder
from tui.models import DeviceRow, FleetUpdate
from tui.render import fmt_ago, sparkline, split_bar
from tui.widgets.columns import fit_columns


def rows() -> list[DeviceRow]:
    return [convert.device_row(operator_values.device_summary(d.summary)) for d in recorded_devices()]


def upsert(row: DeviceRow, done: bool = False) -> FleetUpdate:
    return FleetUpdate(upsert=row, removed=None, counts={}, snapshot_done=done)


def test_filter_words_are_anded_and_fields_match_their_column() -> None:
    devices = rows()
    assert [r.id for r in devices if parse_filter("state:stale").matches(r)] == ["cam-002"]
    assert [r.id for r in devices if parse_filter("link:cell south").matches(r)] == ["cam-004"]
    assert {r.id for r in devices if parse_filter("tier:cloud").matches(r)} == {
        "cam-001",
        "cam-004",
        "cam-006",
    }
    assert [r.id for r in devices if parse_filter("drained").matches(r)] == ["cam-005"]
    assert [r.id for r in devices if parse_filter("pinned").matches(r)] == ["cam-002"]
    assert parse_filter("  ").empty


def test_index_sorts_filters_and_keeps_the_view_until_something_changes() -> None:
    index = FleetIndex()
    index.apply(upsert(r) for r in rows())
    index.set_order(SortOrder("rtt", reverse=True))
    view = index.view()
    assert [r.rtt_ms for r in view] == sorted((r.rtt_ms for r in view), reverse=True)
    assert index.view() is view
    index.set_filter(parse_filter("fleet:south"))
    assert {r.fleet for r in index.view()} == {"south"}
    assert index.counts_by_state() == {"online": 5, "stale": 1, "offline": 1}


def test_removal_drops_a_device_and_reset_forgets_everything() -> None:
    index = FleetIndex()
    index.apply(upsert(r) for r in rows())
    assert index.apply([FleetUpdate(upsert=None, removed="cam-001", counts={}, snapshot_done=False)]) == 1
    assert index.get("cam-001") is None
    assert len(index) == 6
    index.reset()
    assert len(index) == 0
    assert not index.snapshot_done


def test_sparkline_scales_between_min_and_max_and_pads_to_width() -> None:
    assert sparkline([1, 2, 3], 5) == "  ▁▄█"
    assert sparkline([], 3) == "   "
    assert sparkline([5, 5], 2) == "▅▅"


def test_split_bar_gives_each_tier_a_share_of_the_width() -> None:
    pieces = split_bar(["device", "device", "edge", "edge", "edge", "cloud"], 12)
    assert [len(text) for text, _ in pieces] == [4, 6, 2]
    assert sum(len(text) for text, _ in split_bar(["device"] * 5 + ["cloud"], 3)) == 3


def test_ago_is_compact() -> None:
    assert fmt_ago(100_000, 95_000) == "5s"
    assert fmt_ago(10_000_000, 0) == "—"
    assert fmt_ago(7_300_000, 100_000) == "2h"


def test_narrow_terminals_drop_low_priority_columns_and_never_overflow() -> None:
    for width in (60, 80, 120, 140):
        fitted = fit_columns(width)
        assert sum(w + 1 for _, w in fitted) - 1 <= max(width, 60)
    assert "rtt_spark" in {c.key for c, _ in fit_columns(140)}
    assert "rtt_spark" not in {c.key for c, _ in fit_columns(80)}


def test_backoff_doubles_to_a_ceiling_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5
    assert backoff.attempts == 1


_STATES = ("online", "stale", "offline")


@st.composite
def _batches(draw: st.DrawFn) -> list[list[tuple[str, int, str, float] | str]]:
    ids = [f"d{i}" for i in range(12)]
    step = st.one_of(
        st.tuples(
            st.sampled_from(ids), st.integers(0, 2), st.sampled_from(("wifi", "cellular")), st.floats(1, 99)
        ),
        st.sampled_from(ids),
    )
    return draw(st.lists(st.lists(step, max_size=8), min_size=1, max_size=6))


def _row(device_id: str, state: int, link: str, rtt: float) -> DeviceRow:
    base = rows()[0]
    return replace(base, id=device_id, state=_STATES[state], link_type=link, rtt_ms=rtt)


@given(
    _batches(),
    st.sampled_from(["device", "rtt", "state", "link"]),
    st.booleans(),
    st.sampled_from(["", "wifi", "state:stale"]),
)
@settings(max_examples=60, deadline=None)
def test_incremental_view_and_counts_equal_a_recomputation_from_scratch(
    batches: list[list[tuple[str, int, str, float] | str]], column: str, reverse: bool, text: str
) -> None:
    index = FleetIndex()
    truth: dict[str, DeviceRow] = {}
    for number, batch in enumerate(batches):
        updates = []
        for step in batch:
            if isinstance(step, str):
                truth.pop(step, None)
                updates.append(FleetUpdate(upsert=None, removed=step, counts={}, snapshot_done=False))
            else:
                truth[step[0]] = _row(*step)
                updates.append(
                    FleetUpdate(upsert=truth[step[0]], removed=None, counts={}, snapshot_done=False)
                )
        index.apply(updates)
        if number == 1:
            index.set_order(SortOrder(column, reverse))
            index.set_filter(parse_filter(text))
        fleet_filter, order = index.filter, index.order
        expected = sorted(
            (r for r in truth.values() if fleet_filter.matches(r)),
            key=SORT_KEYS[order.column],  # type: ignore[arg-type]
            reverse=order.reverse,
        )
        assert index.view() == expected
        assert index.counts_by_state() == {s: n for s, n in Counter(r.state for r in truth.values()).items()}
