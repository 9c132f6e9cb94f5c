"""The home screen: the whole fleet, live, filterable and sortable, with the levers at hand."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Input, Label

from tui import actions
from tui.actions import OperatorAction
from tui.filtering import parse_filter
from tui.fleet_index import SORT_KEYS
from tui.messages import DeviceRequested
from tui.models import DeviceRow
from tui.screens.base import OperatorScreen
from tui.widgets.fleet_table import FleetTable
from tui.widgets.status_bar import StatusBar

__all__ = ["FleetScreen"]

_SORT_CYCLE = tuple(SORT_KEYS)


class FleetScreen(OperatorScreen):
    """Every device in a virtualised table; `/` filters, `s` sorts, Enter opens a device."""

    HELP = "Fleet: every device, live"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("p", "pin", "Pin", tooltip="pin every current plan of the selected device"),
        Binding("u", "unpin", "Unpin", show=False, tooltip="unpin every plan of the selected device"),
        Binding("d", "drain", "Drain", tooltip="drain or undrain the selected device"),
        Binding("r", "replan", "Replan", tooltip="replan the selected device"),
        Binding("R", "replan_fleet", "Replan fleet", show=False, tooltip="replan the whole fleet"),
        Binding(
            "b",
            "rebirth",
            "Rebirth",
            show=False,
            tooltip="ask the selected device to publish its birth again",
        ),
    ]

    def compose(self) -> ComposeResult:
        """Title, status, filter prompt, the table, the key footer."""
        yield Header()
        yield StatusBar()
        yield Input(
            placeholder="filter: words or id: state: tier: link: site: fleet:  (Enter to keep, Esc to clear)",
            id="filter",
        )
        yield Label("", id="view-summary")
        yield FleetTable(self.context.fleet, self.context.clock_ms, id="fleet-table")
        yield Footer()

    def on_mount(self) -> None:
        """Start with the table focused and the filter prompt hidden."""
        self.query_one("#filter", Input).display = False
        self.query_one(FleetTable).focus()
        self.reload()

    @property
    def table(self) -> FleetTable:
        """The fleet table."""
        return self.query_one(FleetTable)

    def reload(self) -> None:
        """Redraw from the fleet index (the app calls this once per refresh cycle)."""
        if self.torn_down or not self.query(FleetTable) or not self.query("#view-summary"):
            return  # still composing, or being torn down
        self.table.reload()
        self.update_status()
        index = self.context.fleet
        shown, total = self.table.row_count, len(index)
        order = index.order
        arrow = "▼" if order.reverse else "▲"
        text = f"{shown} of {total} devices · sorted by {order.column} {arrow} · * drained  P pinned"
        if not index.filter.empty:
            text += f" · filter: {index.filter.text}"
        self.query_one("#view-summary", Label).update(text)

    def selected(self) -> DeviceRow | None:
        """The device under the cursor."""
        device_id = self.table.selected_id
        return self.context.fleet.get(device_id) if device_id else None

    def action_filter(self) -> None:
        """Show and focus the filter prompt."""
        prompt = self.query_one("#filter", Input)
        prompt.display = True
        prompt.focus()

    def action_clear_filter(self) -> None:
        """Drop the filter and hide the prompt."""
        prompt = self.query_one("#filter", Input)
        prompt.value = ""
        prompt.display = False
        self.context.fleet.set_filter(parse_filter(""))
        self.table.focus()
        self.reload()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.context.fleet.set_filter(parse_filter(event.value))
        self.reload()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.action_clear_filter()
            return
        self.table.focus()

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        current = self.context.fleet.order.column
        following = _SORT_CYCLE[(_SORT_CYCLE.index(current) + 1) % len(_SORT_CYCLE)]
        self.table.sort_by(following)
        self.reload()

    def action_reverse_sort(self) -> None:
        """Reverse the sort direction."""
        self.table.sort_by(self.context.fleet.order.column)
        self.reload()

    @on(FleetTable.SortRequested)
    def _sort_requested(self, event: FleetTable.SortRequested) -> None:
        self.table.sort_by(event.column)
        self.reload()

    @on(FleetTable.Chosen)
    def _chosen(self, event: FleetTable.Chosen) -> None:
        self.post_message(DeviceRequested(event.device_id))

    def context_actions(self) -> list[OperatorAction]:
        """Actions on the selected device, and replanning the fleet."""
        device = self.selected()
        found: list[OperatorAction] = []
        if device is not None:
            found += [
                actions.pin_plan(device),
                actions.unpin_plan(device),
                actions.drain_device(device),
                actions.replan(device.id),
                actions.rebirth(device.id),
            ]
        return [*found, actions.replan()]

    def _with_device(self) -> DeviceRow | None:
        device = self.selected()
        if device is None:
            self.notify("No device selected.", severity="warning")
        return device

    def action_pin(self) -> None:
        """Pin every current plan of the selected device."""
        if device := self._with_device():
            self.request(actions.pin_plan(device))

    def action_unpin(self) -> None:
        """Unpin every plan of the selected device."""
        if device := self._with_device():
            self.request(actions.unpin_plan(device))

    def action_drain(self) -> None:
        """Drain or undrain the selected device."""
        if device := self._with_device():
            self.request(actions.drain_device(device))

    def action_replan(self) -> None:
        """Replan the selected device."""
        if device := self._with_device():
            self.request(actions.replan(device.id))

    def action_replan_fleet(self) -> None:
        """Replan the whole fleet."""
        self.request(actions.replan())

    def action_rebirth(self) -> None:
        """Ask the selected device to publish its birth again."""
        if device := self._with_device():
            self.request(actions.rebirth(device.id))
