"""`continuum tui` turns its flags into TuiSettings and runs the app from the one factory."""

from __future__ import annotations

import pytest

import tui
from continuum_cli.errors import CliError
from continuum_cli.main import build_parser
from tui import TuiSettings


class _RecordingApp:
    """Stands in for the Textual app: records that it was run instead of taking the terminal."""

    def __init__(self, settings: TuiSettings) -> None:
        self.settings = settings
        self.ran = False

    def run(self) -> None:
        self.ran = True


def test_flags_become_settings_and_the_app_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[_RecordingApp] = []

    def build(settings: TuiSettings) -> _RecordingApp:
        built.append(_RecordingApp(settings))
        return built[-1]

    monkeypatch.setattr(tui, "build_app", build)
    args = build_parser().parse_args(["tui", "--target", "10.0.0.5:6000", "--token", "s3cret", "--read-only"])
    assert args.handler(args) == 0
    (app,) = built
    assert app.ran
    assert app.settings.target == "10.0.0.5:6000"
    assert app.settings.token is not None
    assert app.settings.token.get_secret_value() == "s3cret"
    assert app.settings.read_only


def test_environment_supplies_defaults_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[TuiSettings] = []
    monkeypatch.setattr(tui, "build_app", lambda s: built.append(s) or _RecordingApp(s))
    monkeypatch.setenv("CONTINUUM_TUI_TARGET", "orchestrator:50051")
    monkeypatch.setenv("CONTINUUM_TUI_READ_ONLY", "true")
    args = build_parser().parse_args(["tui"])
    args.handler(args)
    assert built[-1].target == "orchestrator:50051"
    assert built[-1].read_only
    args = build_parser().parse_args(["tui", "--target", "other:1"])
    args.handler(args)
    assert built[-1].target == "other:1"


def test_bad_settings_are_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_TUI_POLL_INTERVAL_S", "-1")
    args = build_parser().parse_args(["tui"])
    with pytest.raises(CliError, match="invalid TUI settings"):
        args.handler(args)
