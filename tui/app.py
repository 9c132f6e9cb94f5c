"""The operator console: `build_app(settings)` wires the client, the fleet index and the screens.

The fleet watch stream is consumed in one exclusive worker that buffers changes; a timer applies the buffer
once per refresh cycle, so a burst of 10k updates costs one sort and one redraw of the visible rows.

Attributes down, messages up: the app builds every screen with a `ScreenContext` (the fleet index, the
client's reads, the clock, ...) and handles what the screens and the palette post (`ActionRequested`,
`DeviceRequested`): the confirmation, the read-only refusal and the call are the app's alone.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import var

from tui.actions import ACTION_NAMES, OperatorAction
from tui.backoff import Backoff
from tui.client import OperatorClient
from tui.commands import OperatorCommands
from tui.connection import ConnectionState
from tui.errors import NotAllowed, NotAuthenticated, OperatorError
from tui.fleet_index import FleetIndex
from tui.messages import ActionRequested, DeviceRequested
from tui.models import FleetUpdate
from tui.screens.base import OperatorScreen, ScreenContext
from tui.screens.confirm import ConfirmScreen
from tui.screens.device import DeviceScreen
from tui.screens.events import EventsScreen
from tui.screens.fleet import FleetScreen
from tui.screens.help import HelpScreen
from tui.screens.tiers import TiersScreen
from tui.settings import TuiSettings

__all__ = ["ContinuumApp", "build_app"]


class ContinuumApp(App[None]):
    """Fleet, tiers and events as modes; the device screen pushed over the fleet."""

    TITLE = "Continuum"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {OperatorCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("1", "show('fleet')", "Fleet"),
        Binding("2", "show('tiers')", "Tiers"),
        Binding("3", "show('events')", "Events"),
    ]

    connection: var[ConnectionState] = var(ConnectionState())

    def __init__(self, settings: TuiSettings, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.settings = settings
        self._clock = clock
        self.index = FleetIndex()
        self._pending: list[FleetUpdate] = []
        self._pending_reset = False
        self._client: OperatorClient | None = None
        self.sub_title = settings.target + ("  [read-only]" if settings.read_only else "")
        self.refresh_cycles = 0
        self.generation = 0
        """Counts fleet snapshots applied: a change means a (re)connection, perhaps to a restarted
        orchestrator whose event ids start again, so screens that page by id start over."""
        self._shared_context: ScreenContext | None = None
        # Modes are built on first show, after mount: their context holds the client, made on the loop.
        self.add_mode("fleet", lambda: FleetScreen(self.screen_context))
        self.add_mode("tiers", lambda: TiersScreen(self.screen_context))
        self.add_mode("events", lambda: EventsScreen(self.screen_context))

    @property
    def client(self) -> OperatorClient:
        """The gRPC client (created on mount, on the app's event loop)."""
        if self._client is None:
            token = self.settings.token.get_secret_value() if self.settings.token else None
            self._client = OperatorClient(
                self.settings.target,
                token,
                self.settings.rpc_timeout_s,
                tls_ca=self.settings.tls_ca,
                tls_cert=self.settings.tls_cert,
                tls_key=self.settings.tls_key,
            )
        return self._client

    @property
    def screen_context(self) -> ScreenContext:
        """What every screen is given when built: the index, the client's reads, the clock, the settings."""
        if self._shared_context is None:
            self._shared_context = ScreenContext(
                fleet=self.index,
                reads=self.client,
                connection=lambda: self.connection,
                generation=lambda: self.generation,
                clock_ms=self.clock_ms,
                read_only=self.settings.read_only,
                poll_interval_s=self.settings.poll_interval_s,
            )
        return self._shared_context

    def clock_ms(self) -> int:
        """Now in unix milliseconds (injected clock, frozen in snapshot tests)."""
        return int(self._clock() * 1000)

    async def on_mount(self) -> None:
        """Open the fleet, start watching, and start the refresh cycle."""
        self.connection = ConnectionState("connecting", self.settings.target)
        await self.switch_mode("fleet")
        self.watch_fleet()
        self.set_interval(self.settings.refresh_interval_s, self.refresh_fleet)

    async def on_unmount(self) -> None:
        """Close the channel."""
        if self._client is not None:
            await self._client.close()

    def watch_connection(self, _state: ConnectionState) -> None:
        """Redraw every status bar on a connection change."""
        if isinstance(self.screen, OperatorScreen):
            self.screen.update_status()

    @work(exclusive=True, group="watch")
    async def watch_fleet(self) -> None:
        """Consume WatchFleet forever: buffer the snapshot, then changes; reconnect with backoff on a drop."""
        backoff = Backoff(self.settings.reconnect_initial_s, self.settings.reconnect_max_s)
        target = self.settings.target
        while True:
            snapshot: list[FleetUpdate] = []
            in_snapshot = True
            try:
                async for update in self.client.watch_fleet():
                    if in_snapshot:
                        if snapshot == [] and self.connection.status != "syncing":
                            self.connection = ConnectionState("syncing", target)
                        snapshot.append(update)
                        if update.snapshot_done:
                            in_snapshot = False
                            self._pending = snapshot
                            self._pending_reset = True
                            backoff.reset()
                            self.connection = ConnectionState("connected", target)
                    else:
                        self._pending.append(update)
            except OperatorError as error:
                delay = backoff.next_delay()
                self.connection = ConnectionState("disconnected", target, str(error), backoff.attempts, delay)
                await asyncio.sleep(delay)
                self.connection = ConnectionState("connecting", target, attempt=backoff.attempts)

    def refresh_fleet(self) -> int:
        """One refresh cycle: apply buffered changes to the index and redraw the fleet table's view.

        Returns how many devices changed. Runs every `refresh_interval_s` on a timer.
        """
        pending, self._pending = self._pending, []
        resynced = self._pending_reset
        if resynced:
            self.index.reset()
            self._pending_reset = False
            self.generation += 1
        changed = self.index.apply(pending)
        if resynced and self.settings.freeze_gc_after_snapshot:
            del pending
            gc.collect()
            gc.freeze()
        self.refresh_cycles += 1
        fleet = self._fleet_screen()
        if fleet is not None and (
            changed or self.refresh_cycles % max(1, round(1 / self.settings.refresh_interval_s)) == 0
        ):
            fleet.reload()
        return changed

    def _fleet_screen(self) -> FleetScreen | None:
        """The fleet screen when the fleet mode is showing (its table need not redraw otherwise)."""
        for candidate in self.screen_stack:
            if isinstance(candidate, FleetScreen):
                return candidate
        return None

    async def action_show(self, mode: str) -> None:
        """Switch to the fleet, tiers or events screen (leaving a device screen when already there)."""
        if self.current_mode == mode:
            while isinstance(self.screen, DeviceScreen):
                self.pop_screen()
            return
        await self.switch_mode(mode)

    def on_device_requested(self, message: DeviceRequested) -> None:
        """Push the device screen for this device (over the fleet)."""
        if self.current_mode != "fleet":
            self.switch_mode("fleet")
        self.push_screen(DeviceScreen(self.screen_context, message.device_id))

    def action_help(self) -> None:
        """Show the key bindings of the current screen and of the app."""
        screen = self.screen
        if isinstance(screen, HelpScreen | ConfirmScreen):
            return
        read_only = self.settings.read_only

        def rows(bindings: list[Binding | tuple[str, ...]]) -> list[tuple[str, str]]:
            found = []
            for binding in bindings:
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                if read_only and binding.action.split("(")[0] in ACTION_NAMES:
                    continue
                keys = binding.key_display or binding.key.replace("question_mark", "?").replace("slash", "/")
                found.append((keys, binding.tooltip or binding.description))
            return found

        title = getattr(screen, "HELP", "Continuum")
        sections = [
            (title, rows(list(getattr(screen, "BINDINGS", [])))),
            (
                "Everywhere",
                [*rows(list(self.BINDINGS)), ("ctrl+p", "command palette (actions, open device)")],
            ),
        ]
        if isinstance(screen, FleetScreen):
            sections[0][1].extend([("enter / click", "open the device"), ("↑ ↓ pgup pgdn home end", "move")])
        self.push_screen(HelpScreen("Key bindings" + (" (read-only)" if read_only else ""), sections))

    def on_action_requested(self, message: ActionRequested) -> None:
        """Confirm, then perform an operator action and notify the outcome (refused in read-only mode)."""
        action = message.action
        if self.settings.read_only:
            self.notify("Read-only console: actions are disabled.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._perform(action)

        self.push_screen(ConfirmScreen(action.title, action.question), answered)

    @work(group="actions")
    async def _perform(self, action: OperatorAction) -> None:
        try:
            result = await action.perform(self.client)
        except (NotAuthenticated, NotAllowed) as error:
            self.notify(str(error), title=action.title, severity="error", timeout=8)
            return
        except OperatorError as error:
            self.notify(str(error), title=action.title, severity="error", timeout=8)
            return
        if result.ok:
            self.notify(result.message or "done", title=action.title)
        else:
            self.notify(result.message or "refused", title=action.title, severity="warning", timeout=8)
        for screen in self.screen_stack:
            poll = getattr(screen, "poll", None)
            if callable(poll) and screen.is_current:
                poll()


def build_app(settings: TuiSettings, clock: Callable[[], float] = time.time) -> ContinuumApp:
    """The one factory of the console, used by `continuum tui` and by the tests."""
    return ContinuumApp(settings, clock=clock)
