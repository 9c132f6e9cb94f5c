"""The event log: births, deaths, decisions, actions and errors in embedded SQLite. Owns sqlite3.

Writes come in batches (one transaction per control-loop step); the store prunes itself to `keep`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.fleet.records import EventRecord

__all__ = ["EventStore", "StoredEvent"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unix_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    device_id TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_device ON events (device_id, id);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, id);
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with the id the store gave it."""

    id: int
    unix_ms: int
    kind: str
    device_id: str
    message: str


class EventStore:
    """An append-only, pruned event table."""

    def __init__(self, path: str = ":memory:", keep: int = 100_000) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._keep = keep
        self._writes = 0
        self.total = 0

    def append(self, events: Sequence[EventRecord]) -> None:
        """Store a batch of events in one transaction."""
        if not events:
            return
        with self._db:
            self._db.executemany(
                "INSERT INTO events (unix_ms, kind, device_id, message) VALUES (?, ?, ?, ?)",
                [(e.unix_ms, e.kind, e.device_id, e.message) for e in events],
            )
        self.total += len(events)
        self._writes += 1
        if self._writes % 100 == 0:
            self.prune()

    def prune(self) -> None:
        """Drop all but the newest `keep` events."""
        with self._db:
            self._db.execute("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?", (self._keep,))

    def query(
        self, device_id: str = "", kind: str = "", limit: int = 200, after_id: int = 0
    ) -> list[StoredEvent]:
        """The newest `limit` events matching the filters, oldest first."""
        sql = "SELECT id, unix_ms, kind, device_id, message FROM events WHERE id > ?"
        params: list[object] = [after_id]
        if device_id:
            sql += " AND device_id = ?"
            params.append(device_id)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        rows = self._db.execute(sql, params).fetchall()
        return [StoredEvent(*row) for row in reversed(rows)]

    def close(self) -> None:
        """Close the database."""
        self._db.close()
