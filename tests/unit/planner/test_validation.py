"""Every way a scenario file can be wrong gives one clear error naming the path and what to change."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.planner import ScenarioError, load_scenario, parse_scenario
from tests.unit.planner.samples import chain_doc, dag_doc

Mutation = Callable[[dict[str, Any]], object]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


CASES: list[tuple[str, Mutation, str]] = [
    (
        "negative latency",
        _set(["model", "layers", 1, "latency_ms", "edge"], -1.0),
        "model.layers[1].latency_ms.edge: must be >= 0",
    ),
    (
        "infinite size",
        _set(["model", "layers", 0, "output_bytes"], math.inf),
        "model.layers[0].output_bytes: must be a finite number",
    ),
    ("nan input", _set(["model", "input_bytes"], math.nan), "model.input_bytes: must be a finite number"),
    ("unknown top-level key", _set(["objectiv"], {}), "objectiv: unknown key"),
    ("unknown nested key", _set(["model", "layers", 2, "latncy"], 1), "model.layers[2].latncy: unknown key"),
    ("wrong format", _set(["format"], "continuum.scenario/v2"), "format: input should be"),
    ("string number", _set(["model", "input_bytes"], "600000"), "model.input_bytes:"),
    ("missing layers", _delete(["model", "layers"]), "model.layers: required"),
    ("no layers", _set(["model", "layers"], []), "model.layers: must not be empty"),
    (
        "unknown tier in latency",
        _set(["model", "layers", 0, "latency_ms", "gpu"], 1.0),
        "model.layers[0].latency_ms.gpu: unknown tier",
    ),
    (
        "latency lists no tier",
        _set(["model", "layers", 0, "latency_ms"], {}),
        "model.layers[0].latency_ms: lists no tier",
    ),
    ("duplicate layer", _set(["model", "layers", 2, "name"], "a"), "model.layers[2].name: 'a' already names"),
    ("layer named input", _set(["model", "layers", 0, "name"], "input"), "model.layers[0].name: 'input'"),
    (
        "unknown input",
        _set(["model", "layers", 1, "inputs"], ["nope"]),
        "model.layers[1].inputs[0]: unknown layer 'nope'",
    ),
    (
        "cycle",
        lambda d: (
            _set(["model", "layers", 0, "inputs"], ["c"])(d),
            _set(["model", "layers", 2, "inputs"], ["a"])(d),
        ),
        "model.layers: cycle",
    ),
    (
        "out of order",
        _set(["model", "layers", 1, "inputs"], ["c"]),
        "model.layers[1].inputs[0]: 'c' comes at or after",
    ),
    (
        "empty inputs",
        _set(["model", "layers", 1, "inputs"], []),
        "model.layers[1].inputs: must name at least one",
    ),
    (
        "input twice",
        _set(["model", "layers", 1, "inputs"], ["a", "a"]),
        "model.layers[1].inputs[1]: 'a' is listed twice",
    ),
    ("unknown tier section", _set(["tiers", "fog"], {}), "tiers.fog: unknown tier"),
    (
        "unknown link",
        _set(["links", "device->fog"], {"bandwidth_mbps": 1.0, "rtt_ms": 1.0}),
        "links.device->fog: unknown link",
    ),
    (
        "zero bandwidth",
        _set(["links", "device->edge", "bandwidth_mbps"], 0.0),
        "links.device->edge.bandwidth_mbps: must be > 0",
    ),
    (
        "missing hop",
        lambda d: (d["links"].pop("edge->device"), d["links"].pop("cloud->device")),
        "links: no route from edge to device",
    ),
    ("missing hop, no relay", lambda d: d["links"].pop("edge->cloud"), "links: no route from edge to cloud"),
    (
        "segment unknown layer",
        _set(["model", "segments"], [{"first": "a", "last": "z", "latency_ms": {}}]),
        "model.segments[0].last: unknown layer 'z'",
    ),
    (
        "segment reversed",
        _set(["model", "segments"], [{"first": "c", "last": "a", "latency_ms": {}}]),
        "model.segments[0].last: 'a' comes before first 'c'",
    ),
    (
        "segment twice",
        _set(["model", "segments"], [{"first": "a", "last": "b", "latency_ms": {}}] * 2),
        "model.segments[1]: the same run as model.segments[0]",
    ),
    (
        "segment unknown tier",
        _set(["model", "segments"], [{"first": "a", "last": "b", "latency_ms": {"tpu": 1.0}}]),
        "model.segments[0].latency_ms.tpu: unknown tier",
    ),
    (
        "exit unknown layer",
        _set(["model", "exits"], [{"after": "q", "exit_rate": 0.5, "output_bytes": 1.0}]),
        "model.exits[0].after: unknown layer 'q'",
    ),
    (
        "exit rate above one",
        _set(["model", "exits"], [{"after": "a", "exit_rate": 1.5, "output_bytes": 1.0}]),
        "model.exits[0].exit_rate: must be <= 1",
    ),
    (
        "two exits after one layer",
        _set(["model", "exits"], [{"after": "a", "exit_rate": 0.5, "output_bytes": 1.0}] * 2),
        "model.exits[1].after: model.exits[0] already follows 'a'",
    ),
    (
        "pin unknown layer",
        _set(["constraints"], {"pin": {"zz": "edge"}}),
        "constraints.pin.zz: unknown layer",
    ),
    (
        "pin unknown tier",
        _set(["constraints"], {"pin": {"a": "fog"}}),
        "constraints.pin.a: unknown tier 'fog'",
    ),
    (
        "allowed unknown tier",
        _set(["constraints"], {"tiers": ["edge", "fog"]}),
        "constraints.tiers[1]: unknown tier 'fog'",
    ),
    (
        "pin where the layer cannot run",
        lambda d: (
            _set(["model", "layers", 0, "latency_ms"], {"device": 1.0})(d),
            _set(["constraints"], {"pin": {"a": "edge"}})(d),
        ),
        "model.layers[0] ('a'): no tier can run it",
    ),
    (
        "allowed tiers exclude a layer",
        lambda d: (
            _set(["model", "layers", 0, "latency_ms"], {"cloud": 1.0})(d),
            _set(["constraints"], {"tiers": ["device", "edge"]})(d),
        ),
        "model.layers[0] ('a'): no tier can run it",
    ),
    (
        "tier missing everywhere",
        lambda d: (d["tiers"].pop("cloud"), _set(["model", "layers", 0, "latency_ms"], {"cloud": 1.0})(d)),
        "model.layers[0] ('a'): no tier can run it",
    ),
    (
        "subnormal bandwidth",
        _set(["links", "edge->device", "bandwidth_mbps"], 5e-324),
        "links.edge->device.bandwidth_mbps: too small to move a byte in finite time",
    ),
    (
        "overflowing price",
        lambda d: (
            _set(["tiers", "edge", "cost_per_hour"], 1e308)(d),
            _set(["model", "layers", 1, "latency_ms", "edge"], 1e300)(d),
        ),
        "(document): numbers too large: cost_usd of some plans would overflow",
    ),
    ("bad objective", _set(["objective", "minimize"], "speed"), "objective.minimize: input should be"),
    ("negative limit", _set(["objective", "max_latency_ms"], -5.0), "objective.max_latency_ms: must be >= 0"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_scenario_names_the_path(case: str, mutate: Mutation, message: str) -> None:
    doc = chain_doc()
    mutate(doc)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(doc)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_segments_on_a_dag_are_refused() -> None:
    doc = dag_doc()
    doc["model"]["segments"] = [{"first": "a", "last": "b", "latency_ms": {"edge": 1.0}}]
    with pytest.raises(
        ScenarioError, match=re.escape("model.segments: segments and exits apply to chains only")
    ):
        parse_scenario(doc)


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ScenarioError, match="must be a mapping"):
        parse_scenario([1, 2])  # type: ignore[arg-type]


def test_missing_direct_link_relays_through_the_edge() -> None:
    doc = chain_doc()
    del doc["links"]["device->cloud"], doc["links"]["cloud->device"]
    assert parse_scenario(doc).links.keys() == {"device->edge", "edge->device", "edge->cloud", "cloud->edge"}


def test_links_only_needed_by_forbidden_tiers_may_be_missing() -> None:
    doc = chain_doc()
    doc["links"] = {k: v for k, v in doc["links"].items() if "cloud" not in k}
    doc["constraints"] = {"tiers": ["device", "edge"]}
    parse_scenario(doc)


def test_load_scenario_reports_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ScenarioError, match=r"bad.json: not valid JSON"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="cannot read it"):
        load_scenario(tmp_path / "missing.json")
    wrong = tmp_path / "wrong.json"
    doc = chain_doc()
    doc["model"]["layers"][0]["latency_ms"]["edge"] = -2.0
    wrong.write_text(json.dumps(doc))
    with pytest.raises(ScenarioError, match=r"wrong.json: model.layers\[0\].latency_ms.edge: must be >= 0"):
        load_scenario(wrong)


def test_yaml_scenarios_load(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(chain_doc()))
    assert load_scenario(path).layer_names == ("a", "b", "c")
    broken = tmp_path / "broken.yml"
    broken.write_text("model: [unclosed")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)


def test_with_links_validates_and_keeps_other_fields() -> None:
    scn = parse_scenario(chain_doc())
    faster = scn.with_links({"device->edge": {"bandwidth_mbps": 200.0}})
    assert faster.links["device->edge"].bandwidth_mbps == 200.0
    assert faster.links["device->edge"].rtt_ms == 8.0
    assert scn.links["device->edge"].bandwidth_mbps == 20.0
    with pytest.raises(ScenarioError, match=re.escape("links.device->edge.bandwidth_mbps")):
        scn.with_links({"device->edge": {"bandwidth_mbps": -1.0}})
    with pytest.raises(ScenarioError, match=re.escape("links.edge->fog: unknown link")):
        scn.with_links({"edge->fog": {"bandwidth_mbps": 1.0}})


def test_with_links_refuses_a_bandwidth_too_small_to_use() -> None:
    with pytest.raises(ScenarioError, match=re.escape("links.device->edge.bandwidth_mbps: too small")):
        parse_scenario(chain_doc()).with_links({"device->edge": {"bandwidth_mbps": 1e-320}})
