"""`continuum agent install|uninstall|status`: the agent as a hardened systemd service.

Writes `/etc/systemd/system/continuum-agent.service` (Type=notify, watchdog, DynamicUser, StateDirectory,
ProtectSystem=strict and the rest of the sandbox) and `/etc/continuum/agent.toml` (mode 0600, handed to
the service with LoadCredential so the dynamic user can read it and nobody else can). `--root DIR` writes
under DIR (packaging, tests); systemd is only told (daemon-reload, enable --now) when writing to the real
root of a machine where systemd runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from agents.settings import AgentSettings

__all__ = ["CONFIG_PATH", "UNIT_NAME", "InstallError", "install", "render_config", "render_unit", "status"]

UNIT_NAME = "continuum-agent.service"
UNIT_PATH = Path("etc/systemd/system") / UNIT_NAME
CONFIG_PATH = Path("etc/continuum/agent.toml")
STATE_DIR = Path("/var/lib/continuum-agent")

_UNIT = """\
# Written by `continuum agent install`; `continuum agent uninstall` removes it.
[Unit]
Description=Continuum device agent (capabilities and network state over MQTT)
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start} agent run --config ${{CREDENTIALS_DIRECTORY}}/agent.toml --state-dir {state_dir}
LoadCredential=agent.toml:/{config_path}
Restart=on-failure
RestartSec=5
WatchdogSec=30
TimeoutStopSec=20
DynamicUser=yes
StateDirectory=continuum-agent
StateDirectoryMode=0700
UMask=0077
{device_lines}
ProtectSystem=strict
ProtectHome={protect_home}
PrivateTmp=yes
PrivateUsers=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
KeyringMode=private
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
MemoryMax=512M
TasksMax=64

[Install]
WantedBy=multi-user.target
"""


class InstallError(Exception):
    """Installing or removing the service failed; the message says what to do."""


def _executable() -> str:
    script = Path(sys.executable).parent / "continuum"
    if script.is_file():
        return str(script)
    return f"{sys.executable} -m continuum_cli.main"


def render_unit(executable: str | None = None, gpus: list[str] | None = None) -> str:
    """The unit file text. NVIDIA device nodes (`gpus`) stay reachable; every other device is hidden."""
    exec_start = executable or _executable()
    if gpus:
        allowed = ["/dev/nvidiactl", "/dev/nvidia-uvm", *gpus]
        device_lines = "PrivateDevices=no\nDevicePolicy=closed\n" + "\n".join(
            f"DeviceAllow={d} rw" for d in allowed
        )
    else:
        device_lines = "PrivateDevices=yes\nDevicePolicy=closed"
    home = exec_start.startswith(("/home/", "/root/"))
    return _UNIT.format(
        exec_start=exec_start,
        state_dir=STATE_DIR,
        config_path=CONFIG_PATH,
        device_lines=device_lines,
        protect_home="read-only" if home else "yes",
    )


def render_config(settings: AgentSettings) -> str:
    """The settings as a TOML file (None values left out; secrets written in clear: the file is 0600)."""
    data = settings.model_dump(mode="python", exclude_none=True)
    data["state_dir"] = str(STATE_DIR)
    password = settings.broker.password
    if password is not None:
        data["broker"]["password"] = password.get_secret_value()
    header = "# Continuum agent settings; see docs/agent.md. CONTINUUM_* environment variables override.\n"
    return header + _toml(data)


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    scalars = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = "\n".join(scalars) + ("\n" if scalars else "")
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            out += f"\n[{name}]\n" + _toml(value, f"{name}.")
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _systemd_running(root: Path) -> bool:
    return (
        root == Path("/") and Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None
    )


def install(root: Path, config: Path | None, *, dry_run: bool = False) -> list[Path]:
    """Write the unit and the config under `root`; enable and start the service when systemd runs."""
    from agents.settings import load_settings

    settings = load_settings(config)
    gpus = sorted(str(p) for p in Path("/dev").glob("nvidia[0-9]*"))
    unit_text = render_unit(gpus=gpus)
    config_text = render_config(settings)
    unit_path, config_path = root / UNIT_PATH, root / CONFIG_PATH
    if dry_run:
        print(
            f"# would write {unit_path}\n{unit_text}\n# would write {config_path} (mode 0600)\n{config_text}"
        )
        return []
    try:
        unit_path.parent.mkdir(parents=True, exist_ok=True)
        unit_path.write_text(unit_text)
        unit_path.chmod(0o644)
        config_path.parent.mkdir(parents=True, exist_ok=True)
        if config is not None or not config_path.exists():
            fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(config_text)
    except OSError as exc:
        raise InstallError(f"cannot write under {root}: {exc}; run as root or pass --root DIR") from exc
    print(f"wrote {unit_path}\nwrote {config_path}")
    if _systemd_running(root):
        _systemctl("daemon-reload")
        _systemctl("enable", "--now", UNIT_NAME)
        print(f"enabled and started {UNIT_NAME}")
    else:
        print("systemd is not running here (or --root is set): not enabling the service")
    return [unit_path, config_path]


def uninstall(root: Path, *, dry_run: bool = False) -> None:
    """Stop and disable the service, remove the unit; the config and state are kept."""
    unit_path = root / UNIT_PATH
    if dry_run:
        print(f"would stop {UNIT_NAME} and remove {unit_path}")
        return
    if _systemd_running(root):
        _systemctl("disable", "--now", UNIT_NAME, check=False)
    if unit_path.exists():
        unit_path.unlink()
        print(f"removed {unit_path} (kept {root / CONFIG_PATH} and the state directory)")
    else:
        print(f"{unit_path} is not installed")
    if _systemd_running(root):
        _systemctl("daemon-reload")


def status(root: Path, settings: AgentSettings) -> int:
    """Print whether the unit is installed and running, and the agent's stored state; 0 if healthy."""
    from agents.buffer import TelemetryBuffer
    from agents.plans import PlanStore
    from agents.session.bdseq import FileBdSeq

    unit_path = root / UNIT_PATH
    print(f"unit       {unit_path} ({'installed' if unit_path.exists() else 'not installed'})")
    code = 0 if unit_path.exists() else 3
    if _systemd_running(root):
        result = subprocess.run(
            ["systemctl", "is-active", UNIT_NAME], capture_output=True, text=True, check=False
        )
        active = result.stdout.strip() or "unknown"
        print(f"service    {active}")
        code = 0 if active == "active" else 3
    state_dir = settings.state_dir
    print(f"state dir  {state_dir}")
    print(f"bdSeq      {FileBdSeq(state_dir / 'bdseq').current()}")
    plans = PlanStore(state_dir / "plans") if (state_dir / "plans").is_dir() else PlanStore(None)
    print(f"plans      {', '.join(plans.models()) or 'none'} (version {plans.version})")
    buffer_file = state_dir / "buffer.sqlite3"
    if buffer_file.exists():
        import time

        buffer = TelemetryBuffer(buffer_file, settings.buffer.max_messages, settings.buffer.ttl_s, time.time)
        counters = buffer.counters(settings.identity.device_id)
        buffer.close()
        print(
            f"buffer     {counters.pending} pending, {counters.replayed} replayed, "
            f"{counters.dropped} dropped (full), {counters.expired} expired"
        )
    return code


def _systemctl(*args: str, check: bool = True) -> None:
    result = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise InstallError(f"systemctl {' '.join(args)} failed: {result.stderr.strip()}")
