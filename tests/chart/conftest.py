"""Chart test fixtures: the helm binary (required: a missing helm fails, it never skips)."""

from __future__ import annotations

import pytest

from tests.chart.render import MISSING_HELM, helm_binary


@pytest.fixture(scope="session")
def helm() -> str:
    """Path of the helm binary."""
    found = helm_binary()
    if found is None:
        pytest.fail(MISSING_HELM)
    return found
