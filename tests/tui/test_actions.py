"""Every operator action from keys and from the command palette, the confirmation, read-only mode and
token errors. Run here against the recorded fleet's real gRPC server, whose servicer records each call;
test_against_orchestrator.py repeats the round trip against the real orchestrator."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import fleet_loaded, recorded_app, settle
from tests.tui.recorded_fleet import OPERATOR_TOKEN, READER_TOKEN, RecordedServer
from tui import ContinuumApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.device import DeviceScreen
from tui.screens.tiers import TiersScreen


async def _confirm(pilot: Pilot[None]) -> None:
    await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await pilot.press("y")


async def _recorded(pilot: Pilot[None], server: RecordedServer, count: int) -> None:
    await settle(pilot, lambda: len(server.servicer.actions) >= count)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("p",), ("pin", "cam-001")),
        (("u",), ("unpin", "cam-001")),
        (("d",), ("drain", "cam-001")),
        (("r",), ("replan", "cam-001")),
        (("R",), ("replan", "")),
        (("b",), ("rebirth", "cam-001")),
    ],
)
async def test_fleet_keys_act_on_the_selected_device_after_confirmation(
    recorded_server: RecordedServer, keys: tuple[str, ...], expected: tuple[str, str]
) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("down", *keys)
        await _confirm(pilot)
        await _recorded(pilot, recorded_server, 1)
        assert recorded_server.servicer.actions == [expected]


async def test_answering_no_sends_nothing(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        assert recorded_server.servicer.actions == []


async def test_pinning_an_alternative_on_the_device_screen_pins_its_tiers(
    recorded_server: RecordedServer,
) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DeviceScreen) and app.screen.detail is not None)
        await pilot.press("down", "down", "p")
        await _confirm(pilot)
        await _recorded(pilot, recorded_server, 1)
        plan = recorded_server.servicer.details["cam-000"].plans[0]
        assert plan.pinned
        assert list(plan.tiers) == ["edge"] * 6
        await settle(
            pilot, lambda: app.index.get("cam-000") is not None and app.index.get("cam-000").plans[0].pinned
        )  # type: ignore[union-attr]
        assert app.index.get("cam-000").plans[0].tiers == ("edge",) * 6  # type: ignore[union-attr]


async def test_device_screen_keys_unpin_drain_replan_rebirth(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DeviceScreen) and app.screen.detail is not None)
        for count, key in enumerate("udrb", start=1):
            await pilot.press(key)
            await _confirm(pilot)
            await _recorded(pilot, recorded_server, count)
        assert [a for a, _ in recorded_server.servicer.actions] == ["unpin", "drain", "replan", "rebirth"]
        await pilot.press("escape")
        assert not isinstance(app.screen, DeviceScreen)


async def test_draining_an_edge_site_from_the_tiers_screen(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("2")
        await settle(pilot, lambda: isinstance(app.screen, TiersScreen) and bool(app.screen.tiers))
        await pilot.press("down", "d")
        await _confirm(pilot)
        await _recorded(pilot, recorded_server, 1)
        assert recorded_server.servicer.actions == [("drain_site", "edge-b")]


async def test_the_command_palette_offers_the_actions_of_the_screen(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("ctrl+p", *"rebirth of cam")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await _confirm(pilot)
        await _recorded(pilot, recorded_server, 1)
        assert recorded_server.servicer.actions == [("rebirth", "cam-000")]


async def test_the_command_palette_opens_a_device_by_id(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("ctrl+p", *"open device cam-004")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DeviceScreen))
        assert isinstance(app.screen, DeviceScreen)
        assert app.screen.device_id == "cam-004"


async def test_read_only_hides_and_refuses_every_action(recorded_server: RecordedServer) -> None:
    app = recorded_app(recorded_server.target, token=OPERATOR_TOKEN, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        shown = {b.binding.action for b in app.active_bindings.values()}
        assert not shown & {"pin", "unpin", "drain", "replan", "replan_fleet", "rebirth"}
        await pilot.press("p", "d", "R")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        assert recorded_server.servicer.actions == []
        await pilot.press("ctrl+p", *"drain")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)


@pytest.mark.parametrize(
    ("token", "expected"), [(None, "not authenticated"), (READER_TOKEN, "permission denied")]
)
async def test_refused_tokens_are_shown_as_error_notifications(
    recorded_server: RecordedServer, token: str | None, expected: str
) -> None:
    app = recorded_app(recorded_server.target, token=token)
    async with app.run_test(size=(120, 40)) as pilot:
        await fleet_loaded(pilot, 7)
        await pilot.press("r")
        await _confirm(pilot)
        await settle(pilot, lambda: bool(app._notifications))
        notes = list(app._notifications)
        assert notes
        assert notes[-1].severity == "error"
        assert expected in notes[-1].message
        assert recorded_server.servicer.actions == []


def test_app_is_built_by_one_factory_shared_with_the_cli() -> None:
    from continuum_cli.commands import tui as command

    assert command.run.__module__ == "continuum_cli.commands.tui"
    assert isinstance(recorded_app("127.0.0.1:1"), ContinuumApp)
