"""Least-loaded routing: fewest in flight wins, ties rotate, full queues shed load."""

from __future__ import annotations

import pytest

from orchestrator.dataplane.routing import NoWorker, Overloaded, WorkerLoad, pick_least_loaded


def test_the_worker_with_fewest_requests_in_flight_is_chosen() -> None:
    loads = {"a": WorkerLoad(3, 2), "b": WorkerLoad(1, 2), "c": WorkerLoad(2, 2)}
    assert pick_least_loaded(loads, max_queue=4) == "b"


def test_ties_rotate_between_equally_loaded_workers() -> None:
    loads = {"a": WorkerLoad(0, 1), "b": WorkerLoad(0, 1)}
    assert {pick_least_loaded(loads, max_queue=1, turn=t) for t in range(2)} == {"a", "b"}


def test_workers_with_full_queues_are_skipped_and_all_full_sheds_load() -> None:
    loads = {"a": WorkerLoad(4, 2), "b": WorkerLoad(3, 2)}
    assert pick_least_loaded(loads, max_queue=2) == "b"
    with pytest.raises(Overloaded):
        pick_least_loaded({"a": WorkerLoad(4, 2)}, max_queue=2)


def test_no_candidates_means_no_worker() -> None:
    with pytest.raises(NoWorker):
        pick_least_loaded({}, max_queue=2)


def test_queue_depth_counts_only_requests_waiting_behind_running_ones() -> None:
    assert WorkerLoad(1, 2).queue_depth == 0
    assert WorkerLoad(5, 2).queue_depth == 3
