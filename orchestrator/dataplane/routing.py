"""Pure routing policy for tier workers: least-loaded choice and the errors the executor raises.

No Ray here: the pool in `workers.py` feeds this policy its in-flight counts.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

__all__ = ["NoWorker", "Overloaded", "StageFailed", "StageRun", "WorkerLoad", "pick_least_loaded"]

K = TypeVar("K", bound=Hashable)


class NoWorker(LookupError):
    """No worker serves this (model, tier, site); the caller should try another path (UNAVAILABLE)."""


class Overloaded(RuntimeError):
    """Every candidate's queue is full: shed the request (RESOURCE_EXHAUSTED) so the device falls back."""


class StageFailed(RuntimeError):
    """The worker could not run the stage (it died or raised); another path may still serve the request."""


@dataclass(frozen=True)
class StageRun:
    """A stage that ran on a worker: its outputs, compute time, and the rest of the round trip (queueing)."""

    tensors: dict[str, np.ndarray]
    compute_ms: float
    queue_ms: float
    site: str


@dataclass(frozen=True)
class WorkerLoad:
    """A worker's load as the router sees it."""

    in_flight: int
    """Requests sent to the worker and not answered yet."""
    max_concurrency: int
    """Requests the worker runs at once; the rest wait in its queue."""

    @property
    def queue_depth(self) -> int:
        """Requests waiting behind the running ones."""
        return max(0, self.in_flight - self.max_concurrency)


def pick_least_loaded(loads: Mapping[K, WorkerLoad], max_queue: int, turn: int = 0) -> K:
    """The candidate with the fewest requests in flight; ties broken round-robin by `turn`.

    Raises NoWorker for no candidates and Overloaded when every queue already holds `max_queue` requests.
    """
    if not loads:
        raise NoWorker("no worker serves this model on this tier and site")
    open_ = [key for key, load in loads.items() if load.queue_depth < max_queue]
    if not open_:
        raise Overloaded(f"all {len(loads)} workers have {max_queue} requests queued")
    lowest = min(loads[key].in_flight for key in open_)
    tied = [key for key in open_ if loads[key].in_flight == lowest]
    return tied[turn % len(tied)]
