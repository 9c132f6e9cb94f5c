"""The console's screens: fleet (home), device, tiers, events, and the help and confirmation modals."""

from tui.screens.confirm import ConfirmScreen
from tui.screens.device import DeviceScreen
from tui.screens.events import EventsScreen
from tui.screens.fleet import FleetScreen
from tui.screens.help import HelpScreen
from tui.screens.tiers import TiersScreen

__all__ = ["ConfirmScreen", "DeviceScreen", "EventsScreen", "FleetScreen", "HelpScreen", "TiersScreen"]
