"""`continuum bench` finds area modules lazily, and the planner's benchmark runs and reports every case."""

from __future__ import annotations

import json
import sys
import types

import pytest

from continuum_cli.commands import bench as bench_command
from continuum_cli.main import main


def test_bench_dispatches_to_the_area_module_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        calls.append(argv)
        return 3

    fake = types.ModuleType("benchmarks.fakearea")
    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.fakearea", fake)
    assert bench_command.run_area("fakearea", True, ["--quick"]) == 3
    assert calls == [["--json", "--quick"]]


def test_bench_all_names_the_missing_areas(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_command, "AREAS", ("fakeone", "faketwo"))
    fake = types.ModuleType("benchmarks.fakeone")
    fake.main = lambda argv: print("ran fakeone") or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.fakeone", fake)
    monkeypatch.setattr(bench_command, "available", lambda area: area == "fakeone")
    assert main(["bench", "all"]) == 0
    out = capsys.readouterr().out
    assert "ran fakeone" in out
    assert "missing benchmark modules: faketwo" in out


def test_planner_bench_reports_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "planner", "--json", "--quick", "--tiny"]) == 0
    report = json.loads(capsys.readouterr().out)
    cases = [result["case"] for result in report["results"]]
    assert cases == [
        "chain-50",
        "chain-200",
        "chain-200-limited",
        "resnet110-chain",
        "dag-50",
        "dag-200",
        "fleet-100k",
        "fleet-dag-10k",
    ]
    assert all(
        result.get("warm_cpu_ms_median", result.get("cpu_ms_median", 0)) > 0 for result in report["results"]
    )
