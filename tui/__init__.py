"""The operator console (Textual). Talks to the orchestrator over gRPC only; imports `protos` only.

`build_app(TuiSettings(...))` is the one factory, used by `continuum tui` and by the tests.
"""

from tui.app import ContinuumApp, build_app
from tui.settings import TuiSettings

__all__ = ["ContinuumApp", "TuiSettings", "build_app"]
