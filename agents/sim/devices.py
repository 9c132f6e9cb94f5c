"""What a simulated device reports: a birth from its device class, telemetry from its network trace.

The link estimate goes through the real `BandwidthEstimator`, exactly as on a device; only the samples
come from a trace instead of real transfers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from agents.device_classes import DeviceClass
from agents.probes.estimators import BandwidthEstimator, RttEstimator
from agents.sim.traces import Trace
from protos.v1 import control_pb2 as pb

__all__ = ["SimBirth", "SimLink", "TraceTelemetry"]

# Rough hardware of each class, for the birth certificate (cores, memory GiB, architecture).
_HARDWARE: dict[str, tuple[int, int, str]] = {
    "rpi4": (4, 4, "aarch64"),
    "rpi4-noneon": (4, 4, "aarch64"),
    "jetson-cpu": (6, 8, "aarch64"),
    "jetson-gpu": (6, 8, "aarch64"),
    "laptop": (8, 16, "x86_64"),
    "x86": (16, 64, "x86_64"),
    "server-gpu": (32, 256, "x86_64"),
}


@dataclass(frozen=True, slots=True)
class SimBirth:
    """Capabilities of a simulated device of class `device_class`."""

    device_class: DeviceClass

    def capabilities(self) -> pb.Capabilities:
        """What the class can do (marked as simulated in `os`)."""
        cores, memory_gib, arch = _HARDWARE.get(self.device_class.name, (4, 4, "aarch64"))
        providers = ["CPUExecutionProvider"]
        if any(a.startswith("nvidia") for a in self.device_class.accelerators):
            providers.insert(0, "CUDAExecutionProvider")
        return pb.Capabilities(
            arch=arch,
            cpu_count=cores,
            memory_bytes=memory_gib << 30,
            os="Linux (simulated)",
            accelerators=list(self.device_class.accelerators),
            execution_providers=providers,
            power=pb.Power(has_battery=False, on_ac=True),
            device_class=self.device_class.name,
            speed_factor=self.device_class.speed_factor,
        )

    def models(self) -> list[pb.ModelInfo]:
        """Simulated devices hold no model files."""
        return []


@dataclass
class SimLink:
    """One simulated path: bandwidth = trace x `scale` (capped), RTT = base + jitter."""

    target: str
    base_rtt_ms: float
    scale: float = 1.0
    cap_mbps: float = float("inf")

    def __post_init__(self) -> None:
        self.uplink = BandwidthEstimator()
        self.downlink = BandwidthEstimator()
        self.rtt = RttEstimator()


class TraceTelemetry:
    """Telemetry of one simulated device, sampling its trace at (now + phase)."""

    def __init__(self, trace: Trace, phase_s: float, seed: int, link_type: str = "cellular") -> None:
        self.trace = trace
        self.phase_s = phase_s
        self.link_type = link_type
        self._rng = random.Random(seed)
        self.links = [SimLink("edge", 8.0), SimLink("cloud", 45.0, cap_mbps=50.0)]
        self.cpu_base = self._rng.uniform(5.0, 40.0)

    def fill(self, telemetry: pb.Telemetry, now_s: float) -> None:
        """Sample the trace, feed the estimators, and report their estimates."""
        mbps = self.trace.mbps_at(now_s + self.phase_s)
        jitter = self._rng.random()
        for link in self.links:
            sample = min(mbps * link.scale, link.cap_mbps)
            link.uplink.observe(sample, now_s)
            link.downlink.observe(sample, now_s)
            link.rtt.observe(link.base_rtt_ms * (1.0 + 0.2 * jitter) + 12.0 / max(sample, 0.05))
            telemetry.links.append(
                pb.LinkEstimate(
                    target=link.target,
                    rtt_ms=link.rtt.estimate,
                    uplink_mbps=link.uplink.estimate,
                    downlink_mbps=link.downlink.estimate,
                    loss=0.0 if sample > 0 else 1.0,
                    link_type=self.link_type,
                    changed=link.uplink.changed,
                )
            )
        telemetry.cpu_percent = self.cpu_base + 10.0 * jitter
        telemetry.memory_percent = 35.0
        telemetry.on_ac = True
