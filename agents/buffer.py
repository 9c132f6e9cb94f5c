"""Store and forward: a bounded on-disk queue of telemetry kept while the broker is unreachable.

SQLite in WAL mode with `synchronous=FULL`: `push` returns only after the row is fsynced, so what counts as
stored survives a power cut. Per stream (one device; the simulator shares a file among many) the queue holds
at most `max_messages`; when full the oldest row is dropped and counted, rows older than `ttl_s` are expired
and counted, and the rest come back in order for replay. Nothing is removed silently.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BufferCounters", "BufferedMessage", "TelemetryBuffer"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    created_s REAL NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_stream ON messages (stream, id);
CREATE TABLE IF NOT EXISTS counters (
    stream TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (stream, name)
);
"""


@dataclass(frozen=True, slots=True)
class BufferedMessage:
    """One stored message, with the row id that `ack` removes."""

    id: int
    created_s: float
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class BufferCounters:
    """What happened to buffered messages of one stream since the buffer file was created."""

    stored: int
    dropped: int
    expired: int
    replayed: int
    pending: int


class TelemetryBuffer:
    """The queue file; `clock` gives seconds (wall time, as rows outlive the process)."""

    def __init__(self, path: Path | str, max_messages: int, ttl_s: float, clock: Callable[[], float]) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be >= 1")
        self.max_messages = max_messages
        self.ttl_s = ttl_s
        self._clock = clock
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._cache: dict[str, dict[str, int]] = {}

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def push(self, stream: str, topic: str, payload: bytes) -> None:
        """Store one message durably; drops (and counts) the oldest when the stream is full."""
        with self._transaction(stream):
            self._db.execute(
                "INSERT INTO messages (stream, created_s, topic, payload) VALUES (?, ?, ?, ?)",
                (stream, self._clock(), topic, payload),
            )
            self._bump(stream, "stored", 1)
            excess = self._pending(stream) - self.max_messages
            if excess > 0:
                self._db.execute(
                    "DELETE FROM messages WHERE id IN "
                    "(SELECT id FROM messages WHERE stream = ? ORDER BY id LIMIT ?)",
                    (stream, excess),
                )
                self._bump(stream, "dropped", excess)

    def peek(self, stream: str, limit: int) -> list[BufferedMessage]:
        """The oldest `limit` messages still within their TTL (expired ones are removed and counted)."""
        with self._transaction(stream):
            cutoff = self._clock() - self.ttl_s
            expired = self._db.execute(
                "DELETE FROM messages WHERE stream = ? AND created_s < ?", (stream, cutoff)
            ).rowcount
            if expired:
                self._bump(stream, "expired", expired)
        rows = self._db.execute(
            "SELECT id, created_s, topic, payload FROM messages WHERE stream = ? ORDER BY id LIMIT ?",
            (stream, limit),
        ).fetchall()
        return [BufferedMessage(int(r[0]), float(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    def ack(self, stream: str, ids: list[int]) -> None:
        """Remove messages that the broker acknowledged."""
        if not ids:
            return
        with self._transaction(stream):
            removed = self._db.executemany(
                "DELETE FROM messages WHERE stream = ? AND id = ?", [(stream, i) for i in ids]
            ).rowcount
            self._bump(stream, "replayed", removed)

    def loss_counters(self, stream: str) -> dict[str, int]:
        """What the buffer discarded for `stream` (`dropped` when full, `expired` past the TTL), from memory:
        cheap enough to report in every telemetry message."""
        values = self._values(stream)
        return {"dropped": values.get("dropped", 0), "expired": values.get("expired", 0)}

    def counters(self, stream: str) -> BufferCounters:
        """Counters and the pending count of one stream."""
        values = self._values(stream)
        return BufferCounters(
            stored=int(values.get("stored", 0)),
            dropped=int(values.get("dropped", 0)),
            expired=int(values.get("expired", 0)),
            replayed=int(values.get("replayed", 0)),
            pending=self._pending(stream),
        )

    def pending(self, stream: str) -> int:
        """How many messages of `stream` wait for replay."""
        return self._pending(stream)

    def _pending(self, stream: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM messages WHERE stream = ?", (stream,)).fetchone()
        return int(row[0])

    @contextlib.contextmanager
    def _transaction(self, stream: str) -> Iterator[None]:
        """One write transaction; on failure the in-memory counters of `stream` are reloaded next time."""
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                yield
        except BaseException:
            self._cache.pop(stream, None)
            raise

    def _values(self, stream: str) -> dict[str, int]:
        values = self._cache.get(stream)
        if values is None:
            rows = self._db.execute("SELECT name, value FROM counters WHERE stream = ?", (stream,)).fetchall()
            values = self._cache[stream] = {str(name): int(value) for name, value in rows}
        return values

    def _bump(self, stream: str, name: str, by: int) -> None:
        values = self._values(stream)
        values[name] = values.get(name, 0) + by
        self._db.execute(
            "INSERT INTO counters (stream, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT (stream, name) DO UPDATE SET value = value + excluded.value",
            (stream, name, by),
        )
