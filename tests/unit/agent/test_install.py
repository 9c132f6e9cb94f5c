"""`continuum agent install`: the unit verifies, scores <= 3.0 on systemd's exposure scale, and the
config file it writes loads back."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from agents.install import CONFIG_PATH, UNIT_PATH, render_unit
from agents.settings import load_settings
from continuum_cli.main import main

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    config = tmp_path / "input.toml"
    config.write_text(
        '[broker]\nhost = "mqtt.example"\npassword = "s3cret"\n'
        '[identity]\nfleet = "north"\ndevice_id = "pi-7"\n'
    )
    assert main(["agent", "install", "--root", str(tmp_path / "root"), "--config", str(config)]) == 0
    return tmp_path / "root"


def test_install_writes_the_unit_and_a_private_config_that_loads_back(installed: Path) -> None:
    unit = (installed / UNIT_PATH).read_text()
    assert "Type=notify" in unit
    assert "WatchdogSec=" in unit
    assert "DynamicUser=yes" in unit
    assert "ProtectSystem=strict" in unit
    config = installed / CONFIG_PATH
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    settings = load_settings(config)
    assert settings.broker.host == "mqtt.example"
    assert settings.broker.password is not None
    assert settings.broker.password.get_secret_value() == "s3cret"
    assert settings.identity.device_id == "pi-7"
    assert str(settings.state_dir) == "/var/lib/continuum-agent"


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "install", "--dry-run", "--root", str(tmp_path)]) == 0
    assert not any(tmp_path.iterdir())
    assert "Type=notify" in capsys.readouterr().out


def test_uninstall_removes_the_unit_and_keeps_the_config(installed: Path) -> None:
    assert main(["agent", "uninstall", "--root", str(installed)]) == 0
    assert not (installed / UNIT_PATH).exists()
    assert (installed / CONFIG_PATH).exists()


def test_gpu_nodes_are_allowed_only_when_present() -> None:
    assert "PrivateDevices=yes" in render_unit("/usr/bin/continuum", gpus=[])
    with_gpu = render_unit("/usr/bin/continuum", gpus=["/dev/nvidia0"])
    assert "DeviceAllow=/dev/nvidia0 rw" in with_gpu
    assert "DevicePolicy=closed" in with_gpu


@needs_systemd_analyze
def test_the_unit_passes_systemd_analyze_verify(installed: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(installed / UNIT_PATH)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@needs_systemd_analyze
def test_the_unit_scores_3_or_lower_on_systemd_security(installed: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(installed / UNIT_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 3.0


def test_the_shipped_example_unit_matches_the_renderer() -> None:
    shipped = Path(__file__).resolve().parents[3] / "deploy" / "systemd" / "continuum-agent.service"
    assert shipped.read_text() == render_unit("/usr/local/bin/continuum", gpus=[])
