"""The wheel installs only Continuum's own top-level names: the design's rooms and `continuum_*` homes.

A generic name (`cli`, `bench`, `inference`, `evaluation`) would break, or be broken by, any other package
that has one; the benchmarks stay in the checkout. Built with the pinned uv and the pinned build backend.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"
TOP_LEVEL = {
    "protos",
    "agents",
    "orchestrator",
    "tui",
    "continuum_cli",
    "continuum_evaluation",
    "continuum_inference",
    "continuum_mqtt",
}


@pytest.mark.slow
def test_the_wheel_holds_only_continuums_top_level_names(tmp_path: Path) -> None:
    if not UV.exists():
        pytest.fail(f"{UV} is missing: the set-up (scripts/setup.sh, run by make test) installs it")
    subprocess.run(
        # The sdist first, then the wheel from it: nothing is built inside the checkout, and the sdist is
        # shown to carry everything the wheel needs.
        [str(UV), "build", "--quiet", "--out-dir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("continuum-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == TOP_LEVEL
    assert not any(name.startswith("benchmarks/") for name in names)
    assert "continuum_inference/profiles/resnet18.json" in names, "package data travels with the code"
