"""Births, deaths, replans with reasons, errors and actions: filterable, following live."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Label

from tui.models import EventInfo
from tui.render import fmt_ago
from tui.screens.base import OperatorScreen, ScreenContext
from tui.widgets.status_bar import StatusBar

__all__ = ["EventsScreen"]

KIND_STYLES = {
    "birth": "green",
    "death": "red",
    "replan": "cyan",
    "switch": "bold cyan",
    "rebirth": "yellow",
    "error": "bold red",
    "action": "magenta",
}
_KEEP = 2000


def event_matches(event: EventInfo, text: str) -> bool:
    """Whether an event passes the filter: every word must occur in its kind, device or message."""
    haystack = f"{event.kind} {event.device_id} {event.message}".lower()
    return all(word in haystack for word in text.lower().split())


class EventsScreen(OperatorScreen):
    """Polls ListEvents with after_id, newest first; `/` filters; `f` pauses or resumes following."""

    HELP = "Events: what happened in the fleet"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("f", "toggle_follow", "Follow on/off"),
    ]

    def __init__(self, context: ScreenContext) -> None:
        super().__init__(context)
        self.events: deque[EventInfo] = deque(maxlen=_KEEP)
        self.last_id = 0
        self.following = True
        self._filter = ""
        self._generation = -1

    def compose(self) -> ComposeResult:
        """Title, status, filter prompt, the events table."""
        yield Header()
        yield StatusBar()
        yield Input(placeholder="filter events: words matching kind, device or message", id="events-filter")
        yield Label("", id="events-summary")
        yield DataTable(id="events", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        """Columns, then follow."""
        self.query_one("#events-filter", Input).display = False
        table = self.query_one("#events", DataTable)
        self.fixed_columns(table, [("ID", 6), ("AGO", 5), ("KIND", 8), ("DEVICE", 16)], "MESSAGE")
        table.focus()
        self.update_status()
        self.poll()
        self.set_interval(self.context.poll_interval_s, self.poll)

    @work(exclusive=True, group="events-poll")
    async def poll(self) -> None:
        """Fetch events newer than the last seen id (while shown and following)."""
        if self.last_id and (not self.is_current or not self.following):
            return
        generation = self.context.generation()
        if self._generation != generation:
            self._generation = generation
            self.events.clear()
            self.last_id = 0
        fresh = await self.fetch(
            self.context.reads.list_events(after_id=self.last_id, limit=500), "#events-summary", "events"
        )
        if fresh is None:
            return
        if fresh:
            self.events.extend(sorted(fresh, key=lambda e: e.id))
            self.last_id = max(self.last_id, *(e.id for e in fresh))
        self.redraw()
        self.update_status()

    def redraw(self) -> None:
        """Draw the kept events that pass the filter, newest first."""
        table = self.query_one("#events", DataTable)
        table.clear()
        now = self.context.clock_ms()
        shown = 0
        for event in reversed(self.events):
            if self._filter and not event_matches(event, self._filter):
                continue
            table.add_row(
                str(event.id),
                fmt_ago(now, event.unix_ms),
                Text(event.kind, style=KIND_STYLES.get(event.kind, "")),
                event.device_id or "—",
                event.message,
            )
            shown += 1
        follow = "following" if self.following else "PAUSED (f to follow)"
        summary = f"{shown} of {len(self.events)} events · {follow}"
        if self._filter:
            summary += f" · filter: {self._filter}"
        self.query_one("#events-summary", Label).update(summary)

    def action_filter(self) -> None:
        """Show and focus the filter prompt."""
        prompt = self.query_one("#events-filter", Input)
        prompt.display = True
        prompt.focus()

    def action_clear_filter(self) -> None:
        """Drop the filter."""
        prompt = self.query_one("#events-filter", Input)
        prompt.value = ""
        prompt.display = False
        self._filter = ""
        self.query_one("#events", DataTable).focus()
        self.redraw()

    @on(Input.Changed, "#events-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self.redraw()

    @on(Input.Submitted, "#events-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#events", DataTable).focus()

    def action_toggle_follow(self) -> None:
        """Pause or resume following new events."""
        self.following = not self.following
        self.redraw()
        if self.following:
            self.poll()
