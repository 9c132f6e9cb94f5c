"""What this device can do, for its birth: architecture, cores, memory, OS, accelerators, ONNX Runtime
execution providers, power, models present with their profile digests.

Every probe reads the OS (`/proc`, `/sys`, `/dev`) and degrades to "unknown" rather than failing; the
paths are parameters so tests can point them at a fake tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from agents.device_classes import DeviceClass, detect_device_class
from protos.v1 import control_pb2 as pb

__all__ = [
    "HostBirth",
    "PowerReading",
    "detect_accelerators",
    "memory_bytes",
    "models_present",
    "onnxruntime_providers",
    "os_description",
    "read_power",
]


def memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    """Total memory in bytes (MemTotal), 0 if unknown."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def os_description(os_release: Path = Path("/etc/os-release")) -> str:
    """ "Linux 6.1.0-18-amd64 (Debian GNU/Linux 12 (bookworm))" or as much of it as is known."""
    pretty = ""
    try:
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    base = f"{platform.system()} {platform.release()}".strip()
    return f"{base} ({pretty})" if pretty else base


def detect_accelerators(dev: Path = Path("/dev"), nvidia_smi: str | None = None) -> list[str]:
    """NVIDIA GPUs as "nvidia:<index>" from /dev/nvidiaN (or `nvidia-smi -L`); others where visible."""
    found: list[str] = []
    try:
        for entry in sorted(dev.glob("nvidia[0-9]*")):
            suffix = entry.name.removeprefix("nvidia")
            if suffix.isdigit():
                found.append(f"nvidia:{suffix}")
    except OSError:
        pass
    smi = nvidia_smi or shutil.which("nvidia-smi")
    if not found and smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
            found = [f"nvidia:{i}" for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]
        except (OSError, subprocess.SubprocessError):
            pass
    if (dev / "apex_0").exists():
        found.append("tpu:edgetpu")
    if (dev / "dri" / "renderD128").exists() and not found:
        found.append("gpu:dri")
    return found


def onnxruntime_providers(timeout_s: float = 60.0) -> list[str]:
    """ONNX Runtime execution providers, asked of onnxruntime in a child process.

    A child keeps the daemon's own memory small (importing onnxruntime costs tens of MB); empty when
    onnxruntime is not installed.
    """
    code = "import json, onnxruntime; print(json.dumps(onnxruntime.get_available_providers()))"
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s, check=False
        )
        providers = json.loads(result.stdout) if result.returncode == 0 else []
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    return [str(p) for p in providers]


@dataclass(frozen=True, slots=True)
class PowerReading:
    """Battery and mains state from /sys/class/power_supply."""

    has_battery: bool = False
    battery_percent: float = 0.0
    on_ac: bool = True


def read_power(root: Path = Path("/sys/class/power_supply")) -> PowerReading:
    """Battery level and AC state; a machine with no supplies listed is taken as mains powered."""
    has_battery, percent, on_ac, saw_mains = False, 0.0, False, False
    try:
        supplies = sorted(root.iterdir())
    except OSError:
        return PowerReading()
    for supply in supplies:
        kind = _read(supply / "type")
        if kind == "Battery" and _read(supply / "present", "1") == "1":
            has_battery = True
            try:
                percent = float(_read(supply / "capacity", "0"))
            except ValueError:
                percent = 0.0
        elif kind in ("Mains", "USB", "USB_C", "USB_PD"):
            saw_mains = True
            on_ac = on_ac or _read(supply / "online", "0") == "1"
    if not has_battery and not saw_mains:
        return PowerReading()
    return PowerReading(has_battery, percent, on_ac if saw_mains else not has_battery)


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return default


def models_present(models_dir: Path, profiles_dir: Path) -> list[pb.ModelInfo]:
    """`<name>.onnx` files in `models_dir`, each with the sha256 of `profiles_dir/<name>.json` (or "")."""
    infos: list[pb.ModelInfo] = []
    if not models_dir.is_dir():
        return infos
    for model in sorted(models_dir.glob("*.onnx")):
        profile = profiles_dir / f"{model.stem}.json"
        digest = hashlib.sha256(profile.read_bytes()).hexdigest() if profile.is_file() else ""
        infos.append(pb.ModelInfo(name=model.stem, profile_digest=digest))
    return infos


@dataclass
class HostBirth:
    """The birth source of a real device: probes the host once, re-reads power and models per birth."""

    state_dir: Path
    device_class: DeviceClass = field(default_factory=detect_device_class)
    speed_factor: float | None = None
    providers: list[str] | None = None

    def __post_init__(self) -> None:
        self._static = pb.Capabilities(
            arch=platform.machine(),
            cpu_count=os.cpu_count() or 0,
            memory_bytes=memory_bytes(),
            os=os_description(),
            accelerators=detect_accelerators(),
            execution_providers=self.providers if self.providers is not None else onnxruntime_providers(),
            device_class=self.device_class.name,
            speed_factor=self.speed_factor
            if self.speed_factor is not None
            else self.device_class.speed_factor,
        )

    def capabilities(self) -> pb.Capabilities:
        """Static capabilities plus the current power state."""
        caps = pb.Capabilities()
        caps.CopyFrom(self._static)
        power = read_power()
        caps.power.CopyFrom(
            pb.Power(has_battery=power.has_battery, battery_percent=power.battery_percent, on_ac=power.on_ac)
        )
        return caps

    def models(self) -> list[pb.ModelInfo]:
        """Models under `<state_dir>/models` with digests of `<state_dir>/profiles/<name>.json`."""
        return models_present(self.state_dir / "models", self.state_dir / "profiles")
