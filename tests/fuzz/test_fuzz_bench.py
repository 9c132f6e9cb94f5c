"""`continuum bench fuzz` in small: every case is counted under a known label, crashes are recorded
with their input and location, and a seed reproduces a run exactly."""

from __future__ import annotations

import pytest

from benchmarks.fuzz import main, run_fuzz

TARGETS = {"topics.parse_topic", "orchestrator.decode", "planner.parse_scenario", "agent.command_handler"}


def test_small_fuzz_run_counts_every_case_under_a_known_label() -> None:
    report = run_fuzz(4000, seed=7, with_grpc=False)
    assert report.cases == 4000
    assert set(report.outcomes) == TARGETS
    for counts in report.outcomes.values():
        assert any(label.startswith("rejected:") for label in counts)
        assert "rejected:other" not in counts
        assert all(
            label == "crash"
            or label.split(":")[0] in {"accepted", "accepted_nonfinite", "ignored", "rejected"}
            for label in counts
        )
    assert len(report.crashes) == sum(c["crash"] for c in report.outcomes.values())
    assert all(crash.where and crash.case and crash.error for crash in report.crashes)


def test_same_seed_reproduces_the_same_counts() -> None:
    first = run_fuzz(1000, seed=3, with_grpc=False)
    assert first.outcomes == run_fuzz(1000, seed=3, with_grpc=False).outcomes


def test_main_prints_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--cases", "400", "--seed", "1", "--no-grpc", "--target", "topics.parse_topic"])
    out = capsys.readouterr().out
    assert status == 0
    assert "fuzz: 400 cases, 0 crashes" in out
    assert "rejected:reserved_character" in out
