"""The fuzzed operator API: a real Mosquitto and `continuum orchestrator` child process, called over gRPC.

Split from `fuzz` (the targets and the run) because it owns processes and a channel, not a parser check.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["CANONICAL_CODES", "OperatorStack"]

CANONICAL_CODES = frozenset(
    {"OK", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "OUT_OF_RANGE", "RESOURCE_EXHAUSTED",
     "UNAUTHENTICATED", "PERMISSION_DENIED"}
)  # fmt: skip
"""Status codes an Operator handler may answer hostile input with (never INTERNAL, UNKNOWN, a hang)."""


class OperatorStack:
    """A Mosquitto and a real `continuum orchestrator` child process whose gRPC API is fuzzed."""

    TOKEN = "fuzz-operator-token"

    def __init__(self) -> None:
        import tempfile

        import grpc

        from benchmarks.soak import start_mosquitto, start_orchestrator
        from protos.v1 import operator_pb2_grpc

        self._tmp = tempfile.TemporaryDirectory(prefix="continuum-fuzz-")
        workdir = Path(self._tmp.name)
        self._children: list[subprocess.Popen[bytes]] = []
        try:
            broker, port = start_mosquitto(workdir)
            self._children.append(broker)
            orchestrator, _, grpc_port = start_orchestrator(workdir, f"127.0.0.1:{port}", self.TOKEN, "fuzz")
            self._children.append(orchestrator)
        except BaseException:
            self._stop_children()
            raise
        self._channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        self.stub = operator_pb2_grpc.OperatorStub(self._channel)

    def check(self, case: object) -> str:
        """Call the handler; a non-canonical status code is a crash."""
        import grpc

        assert isinstance(case, tuple)
        method: str = case[0]
        request: object = case[1]
        with_token: bool = case[2]
        metadata = (("authorization", f"Bearer {self.TOKEN}"),) if with_token else None
        try:
            getattr(self.stub, method)(request, timeout=10, metadata=metadata)
            code = "OK"
        except grpc.RpcError as exc:
            code = exc.code().name
        if code not in CANONICAL_CODES:
            raise AssertionError(f"{method} answered {code}")
        return "accepted" if code == "OK" else f"rejected:{code.lower()}"

    def close(self) -> None:
        """Stop the orchestrator and the broker."""
        self._channel.close()
        self._stop_children()

    def _stop_children(self) -> None:
        for child in reversed(self._children):
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)
        self._children.clear()
        self._tmp.cleanup()
