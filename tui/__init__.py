"""The operator console (Textual). Talks to the orchestrator over gRPC only; imports `protos` only.

`build_app(TuiSettings(...))` is the one factory, used by `continuum tui` and by the tests.

The names below are imported on first use: `continuum fleet` imports `tui.operator_values` where textual
may not be installed, and importing a submodule runs this file first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.app import ContinuumApp, build_app
    from tui.settings import TuiSettings

__all__ = ["ContinuumApp", "TuiSettings", "build_app"]


def __getattr__(name: str) -> object:
    if name in ("ContinuumApp", "build_app"):
        from tui import app

        return getattr(app, name)
    if name == "TuiSettings":
        from tui.settings import TuiSettings

        return TuiSettings
    raise AttributeError(f"module 'tui' has no attribute {name!r}")
