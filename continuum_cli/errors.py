"""Errors that end a command with a one-line message and a chosen exit status."""

from __future__ import annotations

__all__ = ["CliError", "NotBuiltYet"]


class CliError(Exception):
    """A failure the user can act on; printed as one line, exit status `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class NotBuiltYet(CliError):
    """A capability that this version does not have yet. Says so instead of pretending."""

    def __init__(self, capability: str) -> None:
        super().__init__(f"{capability} is not built yet in this version of Continuum", exit_code=2)
