"""Fixtures of the TUI tests: a recorded-fleet gRPC server and a way to wait for the app to settle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.recorded_fleet import NOW_MS, RecordedServer
from tui import ContinuumApp, TuiSettings, build_app


@pytest.fixture
async def recorded_server() -> AsyncIterator[RecordedServer]:
    """The RECORDED fleet (not the orchestrator) on a real grpc.aio server, loopback port 0."""
    server = RecordedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def recorded_app(target: str, **settings: object) -> ContinuumApp:
    """The app, built by the same factory as the CLI, with a frozen clock at the recording's 'now'."""
    fast = {
        "poll_interval_s": 0.2,
        "refresh_interval_s": 0.05,
        "reconnect_initial_s": 0.1,
        "reconnect_max_s": 0.3,
    }
    return build_app(TuiSettings(target=target, **{**fast, **settings}), clock=lambda: NOW_MS / 1000)  # type: ignore[arg-type]


async def settle(pilot: Pilot[None], ready: Callable[[], bool], attempts: int = 200) -> None:
    """Let the app run until `ready()` holds (bounded); the caller then asserts what it expects."""
    for _ in range(attempts):
        if ready():
            break
        await pilot.pause(0.05)
    await pilot.pause()


async def fleet_loaded(pilot: Pilot[None], devices: int) -> None:
    """Wait until the watch stream delivered the whole fleet and the table shows it."""
    app = pilot.app
    assert isinstance(app, ContinuumApp)
    await settle(pilot, lambda: app.connection.status == "connected" and len(app.index) == devices)
    await pilot.pause(0.1)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a temporary directory (so a relative unix socket path gives a stable target name)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
