"""Reconnect backoff with jitter, and systemd's notify protocol over a real datagram socket."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from agents.sdnotify import Notifier, watchdog_period_s
from agents.transport.backoff import Backoff


def test_backoff_ceiling_doubles_up_to_the_maximum() -> None:
    seen: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        seen.append((low, high))
        return high

    backoff = Backoff(0.5, 4.0, uniform)
    delays = [backoff.next_delay() for _ in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(low == 0.5 for low, _ in seen)
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_jitter_stays_within_bounds() -> None:
    backoff = Backoff(0.5, 30.0)
    for _ in range(50):
        assert 0.5 <= backoff.next_delay() <= 30.0


def test_notifier_sends_ready_and_watchdog_datagrams(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(address)
        notifier = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000"})
        assert notifier.ready("up")
        assert server.recv(1024) == b"READY=1\nSTATUS=up"
        assert notifier.watchdog()
        assert server.recv(1024) == b"WATCHDOG=1"
        assert notifier.watchdog_period_s() == 15.0


def test_without_notify_socket_every_call_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.ready()
    assert notifier.watchdog_period_s() is None


def test_watchdog_meant_for_another_process_is_ignored() -> None:
    assert watchdog_period_s("1000000", str(os.getpid())) == 0.5
    assert watchdog_period_s("1000000", str(os.getpid() + 1)) is None
    assert watchdog_period_s("junk") is None
