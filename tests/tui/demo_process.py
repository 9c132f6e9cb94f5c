"""`continuum demo --headless` as a subprocess: the real orchestrator (operator gRPC API) fed by a
simulated fleet over a real Mosquitto broker. The TUI tests drive the app against it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.ports import wait_for_port

_TOKEN = re.compile(r"operator token: (\S+)")

READER_TOKEN = "tui-tests-reader"
"""A read-only token the demo's orchestrator is started with (CONTINUUM_API__READONLY_TOKENS)."""


class DemoProcess:
    """Start, stop and restart one headless demo on a fixed gRPC port; `token` is the operator token."""

    def __init__(
        self, broker: str, grpc_port: int, devices: int = 5, telemetry_interval: float = 0.5
    ) -> None:
        self.broker = broker
        self.grpc_port = grpc_port
        self.devices = devices
        self.telemetry_interval = telemetry_interval
        self.token = ""
        self.output: list[str] = []
        self._process: subprocess.Popen[str] | None = None

    @property
    def target(self) -> str:
        """HOST:PORT of the operator API."""
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, timeout_s: float = 90.0) -> None:
        """Launch the demo and wait until the operator API listens and the token is printed."""
        command = [
            str(Path(sys.executable).with_name("continuum")),
            "demo",
            "--headless",
            "--no-ray",
            f"--devices={self.devices}",
            f"--telemetry-interval={self.telemetry_interval}",
            f"--broker={self.broker}",
            f"--grpc-port={self.grpc_port}",
            "--metrics-port=-1",
            "--duration=600",
        ]
        self.token = ""
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "CONTINUUM_API__READONLY_TOKENS": f'["{READER_TOKEN}"]',
            },
        )
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()
        wait_for_port(self.grpc_port, timeout=timeout_s)
        deadline = time.monotonic() + timeout_s
        while not self.token and time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the demo exited early:\n" + "\n".join(self.output[-40:]))
            time.sleep(0.1)
        if not self.token:
            raise RuntimeError("the demo printed no operator token:\n" + "\n".join(self.output[-40:]))

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line.rstrip())
            if match := _TOKEN.search(line):
                self.token = match.group(1)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 30 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
