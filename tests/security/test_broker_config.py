"""`continuum broker config` input handling and the ACL model, without a broker."""

from __future__ import annotations

import getpass
import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuum_cli.main import main as cli_main
from orchestrator.security import AclModel, hash_password, password_line, verify_password
from orchestrator.security.passwords import parse_password_line
from protos.topics import DeviceKind, device_topic, orchestrator_topic

DEVICE_PUBLISHES: tuple[DeviceKind, ...] = ("birth", "state", "death")
IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
BASE = [
    "broker",
    "config",
    "--port",
    "1883",
    "--orchestrator",
    "orch:o-secret",
    "--run-as",
    getpass.getuser(),
]
"""Run as ourselves: these tests read what is written; tests/security/test_broker_user.py covers who may."""


def test_hash_has_mosquitto_2_layout_and_verifies() -> None:
    line = password_line("d1", "s3cret")
    user, _, hashed = line.partition(":")
    _, scheme, iterations, _salt, _digest = hashed.split("$")
    assert (user, scheme, iterations) == ("d1", "7", "101")
    entry = parse_password_line(line)
    assert (len(entry.salt), len(entry.digest)) == (12, 64)
    assert verify_password(line, "s3cret")
    assert not verify_password(line, "s3cret ")


def test_hash_of_mosquitto_passwd_verifies_with_ours(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "alice", "wonder land"], check=True)
    assert verify_password(path.read_text().strip(), "wonder land")
    assert not verify_password(path.read_text().strip(), "wonderland")


def test_fresh_salt_for_every_hash() -> None:
    assert hash_password("same") != hash_password("same")


def test_empty_secret_refused() -> None:
    with pytest.raises(ValueError, match="empty secret"):
        hash_password("")


@pytest.mark.parametrize(
    "device",
    ["a/b:s", "a+b:s", "a#:s", "a\x00b:s", "x" * 129 + ":s", "a b:s", ":s", "-lead:s"],
    ids=["slash", "plus", "hash", "nul", "long", "space", "empty", "leading-dash"],
)
def test_hostile_device_id_exits_2_and_writes_nothing(
    tmp_path: Path, device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli_main([*BASE, "--out", str(out), f"--device={device}"]) == 2
    assert "device id" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--device", "orch:x"], "unique"),
        (["--device", "d1:a", "--device", "d1:b"], "unique"),
        (["--device", "d1"], "ID:SECRET"),
        (["--device", "d1:"], "empty secret"),
        (["--fleet", "a/b"], "fleet"),
        (["--require-client-cert"], "--tls-dir"),
        (["--tls-dir", "/nonexistent"], "ca.crt"),
        (["--max-packet-bytes", "10"], "1 KiB"),
        (["--orchestrator-port", "1883"], "must differ"),
        (["--orchestrator-port", "70000"], "outside"),
    ],
)
def test_bad_configuration_exits_2_saying_why(
    tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main([*BASE, "--out", str(tmp_path / "out"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_missing_orchestrator_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["broker", "config", "--out", str(tmp_path), "--port", "1883", "--device", "d1:s"]
    assert cli_main(argv) == 2
    assert "--orchestrator" in capsys.readouterr().err


def test_written_files_hash_every_account_and_hide_the_password_file(tmp_path: Path) -> None:
    devices_file = tmp_path / "devices.txt"
    devices_file.write_text("# fleet accounts\nd2:two\n\nd3:three\n")
    argv = [*BASE, "--out", str(tmp_path / "o"), "--device", "d1:one", "--devices-file", str(devices_file)]
    assert cli_main(argv) == 0
    lines = (tmp_path / "o" / "passwd").read_text().splitlines()
    secrets = {"d1": "one", "d2": "two", "d3": "three", "orch": "o-secret"}
    assert {line.split(":")[0] for line in lines} == set(secrets)
    assert all(verify_password(line, secrets[line.split(":")[0]]) for line in lines)
    assert stat.S_IMODE((tmp_path / "o" / "passwd").stat().st_mode) == 0o600
    conf = (tmp_path / "o" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert "one" not in conf + (tmp_path / "o" / "acl").read_text()


@given(a=IDS, b=IDS, kind=st.sampled_from(["birth", "state", "death", "cmd"]))
def test_no_device_may_write_or_read_for_another(a: str, b: str, kind: str) -> None:
    model = AclModel("f1", ("orch",))
    if a == b or "orch" in (a, b):
        return
    topic = device_topic("f1", b, kind)  # type: ignore[arg-type]
    assert not model.allows(a, topic, "write")
    assert not model.allows(a, topic, "read")


@given(device=IDS)
def test_device_writes_only_its_telemetry_and_reads_only_its_commands(device: str) -> None:
    model = AclModel("f1", ("orch",))
    if device == "orch":
        return
    for kind in DEVICE_PUBLISHES:
        assert model.allows(device, device_topic("f1", device, kind), "write")
    assert not model.allows(device, device_topic("f1", device, "cmd"), "write")
    assert model.allows(device, device_topic("f1", device, "cmd"), "read")
    assert model.allows(device, orchestrator_topic("f1"), "read")
    assert not model.allows(device, orchestrator_topic("f1"), "write")
    assert not model.allows(device, device_topic("other-fleet", device, "state"), "write")
    assert model.allows("orch", device_topic("f1", device, "state"), "read")
    assert model.allows("orch", device_topic("f1", device, "cmd"), "write")
    assert not model.allows("orch", device_topic("f1", device, "state"), "write")
    assert not model.allows(None, device_topic("f1", device, "state"), "read")


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root run hands files to the mosquitto user")
def test_started_as_root_mosquitto_gets_the_files_it_reads_after_dropping_privileges(
    open_folder: Path,
) -> None:
    try:
        entry = pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no mosquitto user on this machine")
    argv = [*BASE[:-2], "--out", str(open_folder / "o"), "--device", "d1:one"]
    assert cli_main(argv) == 0
    for name in ("passwd", "acl", "data"):
        assert (open_folder / "o" / name).stat().st_uid == entry.pw_uid, name
    assert stat.S_IMODE((open_folder / "o" / "passwd").stat().st_mode) == 0o600


def test_orchestrator_listener_is_separate_loopback_and_keeps_client_ids(tmp_path: Path) -> None:
    argv = [*BASE, "--out", str(tmp_path / "o"), "--device", "d1:one", "--orchestrator-port", "1884"]
    assert cli_main(argv) == 0
    conf = (tmp_path / "o" / "mosquitto.conf").read_text()
    device_part, orchestrator_part = conf.split("listener 1884 127.0.0.1")
    assert "listener 1883" in device_part
    assert "use_username_as_clientid true" in device_part
    assert "use_username_as_clientid" not in orchestrator_part
