"""The bar under the title on every screen: connection state, fleet counts by state, read-only flag."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from tui.connection import ConnectionState
from tui.render import STATE_STYLES

__all__ = ["StatusBar"]


class StatusBar(Static):
    """Draws a ConnectionState and counts; the app pushes both with `show()`."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; padding: 0 1; }
    StatusBar.-disconnected { background: $error 60%; color: $text; text-style: bold; }
    """

    def show(self, state: ConnectionState, counts: Mapping[str, int], read_only: bool) -> None:
        """Redraw for this connection state and these counts by device state."""
        text = Text()
        style = {"connected": "green", "syncing": "yellow", "connecting": "yellow"}.get(state.status, "")
        text.append(state.describe(), style=style)
        if state.status != "disconnected":
            total = sum(counts.values())
            text.append(f"   {total} devices", style="bold")
            for name in ("online", "stale", "offline"):
                text.append(f"  {name} ", style="dim")
                text.append(str(counts.get(name, 0)), style=STATE_STYLES[name])
            for name in sorted(set(counts) - set(STATE_STYLES)):
                text.append(f"  {name} {counts[name]}", style="magenta")
        if read_only:
            text.append("   READ-ONLY", style="bold reverse")
        self.set_class(state.status == "disconnected", "-disconnected")
        self.update(text)
