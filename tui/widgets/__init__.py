"""Widgets of the console: the virtualised fleet table and the status bar."""

from tui.widgets.fleet_table import FleetTable
from tui.widgets.status_bar import StatusBar

__all__ = ["FleetTable", "StatusBar"]
