"""The lock: one uv.lock holds every Python dependency, a device's extra stays light and installs from it on
aarch64 as well as x86_64, and a dependency changed without `make lock` is refused with what to run.

Everything here is offline: it reads uv.lock (its documented TOML: each package's wheel file names) and
what the pinned uv exports from it. scripts/check-agent-wheels.sh makes the same platform check online,
as `pip install --dry-run` for the other platform against PyPI.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"
HEAVY = {"ray", "kubernetes", "textual"}
DEVICE_PYTHONS = ((3, 11), (3, 12), (3, 13))
GLIBC_MINOR = 35
"""Oldest glibc a supported device runs: Jetson JetPack 6 (Ubuntu 22.04) has 2.35, Raspberry Pi OS 12 2.36."""


@dataclass(frozen=True)
class Platform:
    machine: str
    python: tuple[int, int]

    def tags(self) -> set[Tag]:
        platforms = [f"manylinux_2_{minor}_{self.machine}" for minor in range(GLIBC_MINOR, 16, -1)]
        platforms += [f"manylinux2014_{self.machine}", f"linux_{self.machine}"]
        return set(cpython_tags(self.python, platforms=platforms)) | set(
            compatible_tags(self.python, f"cp{self.python[0]}{self.python[1]}", platforms=platforms)
        )

    def environment(self) -> dict[str, str]:
        version = f"{self.python[0]}.{self.python[1]}"
        return {
            "python_version": version,
            "python_full_version": f"{version}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": self.machine,
            "os_name": "posix",
        }


DEVICES = [Platform(machine, python) for machine in ("aarch64", "x86_64") for python in DEVICE_PYTHONS]


def _uv() -> Path:
    if not UV.exists():
        pytest.fail(f"{UV} is missing: the set-up (scripts/setup.sh, run by make test) installs it")
    return UV


def _export(extra: str) -> list[Requirement]:
    """The extra's locked closure, as the pinned uv exports it (names, exact versions, markers)."""
    text = subprocess.run(
        [str(_uv()), "export", "--frozen", "--offline", "--quiet", "--no-header", "--no-hashes",
         "--no-annotate", "--format", "requirements-txt", "--extra", extra, "--no-emit-project"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return [Requirement(line) for line in text.splitlines() if line and not line.startswith(("#", " "))]


def _names(extra: str) -> set[str]:
    return {canonicalize_name(req.name) for req in _export(extra)}


def _locked_wheels() -> dict[tuple[str, str], list[str]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {
        (canonicalize_name(p["name"]), p["version"]): [
            w["url"].rsplit("/", 1)[-1] for w in p.get("wheels", [])
        ]
        for p in lock["package"]
    }


def _pinned_version(req: Requirement) -> str:
    (spec,) = req.specifier
    assert spec.operator == "==", f"{req} is not pinned"
    return spec.version


def test_agent_extra_pulls_no_ray_kubernetes_or_textual() -> None:
    names = _names("agent")
    assert {"paho-mqtt", "onnxruntime", "grpcio", "protobuf"} <= names
    assert not names & HEAVY, f"the agent extra would install {sorted(names & HEAVY)}"


def test_orchestrator_extra_does_pull_ray() -> None:
    # The check above only means something if the lock shows heavy packages where they belong.
    assert "ray" in _names("orchestrator")


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: f"{d.machine}-cp{d.python[0]}{d.python[1]}")
def test_every_locked_agent_dependency_has_a_wheel_for_the_device(device: Platform) -> None:
    wheels = _locked_wheels()
    tags = device.tags()
    missing = []
    for req in _export("agent"):
        if req.marker is not None and not req.marker.evaluate(device.environment()):
            continue
        files = wheels[(canonicalize_name(req.name), _pinned_version(req))]
        if not any(parse_wheel_filename(name)[3] & tags for name in files):
            missing.append(f"{req.name}=={_pinned_version(req)}")
    assert not missing, f"no wheel in uv.lock for linux {device.machine} CPython {device.python}: {missing}"


def test_the_device_requirements_file_is_the_lock_export() -> None:
    exported = subprocess.run(
        [str(ROOT / "scripts" / "export-agent-lock.sh"), "-"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    committed = (ROOT / "deploy" / "agent" / "requirements.txt").read_text()
    assert exported == committed, (
        "deploy/agent/requirements.txt lags uv.lock: run 'make lock KEEP=1', commit it"
    )
    assert "--hash=sha256:" in exported


def test_device_platform_check_can_fail() -> None:
    # A platform nobody ships onnxruntime wheels for must be refused, or the test above proves nothing.
    onnxruntime = next(r for r in _export("agent") if r.name == "onnxruntime")
    files = _locked_wheels()[("onnxruntime", _pinned_version(onnxruntime))]
    riscv = Platform("riscv64", (3, 11)).tags()
    assert not any(parse_wheel_filename(name)[3] & riscv for name in files)


def _project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "clone"
    (copy / "scripts").mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy2(ROOT / name, copy / name)
    shutil.copy2(ROOT / "scripts" / "check-lock.sh", copy / "scripts" / "check-lock.sh")
    (copy / ".tools" / "bin").mkdir(parents=True)
    (copy / ".tools" / "bin" / "uv").symlink_to(_uv())
    return copy


def _check_lock(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(project / "scripts" / "check-lock.sh")],
        cwd=project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_dependency_changed_without_make_lock_is_refused_with_what_to_run(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    assert _check_lock(project).returncode == 0, "the committed lock must agree with pyproject.toml"
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"psutil>=5.9,<8"', '"psutil>=5.9,<8",\n  "rich>=13"'))
    result = _check_lock(project)
    assert result.returncode == 1
    assert "run 'make lock'" in result.stderr


def test_dependency_markers_evaluate_for_a_device() -> None:
    # numpy is locked twice (one version per Python range); a device gets exactly one of them.
    numpys = [r for r in _export("agent") if r.name == "numpy"]
    for device in DEVICES:
        chosen = [
            r for r in numpys if r.marker is None or Marker(str(r.marker)).evaluate(device.environment())
        ]
        assert len(chosen) == 1, (device, chosen)
