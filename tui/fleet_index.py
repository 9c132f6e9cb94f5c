"""The fleet as the TUI knows it: every device by id, plus the filtered and sorted view the table shows.

Pure and synchronous so a refresh cycle can be measured and tested without a terminal: `apply()` a batch
of watch updates, then `view()` gives the ordered rows (recomputed only when something changed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from tui.filtering import FleetFilter
from tui.models import DeviceRow, FleetUpdate

__all__ = ["SORT_KEYS", "FleetIndex", "SortOrder"]


def _latency(row: DeviceRow) -> tuple[float, str]:
    return (row.plans[0].predicted.latency_ms if row.plans else float("inf"), row.id)


def _battery(row: DeviceRow) -> tuple[float, str]:
    return (row.battery_percent if row.battery_percent is not None else 1000.0, row.id)


SORT_KEYS: Mapping[str, Callable[[DeviceRow], object]] = {
    "device": attrgetter("id"),
    "fleet": attrgetter("fleet", "id"),
    "state": attrgetter("state", "id"),
    "link": attrgetter("link_type", "id"),
    "rtt": attrgetter("rtt_ms", "id"),
    "uplink": attrgetter("uplink_mbps", "id"),
    "battery": _battery,
    "plan": lambda r: (tuple(t for p in r.plans for t in p.tiers), r.id),
    "latency": _latency,
    "seen": attrgetter("last_seen_unix_ms", "id"),
}
"""Sortable columns by name, with the key that orders them."""


@dataclass(frozen=True, slots=True)
class SortOrder:
    """Which column orders the table, and in which direction."""

    column: str = "device"
    reverse: bool = False


class FleetIndex:
    """Every known device, the filter and sort order, and a cached view invalidated by changes.

    A refresh costs O(changes) plus one pass over the fleet: counts by state are kept up to date in
    `apply()`, filter verdicts are cached per device until it changes, and each re-sort starts from the
    previous order, which Timsort finishes in near-linear time when only some devices moved.
    """

    def __init__(self) -> None:
        self._rows: dict[str, DeviceRow] = {}
        self._filter = FleetFilter()
        self._order = SortOrder()
        self._view: list[DeviceRow] | None = None
        self._sorted_ids: list[str] = []
        self._sorted_order: SortOrder | None = None
        self._added: list[str] = []
        self._verdicts: dict[str, bool] = {}
        self._counts: Counter[str] = Counter()
        self.server_counts: Mapping[str, int] = {}
        self.snapshot_done = False

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, device_id: str) -> DeviceRow | None:
        """The device with this id, if known."""
        return self._rows.get(device_id)

    @property
    def filter(self) -> FleetFilter:
        """The filter in force."""
        return self._filter

    @property
    def order(self) -> SortOrder:
        """The sort order in force."""
        return self._order

    def apply(self, updates: Iterable[FleetUpdate]) -> int:
        """Apply a batch of watch updates; returns how many devices changed."""
        changed = 0
        for update in updates:
            if update.upsert is not None:
                row = update.upsert
                old = self._rows.get(row.id)
                if old is None:
                    self._added.append(row.id)
                else:
                    self._counts[old.state] -= 1
                self._rows[row.id] = row
                self._counts[row.state] += 1
                self._verdicts.pop(row.id, None)
                changed += 1
            elif update.removed is not None:
                old = self._rows.pop(update.removed, None)
                if old is not None:
                    self._counts[old.state] -= 1
                    self._verdicts.pop(old.id, None)
                    changed += 1
            if update.counts:
                self.server_counts = update.counts
            if update.snapshot_done:
                self.snapshot_done = True
        if changed:
            self._view = None
        return changed

    def reset(self) -> None:
        """Forget every device (a new watch stream starts with a full snapshot)."""
        self._rows.clear()
        self._sorted_ids = []
        self._added = []
        self._verdicts.clear()
        self._counts.clear()
        self._view = None
        self.snapshot_done = False

    def set_filter(self, fleet_filter: FleetFilter) -> None:
        """Filter the view."""
        if fleet_filter != self._filter:
            self._filter = fleet_filter
            self._verdicts.clear()
            self._view = None

    def set_order(self, order: SortOrder) -> None:
        """Sort the view."""
        if order != self._order:
            self._order = order
            self._view = None

    def view(self) -> list[DeviceRow]:
        """The filtered, sorted rows; cached until the next change, filter or sort."""
        if self._view is None:
            self._view = self._filtered(self._sorted())
        return self._view

    def _sorted(self) -> list[DeviceRow]:
        rows_by_id = self._rows
        if self._sorted_order == self._order:
            rows = [rows_by_id[i] for i in self._sorted_ids if i in rows_by_id]
            rows += [rows_by_id[i] for i in dict.fromkeys(self._added) if i in rows_by_id]
            rows = list({r.id: r for r in rows}.values()) if len(rows) > len(rows_by_id) else rows
        else:
            rows = list(rows_by_id.values())
        key = SORT_KEYS.get(self._order.column, SORT_KEYS["device"])
        rows.sort(key=key, reverse=self._order.reverse)  # type: ignore[arg-type]
        self._sorted_ids = [r.id for r in rows]
        self._sorted_order = self._order
        self._added = []
        return rows

    def _filtered(self, rows: list[DeviceRow]) -> list[DeviceRow]:
        fleet_filter = self._filter
        if fleet_filter.empty:
            return rows
        verdicts = self._verdicts
        kept = []
        for row in rows:
            verdict = verdicts.get(row.id)
            if verdict is None:
                verdict = verdicts[row.id] = fleet_filter.matches(row)
            if verdict:
                kept.append(row)
        return kept

    def counts_by_state(self) -> dict[str, int]:
        """How many known devices are in each state (kept with the rows, so it always matches the table)."""
        return {state: count for state, count in self._counts.items() if count > 0}
