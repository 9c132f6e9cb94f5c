"""Memory bounds of the long-running orchestrator: what it keeps per message never grows without end."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from orchestrator.events.store import EventStore
from orchestrator.fleet.records import EventRecord
from orchestrator.gc_tending import GcTender
from orchestrator.metrics.stats import DECISION_SAMPLES, Histogram, LoopStats
from tests.unit.orchestrator.fleetkit import birth, shard, telemetry


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


class _Node:
    """A small object that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.me: _Node | None = self


def _dropped_cycle() -> weakref.ref[_Node]:
    node = _Node()
    return weakref.ref(node)


def test_tending_never_freezes_garbage_cycles_made_since_the_last_sweep() -> None:
    # paho makes one such cycle per inbound message; freezing them leaked ~30 bytes a message.
    tender = GcTender(full_every_s=600.0)
    tender.tend(0.0)
    garbage = [_dropped_cycle() for _ in range(1000)]
    tender.tend(1.0)
    assert all(ref() is None for ref in garbage)  # frozen, they would stay alive until the next full run


def test_tending_still_freezes_live_objects() -> None:
    tender = GcTender(full_every_s=600.0)
    tender.tend(0.0)
    before = gc.get_freeze_count()
    live = [_Node() for _ in range(1000)]
    tender.tend(1.0)
    assert gc.get_freeze_count() >= before + 1000
    assert all(node.me is node for node in live)


def test_decision_latency_keeps_at_most_its_sample_window() -> None:
    stats = LoopStats()
    for i in range(DECISION_SAMPLES + 500):
        stats.decision_latency.observe(i / 1000.0)
    assert len(stats.decision_latency.recent) == DECISION_SAMPLES
    assert stats.decision_latency.count == DECISION_SAMPLES + 500


def test_phase_histograms_keep_at_most_a_thousand_samples() -> None:
    stats = LoopStats()
    for _ in range(3000):
        stats.phase("apply", 0.001)
    assert len(stats.phases["apply"].recent) == 1000


def test_a_plain_histogram_is_bounded_too() -> None:
    histogram = Histogram()
    assert histogram.recent.maxlen == DECISION_SAMPLES


def test_event_memory_holds_at_most_keep_events_plus_one_prune_interval() -> None:
    store = EventStore(":memory:", keep=50)
    for batch in range(1000):
        store.append([EventRecord(batch, "decision", f"d{batch % 7}", "kept") for _ in range(3)])
    held = len(store.query(limit=10_000))
    # Pruned every 100 writes: at most `keep` plus the events of 100 batches since the last prune.
    assert held <= 50 + 100 * 3
    assert store.total == 3000
    store.close()


def test_link_histories_keep_at_most_their_length() -> None:
    s = shard(history=5)
    s.apply([birth("d1", now=0.0)], 0.0)
    for seq in range(40):
        s.apply([telemetry("d1", seq, 100.0 + seq, float(seq + 1))], float(seq + 1))
    detail = s.detail("d1")
    assert detail is not None
    assert list(detail.summary.uplink_history_mbps) == [135.0, 136.0, 137.0, 138.0, 139.0]
    assert len(detail.summary.rtt_history_ms) == 5
