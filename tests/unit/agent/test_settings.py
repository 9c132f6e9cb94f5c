"""Agent settings: TOML file, CONTINUUM_ environment variables and CLI overrides, in that rising order."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agents.settings import AgentSettings, ConfigFileMissing, load_settings


def test_file_env_and_overrides_merge_with_the_right_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        'state_dir = "/srv/agent"\n[broker]\nhost = "mqtt.example"\nport = 1883\n'
        '[broker.tls]\nenabled = true\n[identity]\nfleet = "north"\ndevice_id = "from-file"\n'
        '[probes.targets]\nedge = "edge.example:50051"\n'
    )
    monkeypatch.setenv("CONTINUUM_BROKER__PORT", "8883")
    settings = load_settings(config, identity={"device_id": "from-cli"})
    assert settings.broker.host == "mqtt.example"
    assert settings.broker.port == 8883
    assert settings.broker.tls.enabled
    assert settings.identity.fleet == "north"
    assert settings.identity.device_id == "from-cli"
    assert settings.state_dir == Path("/srv/agent")
    assert settings.probes.targets == {"edge": "edge.example:50051"}


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileMissing, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_a_device_id_with_topic_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="reserve"):
        AgentSettings(identity={"device_id": "a/b"})  # type: ignore[arg-type]


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("[broker]\nhots = 'typo'\n")
    with pytest.raises(ValidationError, match="hots"):
        load_settings(config)


def test_every_field_has_a_docstring() -> None:
    from agents import settings as module

    for model in (
        module.AgentSettings,
        module.BrokerSettings,
        module.TlsSettings,
        module.IdentitySettings,
        module.TelemetrySettings,
        module.BufferSettings,
        module.ProbeSettings,
    ):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
