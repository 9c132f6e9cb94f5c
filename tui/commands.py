"""The command palette provider: every operator action that fits the current screen, navigation, and
"open device" for devices whose id matches what was typed."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.screens.base import OperatorScreen

if TYPE_CHECKING:
    from tui.app import ContinuumApp

__all__ = ["OperatorCommands"]

_MAX_DEVICE_HITS = 20


class OperatorCommands(Provider):
    """Actions (hidden in read-only mode), screens, and devices by id."""

    @property
    def console(self) -> ContinuumApp:
        """The app, typed."""
        from tui.app import ContinuumApp

        return cast(ContinuumApp, self.app)

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        console = self.console
        found: list[tuple[str, Callable[[], object], str]] = [
            ("Show fleet", partial(console.action_show, "fleet"), "the live fleet table"),
            ("Show tiers", partial(console.action_show, "tiers"), "edge sites and cloud"),
            ("Show events", partial(console.action_show, "events"), "births, deaths, replans"),
            ("Show key bindings", console.action_help, "every key of this screen"),
        ]
        screen = self.screen
        if isinstance(screen, OperatorScreen) and not console.settings.read_only:
            for action in screen.context_actions():
                found.append((action.title, partial(console.request_action, action), action.question))
        return found

    async def discover(self) -> Hits:
        """What the palette lists before anything is typed."""
        for title, command, help_text in self._commands():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        """Fuzzy-match commands, then devices whose id contains the query."""
        matcher = self.matcher(query)
        for title, command, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)
        needle = query.strip().lower().removeprefix("open").strip().removeprefix("device").strip()
        if len(needle) < 2:
            return
        shown = 0
        for row in self.console.index.view():
            if needle in row.id.lower():
                title = f"Open device {row.id}"
                yield Hit(
                    0.5, matcher.highlight(title), partial(self.console.open_device, row.id), help=row.state
                )
                shown += 1
                if shown >= _MAX_DEVICE_HITS:
                    return
