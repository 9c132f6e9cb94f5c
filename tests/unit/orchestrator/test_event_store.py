"""The SQLite event log: append in batches, filter, page, prune."""

from __future__ import annotations

from pathlib import Path

from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord


def test_events_come_back_filtered_oldest_first(tmp_path: Path) -> None:
    store = EventStore(str(tmp_path / "events.sqlite3"))
    store.append(
        [
            EventRecord(1, "birth", "a", "born"),
            EventRecord(2, "switch", "a", "x"),
            EventRecord(3, "birth", "b", "born"),
        ]
    )
    assert [e.message for e in store.query(device_id="a")] == ["born", "x"]
    assert [e.device_id for e in store.query(kind="birth")] == ["a", "b"]
    first = store.query(limit=1)[0]
    assert first.unix_ms == 3
    assert [e.unix_ms for e in store.query(after_id=1)] == [2, 3]
    store.close()


def test_pruning_keeps_the_newest_events() -> None:
    store = EventStore(keep=3)
    store.append([EventRecord(i, "state", "a", str(i)) for i in range(10)])
    store.prune()
    assert [e.message for e in store.query()] == ["7", "8", "9"]
