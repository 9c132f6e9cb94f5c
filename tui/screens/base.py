"""What every operator screen shares: the status bar, read-only gating of actions, palette context."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen
from textual.widgets import DataTable, Label

from tui.actions import ACTION_NAMES, OperatorAction
from tui.errors import Disconnected, OperatorError
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import ContinuumApp

__all__ = ["OperatorScreen"]

T = TypeVar("T")


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

    async def fetch(self, call: Awaitable[T], error_label: str, error_prefix: str) -> T | None:
        """Await one operator call for this screen; None when it failed or the screen went away meanwhile.

        A lost connection shows in the status bar; a refused call in the `error_label` Label, after
        `error_prefix`.
        """
        try:
            result = await call
        except Disconnected:
            if not self.torn_down:
                self.update_status()
            return None
        except OperatorError as error:
            if not self.torn_down:
                self.query_one(error_label, Label).update(f"{error_prefix}: {error}")
            return None
        return None if self.torn_down else result

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
