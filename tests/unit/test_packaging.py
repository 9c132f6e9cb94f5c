"""Packaging: a device installing the `agent` extra gets none of Ray, Kubernetes or Textual.

Resolves the real dependency tree with `pip install --dry-run --report` (nothing is installed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"ray", "kubernetes", "textual"}


def _resolve(extra: str, tmp_path: Path) -> set[str]:
    report = tmp_path / f"{extra}.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            f"{ROOT}[{extra}]",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"pip could not resolve .[{extra}]: {result.stderr[-2000:]}")
    data = json.loads(report.read_text())
    return {item["metadata"]["name"].lower().replace("_", "-") for item in data["install"]}


@pytest.mark.slow
def test_agent_extra_pulls_no_ray_kubernetes_or_textual(tmp_path: Path) -> None:
    names = _resolve("agent", tmp_path)
    assert {"paho-mqtt", "onnxruntime", "grpcio", "protobuf"} <= names
    assert not names & HEAVY, f"the agent extra would install {sorted(names & HEAVY)}"


@pytest.mark.slow
def test_orchestrator_extra_does_pull_ray(tmp_path: Path) -> None:
    # The check above is only meaningful if the resolver sees heavy packages where they belong.
    assert "ray" in _resolve("orchestrator", tmp_path)
