"""The shipped examples plan to their golden plans, and the CLI shows and prints them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from continuum_cli.main import main
from orchestrator.planner import Infeasible, load_scenario, plan
from tests.unit.planner.oracle import brute_force, figures
from tests.unit.planner.samples import EXAMPLES

GOLDEN = Path(__file__).parent / "golden"
PLANNED = ["alexnet.json", "resnet18-dag.json", "branchy-exits.json", "tiny.yaml"]


def _doc(name: str) -> dict[str, object]:
    path = EXAMPLES / name
    if path.suffix == ".yaml":
        yaml = pytest.importorskip("yaml")
        return dict(yaml.safe_load(path.read_text()))
    return dict(json.loads(path.read_text()))


@pytest.mark.parametrize("name", PLANNED)
def test_example_plans_match_their_golden_plan(name: str) -> None:
    result = plan(load_scenario(EXAMPLES / name)).to_json()
    golden = json.loads((GOLDEN / (Path(name).stem + ".plan.json")).read_text())
    assert result["assignment"] == golden["assignment"]
    for key in ("latency_ms", "cost_usd", "device_energy_j"):
        assert result[key] == pytest.approx(golden[key], rel=1e-9)
    oracle = figures(_doc(name), golden["assignment"])
    assert (result["latency_ms"], result["cost_usd"], result["device_energy_j"]) == pytest.approx(
        oracle, rel=1e-9
    )


@pytest.mark.parametrize("name", ["branchy-exits.json", "tiny.yaml"])
def test_small_examples_are_optimal_by_brute_force(name: str) -> None:
    doc = _doc(name)
    result = plan(load_scenario(EXAMPLES / name))
    limit = doc["objective"].get("max_latency_ms")  # type: ignore[attr-defined]
    column = {"latency": 0, "cost": 1, "energy": 2}[doc["objective"]["minimize"]]  # type: ignore[index]
    best = min(f[column] for _, f in brute_force(doc) if limit is None or f[0] <= limit)
    mine = figures(doc, dict(result.assignment))
    assert mine[column] == pytest.approx(best, rel=1e-9)


def test_breakdown_adds_up_to_the_latency() -> None:
    result = plan(load_scenario(EXAMPLES / "alexnet.json"))
    parts = sum(sum(values.values()) for values in result.breakdown.values())
    assert parts == pytest.approx(result.latency_ms, rel=1e-12)
    assert set(result.breakdown["compute_ms"]) == {"device", "edge", "cloud"}


def test_the_infeasible_example_names_the_binding_limit() -> None:
    with pytest.raises(
        Infeasible, match=r"objective.max_latency_ms: no plan is that fast; the fastest takes 94.1 ms"
    ):
        plan(load_scenario(EXAMPLES / "alexnet-infeasible.json"))


def test_cli_prints_exactly_a_plan_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLES / "alexnet.json"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["format"] == "continuum.plan/v1"
    assert set(printed) == {
        "format",
        "assignment",
        "latency_ms",
        "cost_usd",
        "device_energy_j",
        "breakdown",
        "alternatives",
    }
    assert list(printed["assignment"]) == [layer["name"] for layer in _doc("alexnet.json")["model"]["layers"]]  # type: ignore[index]
    assert set(printed["alternatives"]) == {"device_only", "edge_only", "cloud_only"}


def test_cli_summary_shows_the_split_and_alternatives(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLES / "alexnet.json")]) == 0
    out = capsys.readouterr().out
    assert "|DDDEEEEEEEEEEEEEEE|" in out
    for part in ("device_only", "cloud_only", "transfer"):
        assert part in out


@pytest.mark.parametrize("name", ["alexnet-infeasible.json", "missing.json"])
def test_cli_exits_2_with_one_line_on_bad_files(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLES / name), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("continuum plan: ")
