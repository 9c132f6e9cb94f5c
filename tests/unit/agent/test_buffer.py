"""The on-disk store-and-forward queue: order, cap, TTL, counters, durability across reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.buffer import TelemetryBuffer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_messages_come_back_in_order_and_ack_removes_them(tmp_path: Path) -> None:
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", 100, 60, FakeClock())
    for i in range(5):
        buffer.push("d", "t", bytes([i]))
    batch = buffer.peek("d", 3)
    assert [m.payload for m in batch] == [b"\x00", b"\x01", b"\x02"]
    buffer.ack("d", [m.id for m in batch])
    assert [m.payload for m in buffer.peek("d", 10)] == [b"\x03", b"\x04"]
    assert buffer.counters("d").replayed == 3


def test_when_full_the_oldest_are_dropped_and_counted(tmp_path: Path) -> None:
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", 3, 60, FakeClock())
    for i in range(5):
        buffer.push("d", "t", bytes([i]))
    assert [m.payload for m in buffer.peek("d", 10)] == [b"\x02", b"\x03", b"\x04"]
    counters = buffer.counters("d")
    assert (counters.stored, counters.dropped, counters.pending) == (5, 2, 3)


def test_messages_past_their_ttl_expire_and_are_counted(tmp_path: Path) -> None:
    clock = FakeClock()
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", 100, 60, clock)
    buffer.push("d", "t", b"old")
    clock.now += 61
    buffer.push("d", "t", b"new")
    assert [m.payload for m in buffer.peek("d", 10)] == [b"new"]
    assert buffer.counters("d").expired == 1


def test_streams_are_independent(tmp_path: Path) -> None:
    buffer = TelemetryBuffer(tmp_path / "b.sqlite3", 2, 60, FakeClock())
    for i in range(3):
        buffer.push("a", "t", bytes([i]))
    buffer.push("b", "t", b"x")
    assert buffer.pending("a") == 2
    assert buffer.pending("b") == 1
    assert buffer.counters("b").dropped == 0


def test_stored_messages_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    first = TelemetryBuffer(path, 10, 60, FakeClock())
    first.push("d", "topic", b"kept")
    first.close()
    second = TelemetryBuffer(path, 10, 60, FakeClock())
    assert [(m.topic, m.payload) for m in second.peek("d", 10)] == [("topic", b"kept")]
    mode = second._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_zero_cap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_messages"):
        TelemetryBuffer(tmp_path / "b.sqlite3", 0, 60, FakeClock())


def test_loss_counters_are_kept_in_memory_and_survive_reopening(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "b.sqlite3"
    buffer = TelemetryBuffer(path, 2, 60, clock)
    for i in range(4):
        buffer.push("d", "t", bytes([i]))
    clock.now += 61
    buffer.peek("d", 10)
    assert buffer.loss_counters("d") == {"dropped": 2, "expired": 2}
    buffer.close()
    assert TelemetryBuffer(path, 2, 60, clock).loss_counters("d") == {"dropped": 2, "expired": 2}
