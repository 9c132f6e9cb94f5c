"""The command palette provider: every operator action that fits the current screen, navigation, and
"open device" for devices whose id matches what was typed.

Textual builds providers itself, so this one reads what it needs from the screen under the palette (its
`ScreenContext` and `context_actions()`) and asks the app by message, as the screens do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.messages import ActionRequested, DeviceRequested
from tui.screens.base import OperatorScreen

__all__ = ["OperatorCommands"]

_MAX_DEVICE_HITS = 20


class OperatorCommands(Provider):
    """Actions (hidden in read-only mode), screens, and devices by id."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        found: list[tuple[str, Callable[[], object], str]] = [
            ("Show fleet", partial(app.run_action, "show('fleet')"), "the live fleet table"),
            ("Show tiers", partial(app.run_action, "show('tiers')"), "edge sites and cloud"),
            ("Show events", partial(app.run_action, "show('events')"), "births, deaths, replans"),
            ("Show key bindings", partial(app.run_action, "help"), "every key of this screen"),
        ]
        screen = self.screen
        if isinstance(screen, OperatorScreen) and not screen.context.read_only:
            for action in screen.context_actions():
                found.append(
                    (action.title, partial(app.post_message, ActionRequested(action)), action.question)
                )
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
        screen = self.screen
        if len(needle) < 2 or not isinstance(screen, OperatorScreen):
            return
        shown = 0
        for row in screen.context.fleet.view():
            if needle in row.id.lower():
                title = f"Open device {row.id}"
                open_it = partial(self.app.post_message, DeviceRequested(row.id))
                yield Hit(0.5, matcher.highlight(title), open_it, help=row.state)
                shown += 1
                if shown >= _MAX_DEVICE_HITS:
                    return
