"""The TUI's link to the orchestrator as one frozen value the status bar draws."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ConnectionState"]


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """connecting -> syncing (snapshot arriving) -> connected; disconnected with the next retry delay."""

    status: Literal["connecting", "syncing", "connected", "disconnected"] = "connecting"
    target: str = ""
    detail: str = ""
    attempt: int = 0
    retry_in_s: float = 0.0

    def describe(self) -> str:
        """One line for the status bar."""
        if self.status == "connected":
            return f"● connected to {self.target}"
        if self.status == "syncing":
            return f"◐ syncing fleet from {self.target}…"
        if self.status == "connecting":
            return f"○ connecting to {self.target}…"
        retry = f"retry {self.attempt} in {self.retry_in_s:.1f}s"
        return f"✖ DISCONNECTED from {self.target} — {retry}: {self.detail}"
