"""`?`: the key bindings of the screen underneath and of the app, in a modal."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

__all__ = ["HelpScreen"]


class HelpScreen(ModalScreen[None]):
    """Lists (key, what it does) pairs given by the app; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, title: str, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self._title = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        """One table per section (this screen, everywhere)."""
        with VerticalScroll(id="help"):
            yield Label(self._title, id="help-title")
            for name, rows in self.sections:
                yield Label(name, classes="help-section")
                table = Table(show_header=False, box=None, padding=(0, 2))
                table.add_column(style="bold cyan", no_wrap=True)
                table.add_column()
                for key, description in rows:
                    table.add_row(key, description)
                yield Static(table)
            yield Label("esc / q / ? to close", classes="dim")

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(result)
