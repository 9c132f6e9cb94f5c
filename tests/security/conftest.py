"""Fixtures shared by the security tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder every user may enter, as /etc/mosquitto or /srv would be (pytest's own are root-only), for
    files a root-started Mosquitto reads after it has switched to its own user."""
    folder = Path(tempfile.mkdtemp(prefix="continuum-broker-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
