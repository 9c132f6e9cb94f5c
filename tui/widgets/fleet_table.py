"""The fleet table: a Line-API widget that draws only the rows in view, from a `FleetIndex`.

A DataTable keeps a renderable per cell for every row, so filtering or re-sorting 10k devices means
rebuilding 10k rows; this table keeps nothing but the current ordered view and a small cache of drawn
lines, so a refresh costs one sort plus the ~40 visible lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.fleet_index import FleetIndex, SortOrder
from tui.models import DeviceRow
from tui.widgets.columns import SEPARATOR, Column, fit_columns

__all__ = ["FleetTable"]

_CACHE_LIMIT = 4000


class FleetTable(ScrollView, can_focus=True):
    """A keyboard-driven, virtualised table of devices; the cursor follows a device, not a position."""

    DEFAULT_CSS = """
    FleetTable { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Open", show=True),
    ]

    class Chosen(Message):
        """The operator asked to open a device (Enter, or a click on the selected row)."""

        def __init__(self, device_id: str) -> None:
            super().__init__()
            self.device_id = device_id

    class SortRequested(Message):
        """The operator clicked a sortable header."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, index: FleetIndex, clock_ms: Callable[[], int], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._index = index
        self._clock_ms = clock_ms
        self._rows: list[DeviceRow] = []
        self._cursor = 0
        self._selected_id: str | None = None
        self._cache: dict[tuple[int, bool, int, str], Strip] = {}
        self._styles: dict[str, Style] = {}

    @property
    def selected_id(self) -> str | None:
        """The id of the device under the cursor, if any."""
        return self._selected_id

    @property
    def row_count(self) -> int:
        """How many rows the filtered view has."""
        return len(self._rows)

    def reload(self) -> None:
        """Take the index's current view, keep the cursor on the same device, and redraw what is visible."""
        self._rows = self._index.view()
        selected = self._selected_id
        cursor = self._cursor
        if selected is not None and not (cursor < len(self._rows) and self._rows[cursor].id == selected):
            position = next((i for i, r in enumerate(self._rows) if r.id == selected), None)
            if position is not None:
                self._cursor = position
        self._cursor = max(0, min(self._cursor, len(self._rows) - 1))
        self._selected_id = self._rows[self._cursor].id if self._rows else None
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows) + 1)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        self.refresh()

    def _style(self, spec: str) -> Style:
        style = self._styles.get(spec)
        if style is None:
            style = self._styles[spec] = Style.parse(spec) if spec else Style()
        return style

    def _columns(self) -> list[tuple[Column, int]]:
        return fit_columns(self.scrollable_content_region.width)

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; line y shows row scroll_y + y - 1."""
        width = self.scrollable_content_region.width
        columns = self._columns()
        if y == 0:
            return self._header(columns, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width)
        row = self._rows[index]
        selected = index == self._cursor
        now = self._clock_ms()
        seen = str(now // 1000)
        key = (id(row), selected, width, seen)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._cache[key] = self._draw_row(row, columns, width, selected, now)
        return strip

    def _header(self, columns: list[tuple[Column, int]], width: int) -> Strip:
        order = self._index.order
        segments: list[Segment] = []
        for column, col_width in columns:
            label = column.header
            if column.header and column.sort and column.sort == order.column:
                label += "▼" if order.reverse else "▲"
            text = label.rjust(col_width) if column.align_right else label.ljust(col_width)
            segments.append(Segment(text[:col_width], self._style("bold reverse")))
            segments.append(Segment(" " * SEPARATOR, self._style("reverse")))
        return Strip(segments).adjust_cell_length(width, self._style("reverse"))

    def _draw_row(
        self, row: DeviceRow, columns: list[tuple[Column, int]], width: int, selected: bool, now: int
    ) -> Strip:
        base = self._style("on grey23") if selected else Style()
        segments: list[Segment] = []
        for column, col_width in columns:
            pieces = column.draw(row, now, col_width)
            length = sum(len(text) for text, _ in pieces)
            if length > col_width:
                text = "".join(t for t, _ in pieces)
                pieces = [(text[: col_width - 1] + "…", pieces[0][1])]
                length = col_width
            pad = " " * (col_width - length)
            if column.align_right and pad:
                segments.append(Segment(pad, base))
            segments.extend(Segment(text, base + self._style(style)) for text, style in pieces)
            if not column.align_right and pad:
                segments.append(Segment(pad, base))
            segments.append(Segment(" " * SEPARATOR, base))
        return Strip(segments).adjust_cell_length(width, base)

    def _move_to(self, index: int) -> None:
        if not self._rows:
            return
        self._cursor = max(0, min(index, len(self._rows) - 1))
        self._selected_id = self._rows[self._cursor].id
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by `delta` rows."""
        self._move_to(self._cursor + delta)

    def action_page(self, direction: int) -> None:
        """Move the cursor by one screenful."""
        self._move_to(self._cursor + direction * max(1, self.scrollable_content_region.height - 2))

    def action_jump(self, where: int) -> None:
        """Jump to the first (0) or last (-1) row."""
        self._move_to(0 if where == 0 else len(self._rows) - 1)

    def action_choose(self) -> None:
        """Open the device under the cursor."""
        if self._selected_id is not None:
            self.post_message(self.Chosen(self._selected_id))

    def on_click(self, event: events.Click) -> None:
        """A header click sorts; a row click selects, a click on the selected row opens it."""
        if event.y == 0:
            x = 0
            for column, col_width in self._columns():
                if x <= event.x < x + col_width + SEPARATOR and column.sort:
                    self.post_message(self.SortRequested(column.sort))
                    return
                x += col_width + SEPARATOR
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self._rows):
            if index == self._cursor:
                self.action_choose()
            else:
                self._move_to(index)

    def on_resize(self, _event: events.Resize) -> None:
        """Recompute the columns and the virtual size for the new width."""
        self._cache.clear()
        self.reload()

    def sort_by(self, column: str) -> None:
        """Sort by `column`; choosing the current column again reverses the direction."""
        order = self._index.order
        reverse = not order.reverse if order.column == column else False
        self._index.set_order(SortOrder(column, reverse))
        self.reload()
