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


def test_tending_freezes_survivors_and_periodically_releases_them() -> None:
    tender = GcTender(full_every_s=10.0)
    tender.tend(0.0)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc.unfreeze()
    cycle: list[object] = []
    cycle.append(cycle)
    tender.tend(5.0)
    assert gc.get_freeze_count() >= frozen
    del cycle
    tender.tend(10.0)
    assert gc.get_freeze_count() > 0
    assert gc.garbage == []
