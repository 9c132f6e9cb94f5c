"""Device classes and their compute speed relative to the reference (an x86 server CPU).

`speed_factor` = device compute time / reference compute time (1.0 = as fast as the reference; 18 = 18x
slower). Computed once from the Framework-Tax latency tables (Fernandez et al., EMNLP'23,
`JaredFern/Framework-Tax`, `old_experiments/0903_vision/*.csv`): for every (model, image size) at batch 1
measured on both the device and `herron_cpu` (Intel Xeon server CPU, the reference), the ratio of the
fastest latencies; the factor is the geometric mean over 26-64 common configurations of 16 vision models
(alexnet, resnet18, mobilenet_v2, vgg16, vit32, ...). Nothing is read at run time.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEVICE_CLASSES", "DeviceClass", "detect_device_class", "device_class"]


@dataclass(frozen=True, slots=True)
class DeviceClass:
    """A kind of device: its name (as reported in births) and compute speed factor."""

    name: str
    speed_factor: float
    accelerators: tuple[str, ...] = ()
    description: str = ""


DEVICE_CLASSES: dict[str, DeviceClass] = {
    c.name: c
    for c in (
        # rpi4_neon_cpu.csv vs herron_cpu.csv: 64 configurations, geometric mean 18.43.
        DeviceClass("rpi4", 18.43, (), "Raspberry Pi 4, Cortex-A72, NEON-enabled PyTorch"),
        # rpi4_cpu.csv (a build without NEON kernels) vs herron_cpu.csv: 26 configurations, 101.34.
        DeviceClass("rpi4-noneon", 101.34, (), "Raspberry Pi 4 without NEON kernels"),
        # jetson_cpu.csv vs herron_cpu.csv: 64 configurations, 13.03.
        DeviceClass("jetson-cpu", 13.03, (), "NVIDIA Jetson, CPU only"),
        # jetson_gpu.csv vs herron_cpu.csv: 55 configurations, 1.26.
        DeviceClass("jetson-gpu", 1.26, ("nvidia:0",), "NVIDIA Jetson, on its GPU"),
        # laptop_cpu.csv vs herron_cpu.csv: 64 configurations, 2.25.
        DeviceClass("laptop", 2.25, (), "laptop Intel i7 CPU"),
        DeviceClass("x86", 1.0, (), "x86-64 server CPU (the reference)"),
        # herron_gpu.csv vs herron_cpu.csv: 64 configurations, 0.05.
        DeviceClass("server-gpu", 0.05, ("nvidia:0",), "server with an RTX-8000 GPU"),
    )
}


def device_class(name: str) -> DeviceClass:
    """Look a class up by name; the error lists the known ones."""
    try:
        return DEVICE_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown device class {name!r}; known: {', '.join(DEVICE_CLASSES)}") from None


def detect_device_class(model_file: Path = Path("/proc/device-tree/model")) -> DeviceClass:
    """Best guess for the machine we run on, from the device-tree model string and the architecture."""
    try:
        model = model_file.read_text(errors="replace").lower()
    except OSError:
        model = ""
    if "raspberry pi 4" in model:
        return DEVICE_CLASSES["rpi4"]
    if "jetson" in model:
        return DEVICE_CLASSES["jetson-gpu"]
    if platform.machine() in ("x86_64", "AMD64"):
        return DEVICE_CLASSES["x86"]
    return DeviceClass(platform.machine() or "unknown", 1.0, (), "unclassified; speed factor unmeasured")
