"""The device-side request loop: a simulated (or real) device sending inference requests on a schedule.

It asks `plan()` for the current plan before every request (so plan updates apply at once), serves the
request with `DeviceInference`, and hands every result to `on_result` (metrics, corrections, logs). A request
cancelled mid-flight is reported as `lost`, so the counters stay honest; set `stop` for a graceful end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from agents.dataplane.device import DeviceInference, InferenceResult
from agents.dataplane.ladder import placement

__all__ = ["request_loop"]


async def request_loop(
    device: DeviceInference,
    plan: Callable[[], Sequence[str]],
    inputs: Mapping[str, np.ndarray],
    on_result: Callable[[InferenceResult], None],
    interval_s: float = 1.0,
    deadline_s: float = 5.0,
    max_requests: int | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Send requests every `interval_s` (or back to back when slower) until `stop` is set, `max_requests`
    are done, or the task is cancelled. Setting `stop` lets the request in flight finish (no `lost`).

    Returns the number of requests completed.
    """
    stop = stop or asyncio.Event()
    done = 0
    while (max_requests is None or done < max_requests) and not stop.is_set():
        tiers = list(plan())
        started = time.perf_counter()
        try:
            result = await device.infer(inputs, tiers, deadline_s)
        except asyncio.CancelledError:
            elapsed = (time.perf_counter() - started) * 1000.0
            on_result(
                InferenceResult(
                    "", device.model, {}, "lost", "none", placement(tiers), elapsed, (), {}, ("cancelled",)
                )
            )
            raise
        on_result(result)
        done += 1
        pause = max(0.0, interval_s - (time.perf_counter() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
    return done
