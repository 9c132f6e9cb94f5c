"""GC tending: survivors are frozen every time; a full collection of them happens once per period."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from orchestrator.gc_tending import GcTender


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def _scanned(obj: object) -> bool:
    """Whether the collector still scans `obj` (frozen objects leave gc.get_objects())."""
    return any(o is obj for o in gc.get_objects())


def test_tending_freezes_survivors_and_periodically_releases_them() -> None:
    tender = GcTender(full_every_s=10.0)
    tender.tend(0.0)
    assert gc.get_freeze_count() > 0
    cycle: list[object] = []
    cycle.append(cycle)
    assert _scanned(cycle)
    tender.tend(5.0)
    assert not _scanned(cycle), "a live object allocated since the last sweep is frozen by the next"
    del cycle
    tender.tend(10.0)
    assert gc.get_freeze_count() > 0
    assert gc.garbage == []
