"""The custom collector: continuum_ metrics from current state, bounded labels, valid exposition."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.ingest.intake import Intake
from orchestrator.metrics.exposition import OrchestratorCollector
from orchestrator.metrics.stats import LoopStats


class FakeSource:
    def __init__(self) -> None:
        self.stats = LoopStats()
        self.intake = Intake(1024, 10)
        self.started_s = 1.0
        self.mqtt: Any = None

    def state_counts(self) -> dict[str, int]:
        return {"online": 3, "stale": 1, "offline": 2}


def exposition() -> str:
    source = FakeSource()
    source.stats.add_outcomes({"telemetry_accepted": 5, "telemetry_gap": 1})
    source.stats.decision_latency.observe(0.004)
    source.stats.phase("apply", 0.001)
    source.intake.rejected["undecodable"] = 2
    registry = CollectorRegistry()
    registry.register(OrchestratorCollector(source))
    return generate_latest(registry).decode()


def test_devices_and_outcomes_are_exposed_with_bounded_labels() -> None:
    families = {f.name: f for f in text_string_to_metric_families(exposition())}
    devices = {s.labels["state"]: s.value for s in families["continuum_devices"].samples}
    assert devices == {"online": 3, "stale": 1, "offline": 2}
    outcomes = {
        s.labels["outcome"]: s.value
        for s in families["continuum_telemetry_messages"].samples
        if s.name.endswith("_total")
    }
    assert outcomes["telemetry_accepted"] == 5
    assert outcomes["rejected_undecodable"] == 2
    label_names = {k for f in families.values() for s in f.samples for k in s.labels}
    assert label_names <= {"state", "outcome", "reason", "kind", "phase", "le"}
    assert all(name.startswith("continuum_") for name in families)


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed (apt-get install prometheus)"
)
def test_promtool_finds_no_problem() -> None:
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=exposition().encode(), capture_output=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not checked.stdout.strip(), checked.stdout
