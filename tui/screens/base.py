"""What every operator screen shares: the status bar, read-only gating of actions, palette context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.widgets import DataTable

from tui.actions import ACTION_NAMES, OperatorAction
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import ContinuumApp

__all__ = ["OperatorScreen"]


class OperatorScreen(Screen[None]):
    """A screen of the console; subclasses list their actions for the palette in `context_actions()`."""

    @property
    def console(self) -> ContinuumApp:
        """The app, typed."""
        from tui.app import ContinuumApp

        return cast(ContinuumApp, self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide and refuse mutating actions in read-only mode."""
        return not (action in ACTION_NAMES and self.console.settings.read_only)

    @property
    def torn_down(self) -> bool:
        """True once the screen is being removed (its widgets go first): an answer that arrives
        then must not be drawn."""
        return not self.is_attached or not self.children

    def fixed_columns(self, table: DataTable[object], columns: Sequence[tuple[str, int]], last: str) -> None:
        """Give `table` columns of fixed widths, the `last` one taking what the terminal has left.

        Fixed widths keep a table's layout the same whatever order its rows arrive in (DataTable's
        automatic widths can leave the header drawn for the widths before the rows came).
        """
        for label, width in columns:
            table.add_column(label, width=width)
        used = sum(width + 2 * table.cell_padding for _, width in columns)
        table.add_column(last, width=max(12, self.app.size.width - used - 2 * table.cell_padding - 6))

    def context_actions(self) -> list[OperatorAction]:
        """The actions that make sense here right now (for the command palette)."""
        return []

    def on_screen_resume(self) -> None:
        """Redraw the status bar when the screen comes back."""
        self.update_status()

    def update_status(self) -> None:
        """Redraw the status bar from the app's connection state and counts."""
        for bar in self.query(StatusBar):
            bar.show(
                self.console.connection, self.console.index.counts_by_state(), self.console.settings.read_only
            )
