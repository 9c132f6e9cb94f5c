"""What `continuum broker config` prints works as printed: the broker, started with the command it prints,
serves authenticated clients, whether the configuration was written by root (and Mosquitto drops to its
own user before reading the password file) or by a normal user; a folder that user cannot enter is
refused up front with the command that fixes it.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from continuum_cli.main import main as cli_main
from tests.security.broker import CONNECTION_REFUSED, ConfiguredBroker, mqtt_pub
from tests.support.ports import free_port

pytestmark = pytest.mark.contract

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as on most gateways and in containers")
TOPIC = "continuum/v1/f1/d1/state"


def _argv(out: Path, port: int, *extra: str) -> list[str]:
    return [
        "broker", "config", "--out", str(out), "--port", str(port), "--bind", "127.0.0.1", "--fleet", "f1",
        "--device", "d1:secret-1", "--orchestrator", "orch:secret-o", *extra,
    ]  # fmt: skip


def _serves_its_accounts(broker: ConfiguredBroker) -> None:
    broker.start()
    try:
        ok = mqtt_pub(broker.port, TOPIC, "x", user="d1", password="secret-1", client_id="d1")
        assert ok.returncode == 0, ok.stderr + (broker.conf.parent / "mosquitto.log").read_text()
        wrong = mqtt_pub(broker.port, TOPIC, "x", user="d1", password="nope", client_id="d1")
        assert wrong.returncode == CONNECTION_REFUSED
    finally:
        broker.stop()


def _printed_start_command(output: str) -> list[str]:
    match = re.search(r"start it with: (mosquitto -c \S+)", output)
    assert match, output
    return match.group(1).split()


@ROOT_ONLY
def test_written_by_root_the_printed_command_starts_a_broker_that_serves_clients(
    open_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed")
    try:
        pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no mosquitto user (the Debian package creates it)")
    port = free_port()
    assert cli_main(_argv(open_folder / "broker", port)) == 0
    _, _, conf = _printed_start_command(capsys.readouterr().out)
    broker = ConfiguredBroker(Path(conf), port)
    broker.start()
    try:
        assert broker.process is not None
        owner = subprocess.run(
            ["ps", "-o", "user=", "-p", str(broker.process.pid)], capture_output=True, text=True, check=True
        )
        assert owner.stdout.strip() == "mosquitto", "the broker should have dropped root"
    finally:
        broker.stop()
    _serves_its_accounts(broker)


@ROOT_ONLY
def test_a_folder_the_broker_user_cannot_enter_is_refused_with_the_command_that_fixes_it(
    open_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = open_folder / "private"
    private.mkdir(mode=0o700)
    out = private / "broker"
    port = free_port()
    assert cli_main(_argv(out, port)) == 2
    err = capsys.readouterr().err
    assert f"cannot enter {private}" in err
    assert not out.exists(), "nothing is written when the broker could not read it"
    fix = re.search(r"let it through with: (chmod o\+x \S+)", err)
    assert fix, err
    subprocess.run(fix.group(1).split(), check=True)
    assert cli_main(_argv(out, port)) == 0
    _serves_its_accounts(ConfiguredBroker(out / "mosquitto.conf", port))


@ROOT_ONLY
def test_run_as_a_user_that_does_not_exist_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "broker"
    assert cli_main(_argv(out, free_port(), "--run-as", "no-such-user-here")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


_WRITE_AS = """
import os, sys
import orchestrator.security, orchestrator.security.broker_user
from continuum_cli.main import build_parser
# Parse and import everything while still root: this interpreter and its venv may sit where nobody cannot
# read. Then become the normal user and run the command itself.
args = build_parser().parse_args(sys.argv[3:])
os.setgroups([]); os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[1]))
sys.exit(args.handler(args))
"""


def test_written_by_a_normal_user_the_broker_that_user_starts_serves_clients(
    open_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    out = open_folder / "broker"
    if os.geteuid() != 0:
        assert cli_main(_argv(out, port)) == 0
        _serves_its_accounts(ConfiguredBroker(out / "mosquitto.conf", port))
        return
    # As root, become a normal user (nobody) for both steps: the CLI in a child process that drops root
    # before it runs, and the broker started as that user, which then never switches user.
    nobody = pwd.getpwnam("nobody")
    out.mkdir()
    os.chown(out, nobody.pw_uid, nobody.pw_gid)
    result = subprocess.run(
        [sys.executable, "-c", _WRITE_AS, str(nobody.pw_uid), str(nobody.pw_gid), *_argv(out, port)],
        capture_output=True, text=True, timeout=60, check=False, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (out / "passwd").stat().st_uid == nobody.pw_uid
    (out / "mosquitto.log").touch()
    os.chown(out / "mosquitto.log", nobody.pw_uid, nobody.pw_gid)
    _serves_its_accounts(ConfiguredBroker(out / "mosquitto.conf", port, user="nobody"))
