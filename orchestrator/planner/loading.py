"""Reading a scenario file (JSON, or YAML when PyYAML is installed) into a Scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.planner.errors import ScenarioError
from orchestrator.planner.scenario import Scenario, parse_scenario

__all__ = ["load_scenario"]


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a `continuum.scenario/v1` file; ScenarioError (prefixed with the file) if bad."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    doc: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover - PyYAML ships with the orchestrator extra
            raise ScenarioError(f"{path}: YAML needs PyYAML (pip install pyyaml), or use JSON") from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        return parse_scenario(doc)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
