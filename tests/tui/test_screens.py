"""What each screen shows and how it responds to the keyboard (Pilot, recorded fleet on real gRPC)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tests.tui.conftest import fleet_loaded, recorded_app, settle
from tests.tui.recorded_fleet import OPERATOR_TOKEN, RecordedServer
from tui.screens.device import DeviceScreen
from tui.screens.events import EventsScreen
from tui.screens.fleet import FleetScreen
from tui.screens.help import HelpScreen
from tui.screens.tiers import TiersScreen
from tui.widgets.fleet_table import FleetTable


def _cell_texts(table: DataTable[object], column: int) -> list[str]:
    return [
        Text.from_markup(str(row[column])).plain if isinstance(row[column], str) else str(row[column])
        for row in (table.get_row_at(i) for i in range(table.row_count))
    ]


async def test_fleet_filters_by_state_tier_and_link_and_sorts_by_column(
    recorded_server: RecordedServer,
) -> None:
    app = recorded_app(recorded_server.target)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        table = app.screen.query_one(FleetTable)
        assert table.row_count == 7
        await pilot.press("slash", *"tier:cloud link:cell")
        await pilot.pause()
        assert [r.id for r in app.index.view()] == ["cam-001", "cam-004"]
        assert table.row_count == 2
        await pilot.press("escape")
        assert table.row_count == 7
        await pilot.press("s")
        assert app.index.order.column == "fleet"
        await pilot.press("S")
        assert app.index.order.reverse
        assert next(r.fleet for r in app.index.view()) == "south"
        await pilot.click(FleetTable, offset=(60, 0))
        await pilot.pause()
        assert app.index.order.column == "rtt", "a click on a header (here the RTT sparkline) sorts by it"


async def test_enter_opens_the_device_with_its_plan_alternatives_and_reason(
    recorded_server: RecordedServer,
) -> None:
    app = recorded_app(recorded_server.target)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("down", "down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, DeviceScreen) and app.screen.detail is not None)
        screen = app.screen
        assert isinstance(screen, DeviceScreen)
        assert screen.device_id == "cam-002"
        plans = screen.query_one("#plans", DataTable)
        options = [str(plans.get_row_at(i)[1]) for i in range(plans.row_count)]
        assert options == ["▶ chosen", "device_only", "edge_only", "cloud_only", "split@layer2"]
        assert "lowest latency" in str(screen.query_one("#why").render())
        events = screen.query_one("#device-events", DataTable)
        assert events.row_count == 2
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DeviceScreen))
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen), "1 leaves the device screen for the fleet"


async def test_tiers_screen_lists_edge_sites_and_cloud(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("2")
        await settle(pilot, lambda: isinstance(app.screen, TiersScreen) and bool(app.screen.tiers))
        table = app.screen.query_one("#tiers", DataTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == ["edge-a", "edge-b", "—"]
        await pilot.press("1")
        assert isinstance(app.screen, FleetScreen)


async def test_events_follow_live_and_filter(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("3")
        await settle(pilot, lambda: isinstance(app.screen, EventsScreen))
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        await settle(pilot, lambda: len(screen.events) == 14)
        recorded_server.servicer._publish("cam-003", "note", "operator note for cam-003")
        await settle(pilot, lambda: len(screen.events) == 15)
        table = screen.query_one("#events", DataTable)
        assert str(table.get_row_at(0)[4]) == "operator note for cam-003"
        await pilot.press("slash", *"cam-003")
        await pilot.pause()
        assert table.row_count == 3
        await pilot.press("escape")
        assert table.row_count == 15


async def test_question_mark_shows_the_key_bindings(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = {description for _, rows in app.screen.sections for _, description in rows}
        assert {"drain or undrain the selected device", "Filter", "Sort", "Quit", "open the device"} <= shown
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)
        await pilot.press("q")
    assert app.return_code == 0
