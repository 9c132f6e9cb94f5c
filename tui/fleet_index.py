"""The fleet as the TUI knows it: every device by id, plus the filtered and sorted view the table shows.

Pure and synchronous so a refresh cycle can be measured and tested without a terminal: `apply()` a batch
of watch updates, then `view()` gives the ordered rows (recomputed only when something changed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tui.filtering import FleetFilter
from tui.models import DeviceRow, FleetUpdate

__all__ = ["SORT_KEYS", "FleetIndex", "SortOrder"]


def _latency(row: DeviceRow) -> tuple[float, str]:
    return (row.plans[0].predicted.latency_ms if row.plans else float("inf"), row.id)


def _battery(row: DeviceRow) -> tuple[float, str]:
    return (row.battery_percent if row.battery_percent is not None else 1000.0, row.id)


SORT_KEYS: Mapping[str, Callable[[DeviceRow], object]] = {
    "device": lambda r: r.id,
    "fleet": lambda r: (r.fleet, r.id),
    "state": lambda r: (r.state, r.id),
    "link": lambda r: (r.link_type, r.id),
    "rtt": lambda r: (r.rtt_ms, r.id),
    "uplink": lambda r: (r.uplink_mbps, r.id),
    "battery": _battery,
    "plan": lambda r: (tuple(t for p in r.plans for t in p.tiers), r.id),
    "latency": _latency,
    "seen": lambda r: (r.last_seen_unix_ms, r.id),
}
"""Sortable columns by name, with the key that orders them."""


@dataclass(frozen=True, slots=True)
class SortOrder:
    """Which column orders the table, and in which direction."""

    column: str = "device"
    reverse: bool = False


class FleetIndex:
    """Every known device, the filter and sort order, and a cached view invalidated by changes."""

    def __init__(self) -> None:
        self._rows: dict[str, DeviceRow] = {}
        self._filter = FleetFilter()
        self._order = SortOrder()
        self._view: list[DeviceRow] | None = None
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
                self._rows[update.upsert.id] = update.upsert
                changed += 1
            elif update.removed is not None and self._rows.pop(update.removed, None) is not None:
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
        self._view = None
        self.snapshot_done = False

    def set_filter(self, fleet_filter: FleetFilter) -> None:
        """Filter the view."""
        if fleet_filter != self._filter:
            self._filter = fleet_filter
            self._view = None

    def set_order(self, order: SortOrder) -> None:
        """Sort the view."""
        if order != self._order:
            self._order = order
            self._view = None

    def view(self) -> list[DeviceRow]:
        """The filtered, sorted rows; cached until the next change, filter or sort."""
        if self._view is None:
            rows: Iterable[DeviceRow] = self._rows.values()
            if not self._filter.empty:
                rows = [r for r in rows if self._filter.matches(r)]
            key = SORT_KEYS.get(self._order.column, SORT_KEYS["device"])
            self._view = sorted(rows, key=key, reverse=self._order.reverse)  # type: ignore[arg-type]
        return self._view

    def counts_by_state(self) -> dict[str, int]:
        """How many known devices are in each state (computed here, so it always matches the table)."""
        return dict(Counter(row.state for row in self._rows.values()))
