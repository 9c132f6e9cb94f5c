"""systemd's notify protocol, spoken directly (no dependency): READY=1, WATCHDOG=1, STOPPING=1.

Messages are datagrams to the AF_UNIX socket named by $NOTIFY_SOCKET (a leading "@" is the abstract
namespace). Outside systemd there is no socket and every call is a no-op.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

__all__ = ["Notifier", "watchdog_period_s"]


class Notifier:
    """Sends notify messages to the socket named in `environ` (default: the process environment)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_pid = env.get("WATCHDOG_PID", "")

    @property
    def enabled(self) -> bool:
        """Whether a notify socket was given."""
        return bool(self.address)

    def notify(self, *lines: str) -> bool:
        """Send one datagram of newline-joined `KEY=VALUE` lines; False when it could not be sent."""
        if not self.address:
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto("\n".join(lines).encode(), self.address)
            except OSError:
                return False
        return True

    def ready(self, status: str = "") -> bool:
        """Tell systemd start-up is complete (Type=notify)."""
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        """Pet the watchdog."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Tell systemd we are shutting down."""
        return self.notify("STOPPING=1")

    def watchdog_period_s(self) -> float | None:
        """How often to pet the watchdog: half of WATCHDOG_USEC, None when no watchdog is asked for."""
        return watchdog_period_s(self.watchdog_usec, self.watchdog_pid)


def watchdog_period_s(watchdog_usec: str, watchdog_pid: str = "") -> float | None:
    """Half the watchdog timeout in seconds (pure), or None when unset, invalid, or meant for another pid."""
    if watchdog_pid and watchdog_pid != str(os.getpid()):
        return None
    try:
        usec = int(watchdog_usec)
    except ValueError:
        return None
    return usec / 2 / 1e6 if usec > 0 else None
