"""A dropped orchestrator shows a clear disconnected state; the TUI reconnects by itself."""

from __future__ import annotations

from tests.tui.conftest import fleet_loaded, recorded_app, settle
from tests.tui.recorded_fleet import RecordedServer
from tui.widgets.status_bar import StatusBar


async def test_disconnect_is_shown_and_the_fleet_comes_back_after_a_restart(
    recorded_server: RecordedServer,
) -> None:
    app = recorded_app(recorded_server.target)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await recorded_server.stop()
        await settle(pilot, lambda: app.connection.status == "disconnected")
        bar = app.screen.query_one(StatusBar)
        assert app.connection.status == "disconnected"
        assert bar.has_class("-disconnected")
        assert "DISCONNECTED" in str(bar.render())
        assert len(app.index) == 7, "the last known fleet stays on screen while disconnected"

        recorded_server.servicer.details.pop("cam-006")
        await recorded_server.start()
        await settle(pilot, lambda: app.connection.status == "connected" and len(app.index) == 6)
        assert app.connection.status == "connected"
        assert not app.screen.query_one(StatusBar).has_class("-disconnected")
        assert app.index.get("cam-006") is None, "the resync replaced the old fleet"
