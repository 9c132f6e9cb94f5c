"""The fleet table's columns: header, width, priority and how each draws a device. Pure.

Columns are dropped by priority when the terminal is narrow (0 always shown), the device column takes any
spare width, and the table keeps the declared order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tui.models import DeviceRow
from tui.render import STATE_STYLES, Piece, fmt_ago, fmt_ms, sparkline, split_bar

__all__ = ["COLUMNS", "Column", "fit_columns"]

SEPARATOR = 1
"""Blank cells between columns."""


@dataclass(frozen=True, slots=True)
class Column:
    """One table column; `sort` names a key in `fleet_index.SORT_KEYS` (empty: not sortable)."""

    key: str
    header: str
    width: int
    priority: int
    draw: Callable[[DeviceRow, int, int], list[Piece]]
    sort: str = ""
    align_right: bool = False


def _text(value: str, style: str = "") -> list[Piece]:
    return [(value, style)]


def _state(row: DeviceRow, _now: int, _w: int) -> list[Piece]:
    label = row.state + ("*" if row.drained else "")
    return _text(label, STATE_STYLES.get(row.state, "magenta"))


def _battery(row: DeviceRow, _now: int, _w: int) -> list[Piece]:
    if row.battery_percent is None:
        return _text("ac", "dim")
    style = "red" if row.battery_percent < 20 else ""
    return _text(f"{row.battery_percent:.0f}%", style)


def _plan(row: DeviceRow, _now: int, width: int) -> list[Piece]:
    tiers = row.plans[0].tiers if row.plans else ()
    pieces = split_bar(tiers, width - 1)
    pinned = any(plan.pinned for plan in row.plans)
    return [*pieces, ("P" if pinned else " ", "bold magenta")]


def _latency(row: DeviceRow, _now: int, _w: int) -> list[Piece]:
    if not row.plans:
        return _text("—", "dim")
    plan = row.plans[0]
    measured = plan.measured_latency_ms
    style = ""
    if measured is not None and plan.predicted.latency_ms > 0 and measured > 1.25 * plan.predicted.latency_ms:
        style = "yellow"
    return _text(f"{fmt_ms(plan.predicted.latency_ms)}/{fmt_ms(measured)}", style)


COLUMNS: tuple[Column, ...] = (
    Column("device", "DEVICE", 16, 0, lambda r, _n, _w: _text(r.id, "bold"), sort="device"),
    Column("fleet", "FLEET", 10, 3, lambda r, _n, _w: _text(r.fleet), sort="fleet"),
    Column("state", "STATE", 8, 0, _state, sort="state"),
    Column("link", "LINK", 9, 2, lambda r, _n, _w: _text(r.link_type), sort="link"),
    Column("rtt", "RTT ms", 7, 0, lambda r, _n, _w: _text(fmt_ms(r.rtt_ms)), sort="rtt", align_right=True),
    Column("rtt_spark", "", 8, 2, lambda r, _n, w: _text(sparkline(r.rtt_history_ms, w), "cyan"), "rtt"),
    Column(
        "uplink", "UP Mb/s", 7, 0, lambda r, _n, _w: _text(fmt_ms(r.uplink_mbps)), "uplink", align_right=True
    ),
    Column(
        "up_spark", "", 8, 2, lambda r, _n, w: _text(sparkline(r.uplink_history_mbps, w), "green"), "uplink"
    ),
    Column("battery", "BATT", 5, 2, _battery, sort="battery", align_right=True),
    Column("plan", "PLAN d|e|c", 11, 0, _plan, sort="plan"),
    Column("latency", "PRED/MEAS ms", 13, 1, _latency, sort="latency", align_right=True),
    Column("seen", "SEEN", 5, 1, lambda r, n, _w: _text(fmt_ago(n, r.last_seen_unix_ms)), "seen", True),
)
"""Every column in display order."""


def fit_columns(width: int, columns: Sequence[Column] = COLUMNS) -> list[tuple[Column, int]]:
    """The columns that fit in `width` cells with their widths: by priority, the first column flexing."""
    chosen: set[str] = set()
    used = -SEPARATOR
    for column in sorted(columns, key=lambda c: c.priority):
        need = column.width + SEPARATOR
        if column.priority == 0 or used + need <= width:
            chosen.add(column.key)
            used += need
    spare = max(0, width - used)
    fitted: list[tuple[Column, int]] = []
    for index, column in enumerate(c for c in columns if c.key in chosen):
        extra = min(spare, 14) if index == 0 else 0
        fitted.append((column, column.width + extra))
    return fitted
