"""Network probes: RTT by TCP connect to each target, loss, passive bandwidth from real transfers, and
the link type from /sys/class/net. The smoothing and change detection are the pure estimators.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agents.probes.estimators import BandwidthEstimator, LossEstimator, RttEstimator
from protos.v1 import control_pb2 as pb

__all__ = ["LinkMonitor", "TargetLink", "default_interface", "link_type", "parse_target", "tcp_ping"]

Direction = Literal["up", "down"]


def parse_target(address: str) -> tuple[str, int]:
    """ "host:port" (or "[v6]:port") into its parts; ValueError says what is wrong."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"probe target {address!r} must be host:port")
    return host.strip("[]"), int(port)


async def tcp_ping(host: str, port: int, timeout_s: float) -> float | None:
    """Milliseconds to complete a TCP handshake with host:port, or None when it fails or times out."""
    start = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return None
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return elapsed_ms


def default_interface(route: Path = Path("/proc/net/route")) -> str | None:
    """The interface of the IPv4 default route, if any."""
    try:
        lines = route.read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) > 2 and parts[1] == "00000000":
            return parts[0]
    return None


def link_type(interface: str | None, sys_net: Path = Path("/sys/class/net")) -> str:
    """ "wifi", "cellular", "ethernet" or "unknown" for an interface, from sysfs."""
    if not interface:
        return "unknown"
    base = sys_net / interface
    uevent = ""
    with contextlib.suppress(OSError):
        uevent = (base / "uevent").read_text()
    if (base / "wireless").exists() or (base / "phy80211").exists() or "DEVTYPE=wlan" in uevent:
        return "wifi"
    if "DEVTYPE=wwan" in uevent or interface.startswith(("wwan", "rmnet", "ppp", "usb", "ccmni")):
        return "cellular"
    with contextlib.suppress(OSError):
        if (base / "type").read_text().strip() == "1" and (base / "device").exists():
            return "ethernet"
    if interface.startswith(("eth", "en")):
        return "ethernet"
    return "unknown"


@dataclass
class TargetLink:
    """Estimators of one path (device -> target)."""

    name: str
    rtt: RttEstimator = field(default_factory=RttEstimator)
    loss: LossEstimator = field(default_factory=LossEstimator)
    uplink: BandwidthEstimator = field(default_factory=BandwidthEstimator)
    downlink: BandwidthEstimator = field(default_factory=BandwidthEstimator)
    changed_since_report: bool = False
    last_passive_s: dict[Direction, float] = field(
        default_factory=lambda: {"up": float("-inf"), "down": float("-inf")}
    )
    """Time of the latest PASSIVE sample per direction (the active probe runs only on idle links)."""

    def observe_bandwidth(self, direction: Direction, mbps: float, now_s: float) -> None:
        """One throughput sample in one direction."""
        estimator = self.uplink if direction == "up" else self.downlink
        estimator.observe(mbps, now_s)
        self.changed_since_report = self.changed_since_report or estimator.changed

    def to_estimate(self, kind: str) -> pb.LinkEstimate:
        """The estimate for telemetry; resets the change flag (it reports "changed in this interval")."""
        estimate = pb.LinkEstimate(
            target=self.name,
            rtt_ms=self.rtt.estimate,
            uplink_mbps=self.uplink.estimate,
            downlink_mbps=self.downlink.estimate,
            loss=self.loss.estimate,
            link_type=kind,
            changed=self.changed_since_report,
        )
        self.changed_since_report = False
        return estimate


class LinkMonitor:
    """Probes every target (TCP connect RTT, loss) and takes passive bandwidth samples from transfers."""

    def __init__(self, targets: Mapping[str, str], timeout_s: float = 2.0) -> None:
        self.targets = {name: parse_target(address) for name, address in targets.items()}
        self.timeout_s = timeout_s
        self.links = {name: TargetLink(name) for name in targets}

    def ensure(self, target: str) -> TargetLink:
        """The link of `target`, created (without TCP probing) if it is not a configured probe target."""
        link = self.links.get(target)
        if link is None:
            link = self.links[target] = TargetLink(target)
        return link

    def observe_transfer(
        self, target: str, nbytes: int, seconds: float, direction: Direction, now_s: float
    ) -> None:
        """A real transfer of `nbytes` to/from `target` that took `seconds` (e.g. one inference hop, or one
        in-flight window of it, `agents.probes.inflight`)."""
        link = self.links.get(target)
        if link is None or seconds <= 0:
            return
        link.observe_bandwidth(direction, nbytes * 8 / seconds / 1e6, now_s)
        link.last_passive_s[direction] = max(link.last_passive_s[direction], now_s)

    async def probe(self) -> None:
        """One RTT probe to every target, concurrently."""

        async def one(name: str, host: str, port: int) -> None:
            rtt = await tcp_ping(host, port, self.timeout_s)
            link = self.links[name]
            link.loss.observe(rtt is not None)
            if rtt is not None:
                link.rtt.observe(rtt)

        await asyncio.gather(*(one(name, h, p) for name, (h, p) in self.targets.items()))

    def fill(self, telemetry: pb.Telemetry, kind: str) -> None:
        """Append one LinkEstimate per target."""
        for link in self.links.values():
            telemetry.links.append(link.to_estimate(kind))
