"""A real Mosquitto broker process for tests: start on a free port, SIGKILL, restart on the same port."""

from __future__ import annotations

import getpass
import shutil
import signal
import subprocess
from pathlib import Path

from tests.support.ports import free_port, wait_for_port


def mosquitto_binary() -> str:
    """Path of the mosquitto binary; Debian installs it in /usr/sbin, often not on PATH."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed; run `make test` (apt-get install mosquitto) first")
    return found


class MosquittoBroker:
    """One broker process with its own config and persistence folder under `workdir`."""

    def __init__(self, workdir: Path, port: int | None = None, extra_config: str = "") -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.extra_config = extra_config
        self.process: subprocess.Popen[bytes] | None = None
        self.config_path = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"

    @property
    def address(self) -> str:
        """host:port for --broker flags."""
        return f"127.0.0.1:{self.port}"

    def write_config(self) -> None:
        """A config with one loopback listener and persistence, plus `extra_config`."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 0",
        ]
        if "user " not in self.extra_config:
            # Started as root, Mosquitto drops to the `mosquitto` user, which cannot write its persistence
            # database into a test's folder: a restart would then lose sessions and retained messages.
            lines.append(f"user {getpass.getuser()}")
        if "allow_anonymous" not in self.extra_config:
            lines.append("allow_anonymous true")
        self.config_path.write_text("\n".join(lines) + "\n" + self.extra_config + "\n")

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        self.write_config()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.config_path)], stdout=log, stderr=log
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """Stop the broker cleanly."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        """Start again on the same port (after kill or stop)."""
        self.start()
