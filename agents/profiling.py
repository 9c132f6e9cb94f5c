"""The Profile command: measure a model present on the device with ONNX Runtime, keep the profile on disk.

The model is `<state_dir>/models/<name>.onnx`; the result (a continuum.scenario/v1 `model` object with this
device's per-layer and end-segment latencies under tier "device", from `continuum_inference.profiling`) is
written to `<state_dir>/profiles/<name>.json`, whose sha256 the next birth reports as the model's profile
digest. ONNX Runtime is imported only here and only when asked, so an idle agent stays small.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from agents.files import write_atomically
from agents.session.protocol import CommandRejected
from protos.topics import InvalidId, validate_id
from protos.v1 import control_pb2 as pb

__all__ = ["MAX_RUNS", "profile_present_model"]

MAX_RUNS = 100


def _measure(path: Path, name: str, runs: int) -> dict[str, Any]:
    import onnx

    from continuum_inference.profiling import profile_model

    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    return profile_model(model, name, {"device": 1.0}, runs=runs, segments="ends")


async def profile_present_model(state_dir: Path, request: pb.ProfileRequest) -> Path:
    """Profile `request.model` (1..MAX_RUNS runs, default 5) off the event loop; returns the profile path.

    Raises CommandRejected("invalid_model_name" | "model_not_present" | "profile_failed").
    """
    try:
        validate_id(request.model, "model name")
    except InvalidId as exc:
        raise CommandRejected("invalid_model_name", str(exc)) from exc
    path = state_dir / "models" / f"{request.model}.onnx"
    if not path.is_file():
        raise CommandRejected("model_not_present", f"no {path}")
    runs = min(max(request.runs or 5, 1), MAX_RUNS)
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(None, _measure, path, request.model, runs)
    except Exception as exc:
        raise CommandRejected("profile_failed", f"{type(exc).__name__}: {exc}") from exc
    target = state_dir / "profiles" / f"{request.model}.json"
    data = json.dumps(result, sort_keys=True, indent=1).encode()
    await loop.run_in_executor(None, write_atomically, target, data)
    return target
