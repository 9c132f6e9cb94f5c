"""What every operator screen shares: what the app gives it, the status bar, read-only gating of actions,
palette context.

Attributes down, messages up: the app builds each screen with a `ScreenContext`, and a screen asks for an
action or a device by posting a message (tui.messages); no screen knows the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from textual.screen import Screen
from textual.widgets import DataTable, Label

from tui.actions import ACTION_NAMES, OperatorAction
from tui.connection import ConnectionState
from tui.errors import Disconnected, OperatorError
from tui.fleet_index import FleetIndex
from tui.messages import ActionRequested
from tui.models import DeviceDetail, EventInfo, TierRow
from tui.widgets.status_bar import StatusBar

__all__ = ["OperatorReads", "OperatorScreen", "ScreenContext"]

T = TypeVar("T")


class OperatorReads(Protocol):
    """The reads the screens poll (the app's OperatorClient; actions go through the app)."""

    async def get_device(self, device_id: str) -> DeviceDetail:
        """One device in depth."""
        ...

    async def list_tiers(self) -> list[TierRow]:
        """Edge sites and the cloud."""
        ...

    async def list_events(
        self, device_id: str = "", kind: str = "", after_id: int = 0, limit: int = 0
    ) -> list[EventInfo]:
        """Events newer than `after_id`."""
        ...


@dataclass(frozen=True, slots=True)
class ScreenContext:
    """What the app gives every operator screen when it builds it."""

    fleet: FleetIndex
    """The live fleet, kept by the app: counts for the status bar, rows for the fleet table and palette."""
    reads: OperatorReads
    connection: Callable[[], ConnectionState]
    generation: Callable[[], int]
    """Counts fleet snapshots applied: a change means a reconnection, so paging by event id starts over."""
    clock_ms: Callable[[], int]
    read_only: bool
    poll_interval_s: float


class OperatorScreen(Screen[None]):
    """A screen of the console; subclasses list their actions for the palette in `context_actions()`."""

    def __init__(self, context: ScreenContext) -> None:
        super().__init__()
        self.context = context

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide and refuse mutating actions in read-only mode."""
        return not (action in ACTION_NAMES and self.context.read_only)

    def request(self, action: OperatorAction) -> None:
        """Ask the app to confirm and perform `action`."""
        self.post_message(ActionRequested(action))

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
        """Redraw the status bar from the connection state and the fleet's counts."""
        context = self.context
        for bar in self.query(StatusBar):
            bar.show(context.connection(), context.fleet.counts_by_state(), context.read_only)
