"""The persisted birth/death sequence: a new value for every MQTT connection, surviving restarts.

bdSeq ties a death to the birth it ends; it must grow across reboots, so the next value is written (and
fsynced) to the state directory BEFORE the connection that uses it is attempted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from agents.files import write_atomically

__all__ = ["BdSeqSource", "FileBdSeq", "MemoryBdSeq"]


class BdSeqSource(Protocol):
    """Hands out the bdSeq of the next connection."""

    def next(self) -> int:
        """Reserve and return the next bdSeq."""
        ...


class FileBdSeq:
    """bdSeq stored as a decimal number in `<state_dir>/bdseq`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def current(self) -> int | None:
        """The last bdSeq handed out, or None if none ever was (or the file is unreadable)."""
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def next(self) -> int:
        """Reserve the next bdSeq (0 on a fresh state directory) and persist it."""
        last = self.current()
        value = 0 if last is None else last + 1
        write_atomically(self.path, f"{value}\n".encode())
        return value


class MemoryBdSeq:
    """bdSeq kept in memory, starting at `start` (for simulated devices whose state is the process)."""

    def __init__(self, start: int = 0) -> None:
        self._next = start

    def next(self) -> int:
        """Reserve the next bdSeq."""
        value = self._next
        self._next += 1
        return value
