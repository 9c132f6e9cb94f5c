"""The TUI against the REAL orchestrator: `continuum demo --headless` (orchestrator + simulated fleet on
real traces) over a real Mosquitto broker, in a subprocess. Every screen, an action round trip, refused
credentials, and the reconnect path after the orchestrator is stopped and started again."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port
from tests.tui.conftest import settle
from tests.tui.demo_process import READER_TOKEN, DemoProcess
from tui import ContinuumApp, TuiSettings, build_app
from tui.screens.device import DeviceScreen
from tui.screens.events import EventsScreen
from tui.screens.tiers import TiersScreen
from tui.widgets.status_bar import StatusBar

pytestmark = [pytest.mark.contract, pytest.mark.slow]

DEVICES = 5
PATIENCE = 2400
"""Bound on waiting for the real orchestrator (in 50 ms steps, ~2 min): generous for loaded CI machines;
waiting ends as soon as the awaited state holds."""


async def _settle(pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    await settle(pilot, ready, PATIENCE)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """One real Mosquitto for the module."""
    mosquitto = MosquittoBroker(tmp_path_factory.mktemp("mosquitto"))
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()


@pytest.fixture(scope="module")
def demo(broker: MosquittoBroker) -> Iterator[DemoProcess]:
    """The headless demo: orchestrator + 5 simulated devices."""
    process = DemoProcess(broker.address, free_port(), devices=DEVICES)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _app(target: str, token: str | None = None, **settings: object) -> ContinuumApp:
    fast = {
        "poll_interval_s": 0.3,
        "refresh_interval_s": 0.1,
        "reconnect_initial_s": 0.2,
        "reconnect_max_s": 0.5,
        "freeze_gc_after_snapshot": False,
    }
    return build_app(TuiSettings(target=target, token=token, **{**fast, **settings}))  # type: ignore[arg-type]


async def _loaded(app: ContinuumApp, pilot: object) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await _settle(pilot, lambda: app.connection.status == "connected" and len(app.index) == DEVICES)
    assert app.connection.status == "connected"
    assert len(app.index) == DEVICES


async def test_fleet_device_tiers_and_events_screens_show_the_live_fleet(demo: DemoProcess) -> None:
    app = _app(demo.target)
    async with app.run_test(size=(140, 40)) as pilot:
        await _loaded(app, pilot)
        await _settle(
            pilot,
            lambda: all(
                r.state == "online" and r.plans and r.uplink_mbps > 0 and r.rtt_ms > 0
                for r in app.index.view()
            ),
        )
        rows = app.index.view()
        assert {r.state for r in rows} == {"online"}
        assert all(r.uplink_mbps > 0 and r.rtt_ms > 0 for r in rows), "telemetry reached the table"
        assert all(r.plans for r in rows), "every device has a plan"

        await pilot.press("enter")
        await _settle(pilot, lambda: isinstance(app.screen, DeviceScreen))
        screen = app.screen
        assert isinstance(screen, DeviceScreen)
        await _settle(pilot, lambda: screen.detail is not None and bool(screen.detail.plans))
        assert screen.detail is not None
        plans = screen.query_one("#plans", DataTable)
        options = [str(plans.get_row_at(i)[1]) for i in range(plans.row_count)]
        assert options[0] == "▶ chosen"
        assert {"device_only", "edge_only", "cloud_only"} <= set(options)
        assert screen.detail.links, "the device reports link estimates"
        assert screen.detail.capabilities.cpu_count > 0

        await pilot.press("escape", "2")
        await _settle(pilot, lambda: isinstance(app.screen, TiersScreen))
        tiers = app.screen
        assert isinstance(tiers, TiersScreen)
        await _settle(pilot, lambda: bool(tiers.tiers))
        assert {t.tier for t in tiers.tiers} >= {"edge", "cloud"}

        await pilot.press("3")
        await _settle(pilot, lambda: isinstance(app.screen, EventsScreen))
        events = app.screen
        assert isinstance(events, EventsScreen)
        await _settle(pilot, lambda: bool(events.events))
        assert events.events


async def test_draining_a_device_round_trips_through_the_orchestrator(demo: DemoProcess) -> None:
    app = _app(demo.target, token=demo.token)
    async with app.run_test(size=(140, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("home")
        first = app.index.view()[0].id
        await pilot.press("d")
        await _settle(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.press("y")
        await _settle(pilot, lambda: app.index.get(first) is not None and app.index.get(first).drained)  # type: ignore[union-attr]
        assert app.index.get(first).drained  # type: ignore[union-attr]
        assert any(n.severity == "information" for n in app._notifications)

        await pilot.press("d")
        await _settle(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.press("y")
        await _settle(pilot, lambda: not app.index.get(first).drained)  # type: ignore[union-attr]
        assert not app.index.get(first).drained  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, "not authenticated"), ("wrong", "not authenticated"), (READER_TOKEN, "permission denied")],
)
async def test_the_orchestrator_refuses_actions_without_an_operator_token(
    demo: DemoProcess, token: str | None, expected: str
) -> None:
    app = _app(demo.target, token=token)
    async with app.run_test(size=(140, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("R")
        await _settle(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.press("y")
        await _settle(pilot, lambda: bool(app._notifications))
        note = list(app._notifications)[-1]
        assert note.severity == "error"
        assert expected in note.message.lower()


async def test_the_tui_shows_a_stopped_orchestrator_and_reconnects_when_it_returns(
    mosquitto: MosquittoBroker,
) -> None:
    process = DemoProcess(mosquitto.address, free_port(), devices=DEVICES)
    process.start()
    try:
        app = _app(process.target)
        async with app.run_test(size=(140, 40)) as pilot:
            await _loaded(app, pilot)
            process.stop()
            await _settle(pilot, lambda: app.connection.status == "disconnected")
            assert app.connection.status == "disconnected"
            assert app.screen.query_one(StatusBar).has_class("-disconnected")

            process.start()
            await _settle(pilot, lambda: app.connection.status == "connected" and len(app.index) == DEVICES)
            assert app.connection.status == "connected"
            assert not app.screen.query_one(StatusBar).has_class("-disconnected")
    finally:
        process.stop()
