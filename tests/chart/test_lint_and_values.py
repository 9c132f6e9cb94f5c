"""The chart lints strictly, its values are all documented, and its schema refuses what it does not know."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.render import CHART, CI_VALUES, run_helm, value_args

pytestmark = pytest.mark.chart

SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def test_every_ci_scenario_is_present() -> None:
    names = {path.name for path in CI_VALUES}
    assert names == {
        "default-values.yaml",
        "ray-values.yaml",
        "external-broker-values.yaml",
        "servicemonitor-values.yaml",
        "tls-values.yaml",
    }


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_lint_strict_passes(helm: str, values: Path) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART), *value_args([values]))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("orchestrator.replicaz=2", "replicaz"),
        ("broker.tls.enable=true", "enable"),
        ("ray.workerGroups[0].nodeSelektor.a=b", "nodeSelektor"),
        ("colour=blue", "colour"),
    ],
)
def test_an_unknown_value_is_refused_by_the_schema(helm: str, setting: str, field: str) -> None:
    result = run_helm(helm, "template", "rel", str(CHART), "--set", setting)

    assert result.returncode != 0
    assert "schema" in result.stderr.lower()
    assert field in result.stderr


@pytest.mark.parametrize(
    "setting",
    ["orchestrator.objective=speed", "orchestrator.replicas=0", "fleet=a/b", "broker.service.port=70000"],
)
def test_an_invalid_value_is_refused_by_the_schema(helm: str, setting: str) -> None:
    result = run_helm(helm, "template", "rel", str(CHART), "--set", setting)

    assert result.returncode != 0
    assert "schema" in result.stderr.lower()


def test_a_worker_group_outside_its_bounds_is_refused(helm: str, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    group = {"name": "edge-a", "tier": "edge", "site": "a", "replicas": 9, "maxReplicas": 4}
    values.write_text(yaml.safe_dump({"ray": {"enabled": True, "workerGroups": [group]}}))

    result = run_helm(helm, "template", "rel", str(CHART), "-f", str(values))

    assert result.returncode != 0
    assert "minReplicas <= replicas <= maxReplicas" in result.stderr


def schema_objects(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema in the values schema, with its path."""
    if node.get("type") == "object" or "properties" in node:
        yield path or "<root>", node
    for key, child in node.get("properties", {}).items():
        yield from schema_objects(child, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from schema_objects(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from schema_objects(node["additionalProperties"], f"{path}.*")


def test_every_object_in_the_schema_is_closed() -> None:
    objects = list(schema_objects(SCHEMA))
    assert len(objects) > 30
    for path, node in objects:
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"
        else:  # a map (labels, nodeSelector, resources): keys free, values typed
            assert isinstance(node.get("additionalProperties"), dict), f"{path} is an untyped object"


def test_every_schema_property_has_a_description() -> None:
    for path, node in schema_objects(SCHEMA):
        for key, child in node.get("properties", {}).items():
            assert child.get("description"), f"{path}.{key} has no description"


def mapping_keys_outside_lists(text: str) -> Iterator[tuple[int, str]]:
    """(line index, dotted key) of every mapping key in values.yaml that is not inside a list."""
    stack: list[tuple[int, str]] = []
    list_indent: int | None = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if list_indent is not None:
            if indent > list_indent or (indent == list_indent and stripped.startswith("- ")):
                continue
            list_indent = None
        if stripped.startswith("- "):
            list_indent = indent
            continue
        match = re.match(r"([A-Za-z][\w.-]*):", stripped)
        if match is None:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group(1)))
        yield index, ".".join(key for _, key in stack)


def test_every_value_in_values_yaml_is_commented() -> None:
    text = (CHART / "values.yaml").read_text()
    lines = text.splitlines()
    keys = list(mapping_keys_outside_lists(text))
    assert len(keys) > 60
    for index, key in keys:
        if re.search(r"\.(requests|limits)\.", key):
            continue  # cpu/memory under a commented requests/limits
        above = lines[index - 1].strip() if index > 0 else ""
        assert above.startswith("#"), f"values.yaml: {key} (line {index + 1}) has no comment above it"


def test_values_yaml_passes_its_own_schema_with_nothing_undocumented() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(value: Any, schema: dict[str, Any], path: str) -> None:
        if isinstance(value, dict) and "properties" in schema:
            for key, child in value.items():
                assert key in schema["properties"], f"{path}.{key} is missing from values.schema.json"
                walk(child, schema["properties"][key], f"{path}.{key}")
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for item in value:
                walk(item, schema["items"], f"{path}[]")

    walk(values, SCHEMA, "")
