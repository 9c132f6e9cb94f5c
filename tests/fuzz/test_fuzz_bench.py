"""`continuum bench fuzz` in small: counts add up, nothing crashes, every rejection has a reason."""

from __future__ import annotations

from bench.fuzz import main, run_fuzz


def test_small_fuzz_run_has_no_crash_and_counts_every_case() -> None:
    report = run_fuzz(4000, seed=7)
    assert report.crashes == []
    assert report.cases == 4000
    assert {"topics.parse_topic", "orchestrator.decode"} <= set(report.outcomes)
    for counts in report.outcomes.values():
        assert any(label.startswith("rejected:") for label in counts)
        assert "rejected:other" not in counts


def test_same_seed_reproduces_the_same_counts() -> None:
    assert run_fuzz(1000, seed=3).outcomes == run_fuzz(1000, seed=3).outcomes


def test_main_prints_counts_and_exits_0(capsys: object) -> None:
    assert main(["--cases", "500", "--seed", "1"]) == 0
