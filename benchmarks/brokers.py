"""Local services the benchmarks start: free loopback ports and a throwaway Mosquitto child process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["free_port", "start_mosquitto", "wait_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, timeout_s: float = 60.0) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:.0f} s")


def start_mosquitto(workdir: Path, max_queued_messages: int = 100_000) -> tuple[subprocess.Popen[bytes], int]:
    """A Mosquitto child process on a free loopback port (anonymous; for benchmarks only)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise RuntimeError("mosquitto is not installed; pass --broker HOST:PORT or apt-get install mosquitto")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages {max_queued_messages}\n"
        "max_inflight_messages 0\nmax_connections -1\n"
    )
    log = (workdir / "mosquitto.log").open("ab")
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)
    try:
        wait_port(port, timeout_s=10.0)
    except TimeoutError:
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"mosquitto did not start; see {workdir / 'mosquitto.log'}") from None
    return process, port
