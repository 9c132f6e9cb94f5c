"""Edge sites and the cloud: workers, queue depth, utilisation, cost per hour, requests by placement."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Label

from tui import actions
from tui.actions import OperatorAction
from tui.models import TierRow
from tui.render import TIER_STYLES
from tui.screens.base import OperatorScreen, ScreenContext
from tui.widgets.status_bar import StatusBar

__all__ = ["TiersScreen"]


def _meter(fraction: float, width: int = 10) -> Text:
    filled = max(0, min(width, round(fraction * width)))
    style = "red" if fraction > 0.9 else "yellow" if fraction > 0.7 else "green"
    text = Text("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {fraction:4.0%}")
    return text


class TiersScreen(OperatorScreen):
    """Polls ListTiers while shown; `d` drains or undrains the highlighted edge site."""

    HELP = "Tiers: edge sites and the cloud"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "drain_site", "Drain site", tooltip="drain or undrain the highlighted edge site")
    ]

    def __init__(self, context: ScreenContext) -> None:
        super().__init__(context)
        self.tiers: list[TierRow] = []

    def compose(self) -> ComposeResult:
        """Title, status, the tiers table."""
        yield Header()
        yield StatusBar()
        yield Label("Tiers — edge sites and cloud", id="tiers-title")
        yield DataTable(id="tiers", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        """Columns, then poll."""
        table = self.query_one("#tiers", DataTable)
        self.fixed_columns(
            table,
            [
                ("TIER", 6),
                ("SITE", 12),
                ("WORKERS", 7),
                ("CAPACITY", 8),
                ("QUEUE", 5),
                ("UTILISATION", 15),
                ("$/HOUR", 7),
                ("STATE", 8),
            ],
            "REQUESTS BY PLACEMENT",
        )
        table.focus()
        self.update_status()
        self.poll()
        self.set_interval(self.context.poll_interval_s, self.poll)

    @work(exclusive=True, group="tiers-poll")
    async def poll(self) -> None:
        """Fetch the tiers and redraw (only while this screen is shown)."""
        if not self.is_current and self.tiers:
            return
        tiers = await self.fetch(self.context.reads.list_tiers(), "#tiers-title", "Tiers")
        if tiers is None:
            return
        if tiers != self.tiers:
            self.show(tiers)
        self.update_status()

    def show(self, tiers: list[TierRow]) -> None:
        """Draw the tiers, keeping the cursor row."""
        self.tiers = tiers
        table = self.query_one("#tiers", DataTable)
        keep = table.cursor_row
        table.clear()
        for tier in tiers:
            placements = ", ".join(f"{k} {v}" for k, v in sorted(tier.requests_by_placement.items()))
            table.add_row(
                Text(tier.tier, style=TIER_STYLES.get(tier.tier, "")),
                tier.site or "—",
                str(tier.workers),
                str(tier.capacity),
                str(tier.queue_depth),
                _meter(tier.utilisation),
                f"{tier.cost_per_hour:.2f}",
                Text("drained", style="bold yellow") if tier.drained else "active",
                placements or "—",
                key=f"{tier.tier}|{tier.site}",
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    def selected(self) -> TierRow | None:
        """The tier under the cursor."""
        table = self.query_one("#tiers", DataTable)
        if not self.tiers or not table.row_count:
            return None
        return self.tiers[min(table.cursor_row, len(self.tiers) - 1)]

    def context_actions(self) -> list[OperatorAction]:
        """Drain or undrain the highlighted edge site; replan the fleet."""
        tier = self.selected()
        found = [actions.drain_site(tier.site, tier.drained)] if tier is not None and tier.site else []
        return [*found, actions.replan()]

    def action_drain_site(self) -> None:
        """Drain or undrain the highlighted site."""
        tier = self.selected()
        if tier is None or not tier.site:
            self.notify("Select an edge site to drain.", severity="warning")
            return
        self.request(actions.drain_site(tier.site, tier.drained))
