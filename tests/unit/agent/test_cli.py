"""`continuum agent ...` argument handling: errors are one line with a non-zero status."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.plans import PlanStore
from agents.session.bdseq import FileBdSeq
from continuum_cli.main import main
from protos.v1 import control_pb2 as pb


def test_a_malformed_broker_address_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["agent", "run", "--broker", "no-port", "--state-dir", str(tmp_path)])
    assert status == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_a_missing_config_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["agent", "run", "--config", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_an_invalid_device_id_explains_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "run", "--device-id", "a#b", "--state-dir", str(tmp_path)]) == 2
    assert "identity.device_id" in capsys.readouterr().err


def test_an_unknown_device_class_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agent", "run", "--device-class", "toaster", "--state-dir", str(tmp_path)]) == 2
    assert "rpi4" in capsys.readouterr().err


def test_status_reports_the_stored_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    FileBdSeq(state / "bdseq").next()
    PlanStore(state / "plans").apply(pb.PlanUpdate(model="resnet18", version=4, layers=["a"], tiers=["edge"]))
    config = tmp_path / "agent.toml"
    config.write_text(f'state_dir = "{state}"\n')
    status = main(["agent", "status", "--root", str(tmp_path / "root"), "--config", str(config)])
    out = capsys.readouterr().out
    assert status == 3  # not installed
    assert "not installed" in out
    assert "bdSeq      0" in out
    assert "resnet18 (version 4)" in out


def test_probe_prints_json_with_capabilities(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(f'state_dir = "{tmp_path}"\n[identity]\ndevice_class = "x86"\n')
    assert main(["agent", "probe", "--json", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert '"cpu_count"' in out
    assert '"link_type"' in out
