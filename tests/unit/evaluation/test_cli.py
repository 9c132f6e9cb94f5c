"""`continuum evaluate` reads every trace format, prints JSON or a table, refuses bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from continuum_cli.main import main
from continuum_evaluation.run import POLICIES
from tests.unit.evaluation.models import chain_model

SHIPPED = Path(__file__).parents[3] / "agents" / "sim" / "data"
KEYS = {"mean_ms", "p50_ms", "p95_ms", "p99_ms", "cost_usd_per_1k", "device_energy_j_per_req", "switches"}


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(chain_model()))
    return path


def _mahimahi(path: Path, seconds: int) -> Path:
    """One 1500-byte delivery opportunity per line: 2 Mbps for the first half, 0.6 Mbps after."""
    rng = np.random.default_rng(5)
    stamps: list[int] = []
    for second in range(seconds):
        per_s = 167 if second < seconds // 2 else 50
        stamps.extend(sorted(int(x) for x in rng.uniform(second * 1000, (second + 1) * 1000, per_s)))
    path.write_text("".join(f"{s}\n" for s in stamps))
    return path


def _csv(path: Path) -> Path:
    rows = "".join(f"{t},{0.5 + (t % 7)},{99}\n" for t in range(40))
    path.write_text("time_s,up_mbps,rsrp\n" + rows)
    return path


@pytest.mark.parametrize("fmt", ["two_column", "mahimahi", "csv"])
def test_every_trace_format_evaluates_to_json(
    fmt: str, profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra: list[str] = []
    if fmt == "two_column":
        trace = SHIPPED / "oboe_trace_1.txt"
    elif fmt == "mahimahi":
        trace = _mahimahi(tmp_path / "cell.up", 30)
    else:
        trace = _csv(tmp_path / "ul.csv")
        extra = ["--column", "up_mbps"]
    status = main(["evaluate", "--model", str(profile), "--uplink-trace", str(trace), "--json", *extra])
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["policies"]) == set(POLICIES)
    assert all(set(figures) == KEYS for figures in doc["policies"].values())
    assert doc["policies"]["oracle"]["mean_ms"] <= doc["policies"]["adaptive"]["mean_ms"]


def test_table_and_plot_for_a_trace_folder(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "traces"
    folder.mkdir()
    for name in ("oboe_trace_0.txt", "oboe_trace_1.txt"):
        (folder / name).write_text((SHIPPED / name).read_text())
    plot = tmp_path / "summary.png"
    status = main(
        [
            "evaluate",
            "--model",
            str(profile),
            "--trace-dir",
            str(folder),
            "--policies",
            "edge_only,adaptive,oracle",
            "--plot",
            str(plot),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "adaptive / oracle mean latency" in out
    assert "2 traces" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_single_trace_plot_is_a_png(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "run.png"
    status = main(
        [
            "evaluate",
            "--model",
            str(profile),
            "--uplink-trace",
            str(SHIPPED / "oboe_trace_0.txt"),
            "--downlink-trace",
            str(SHIPPED / "oboe_trace_1.txt"),
            "--rtt-ms",
            "20",
            "--plot",
            str(plot),
        ]
    )
    assert status == 0
    assert "oracle" in capsys.readouterr().out
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--uplink-trace", "/nonexistent/trace.txt"], "cannot read trace"),
        (["--uplink-trace", "{shipped}", "--policies", "magic"], "unknown magic"),
        (["--uplink-trace", "{shipped}", "--rate", "0"], "--rate"),
        ([], "exactly one of"),
        (["--uplink-trace", "{bad}"], "not a number"),
    ],
)
def test_bad_flags_and_files_end_in_one_line_and_exit_2(
    argv: list[str], message: str, profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1.0\n1 lots\n")
    args = [a.format(shipped=SHIPPED / "oboe_trace_0.txt", bad=bad) for a in argv]
    assert main(["evaluate", "--model", str(profile), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("continuum evaluate: ")
    assert message in err
    assert "\n" not in err


def test_a_malformed_flag_value_is_one_line_and_exit_2(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["evaluate", "--model", str(profile), "--uplink-trace", "x.txt", "--rate", "fast"])
    assert ended.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--rate" in err
    assert "\n" not in err


def test_a_model_file_without_layers_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.json"
    path.write_text("{}")
    status = main(["evaluate", "--model", str(path), "--uplink-trace", str(SHIPPED / "oboe_trace_0.txt")])
    assert status == 2
    assert "layers" in capsys.readouterr().err


def test_adaptive_settings_can_be_overridden_and_are_reported(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = SHIPPED / "norway_train_4.txt"
    argv = [
        "evaluate",
        "--model",
        str(profile),
        "--uplink-trace",
        str(trace),
        "--json",
        "--policies",
        "adaptive",
    ]
    assert main([*argv, "--adaptive", "telemetry_interval_s=1", "--adaptive", "passive_sample_s=0.25"]) == 0
    settings = json.loads(capsys.readouterr().out)["adaptive_settings"]
    assert settings["telemetry_interval_s"] == 1.0
    assert settings["passive_sample_s"] == 0.25
    assert main([*argv, "--adaptive", "telemetry=fast"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_bench_falls_back_to_the_shipped_traces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.evaluation import main as bench_main

    argv = [
        "--json",
        "--data",
        str(tmp_path),
        "--models",
        "alexnet",
        "--max-per-family",
        "2",
        "--device-classes",
        "rpi4",
    ]
    status = bench_main(argv)
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["families"]
    assert row["family"] == "shipped"
    assert row["traces"] == 2
    assert row["policies"]["oracle"] <= min(row["policies"].values())


def test_bench_report_renders_saved_json_into_markdown_and_plots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    from benchmarks.evaluation import main as bench_main

    saved = tmp_path / "json"
    saved.mkdir()
    assert (
        bench_main(
            ["--json", "--data", str(tmp_path / "none"), "--models", "alexnet", "--max-per-family", "1"]
        )
        == 0
    )
    (saved / "evaluation.json").write_text(capsys.readouterr().out)
    (saved / "planner.json").write_text(
        json.dumps({"area": "planner", "cases": [{"name": "chain", "ms": 1.5}]})
    )
    script = runpy.run_path(str(Path(__file__).parents[3] / "scripts" / "bench-report.py"))
    out = tmp_path / "BENCHMARKS.md"
    status = script["main"](
        [
            "--areas",
            "planner,evaluation",
            "--from-json",
            str(saved),
            "--out",
            str(out),
            "--img",
            str(tmp_path / "img"),
        ]
    )
    assert status == 0
    text = out.read_text()
    assert "| python |" in text
    assert "| rpi4 | shipped | alexnet | 1 |" in text
    assert "| chain | 1.5 |" in text
    assert (tmp_path / "img" / "evaluation-latency.png").read_bytes()[:4] == b"\x89PNG"
