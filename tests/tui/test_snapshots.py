"""How each screen looks, at 120x40 and 80x24.

The data are a RECORDED fleet (tests/tui/recorded_fleet.py: real operator.proto messages with fixed values
and timestamps, served by a real grpc.aio server on a unix socket so the target name is stable) and the
clock is frozen, so the pictures are deterministic. Behaviour against the real orchestrator is tested in
test_against_orchestrator.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import fleet_loaded, recorded_app, settle
from tests.tui.recorded_fleet import RecordedServer, ThreadedRecordedServer
from tui import ContinuumApp
from tui.screens.device import DeviceScreen
from tui.screens.events import EventsScreen
from tui.screens.tiers import TiersScreen

SIZES = [(120, 40), (80, 24)]


@pytest.fixture
def unix_server(in_tmp: Path) -> Iterator[RecordedServer]:
    """The recorded fleet on unix:operator.sock (relative to the test's temporary directory)."""
    with ThreadedRecordedServer(unix_path="operator.sock") as server:
        yield server


def _app(server: RecordedServer) -> ContinuumApp:
    # Polling is slowed so no refresh lands while the picture is taken.
    return recorded_app(server.target, poll_interval_s=30.0, token="op-secret")


async def _fleet(pilot: Pilot[None]) -> None:
    await fleet_loaded(pilot, 7)


async def _device(pilot: Pilot[None]) -> None:
    await fleet_loaded(pilot, 7)
    await pilot.press("down", "enter")
    await settle(
        pilot, lambda: isinstance(pilot.app.screen, DeviceScreen) and pilot.app.screen.detail is not None
    )
    await pilot.press("down")
    await pilot.pause()


async def _tiers(pilot: Pilot[None]) -> None:
    await fleet_loaded(pilot, 7)
    await pilot.press("2")
    await settle(pilot, lambda: isinstance(pilot.app.screen, TiersScreen) and bool(pilot.app.screen.tiers))


async def _events(pilot: Pilot[None]) -> None:
    await fleet_loaded(pilot, 7)
    await pilot.press("3")
    await settle(pilot, lambda: isinstance(pilot.app.screen, EventsScreen) and bool(pilot.app.screen.events))


async def _help(pilot: Pilot[None]) -> None:
    await fleet_loaded(pilot, 7)
    await pilot.press("question_mark")
    await pilot.pause()


async def _filtered_and_confirm(pilot: Pilot[None]) -> None:
    await fleet_loaded(pilot, 7)
    await pilot.press("slash", *"south", "enter", "s", "d")
    await pilot.pause()


SCREENS: dict[str, Callable[[Pilot[None]], Awaitable[None]]] = {
    "fleet": _fleet,
    "device": _device,
    "tiers": _tiers,
    "events": _events,
    "help": _help,
    "filter_sort_confirm": _filtered_and_confirm,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_looks_as_recorded(
    snap_compare: Any, unix_server: RecordedServer, name: str, size: tuple[int, int]
) -> None:
    assert snap_compare(_app(unix_server), terminal_size=size, run_before=SCREENS[name])
