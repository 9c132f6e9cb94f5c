"""`continuum agent probe`: run every probe once and print what it sees (text or JSON)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from google.protobuf.json_format import MessageToDict

from agents.device_classes import detect_device_class, device_class
from agents.probes.capabilities import HostBirth
from agents.probes.network import LinkMonitor, default_interface, link_type
from agents.probes.system import SystemSampler
from agents.session.bdseq import FileBdSeq
from agents.settings import AgentSettings
from agents.version import agent_version
from protos.v1 import control_pb2 as pb

__all__ = ["collect", "print_report"]


def collect(settings: AgentSettings) -> dict[str, Any]:
    """Probe the host and the configured targets once; a JSON-ready dict."""
    identity = settings.identity
    klass = device_class(identity.device_class) if identity.device_class else detect_device_class()
    birth = HostBirth(settings.state_dir, device_class=klass, speed_factor=identity.speed_factor)
    sampler = SystemSampler()
    links = LinkMonitor(settings.probes.targets, settings.probes.timeout_s)
    interface = default_interface()
    kind = link_type(interface)

    async def probe() -> None:
        await asyncio.sleep(0.2)  # a CPU sample needs an interval
        if links.targets:
            await links.probe()

    asyncio.run(probe())
    telemetry = pb.Telemetry()
    sampler.fill(telemetry)
    links.fill(telemetry, kind)
    return {
        "agent_version": agent_version(),
        "bd_seq": FileBdSeq(settings.state_dir / "bdseq").current(),
        "capabilities": MessageToDict(birth.capabilities(), preserving_proto_field_name=True),
        "models": [MessageToDict(m, preserving_proto_field_name=True) for m in birth.models()],
        "network": {"interface": interface, "link_type": kind},
        "telemetry": MessageToDict(
            telemetry, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        ),
    }


def print_report(settings: AgentSettings, as_json: bool = False) -> None:
    """Print the probe results."""
    report = collect(settings)
    if as_json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return
    caps = report["capabilities"]
    tel = report["telemetry"]
    power = caps.get("power", {})
    lines = [
        f"agent          {report['agent_version']} (bdSeq {report['bd_seq']})",
        f"device class   {caps.get('device_class', '?')} (speed factor {caps.get('speed_factor', 0):g})",
        f"arch / cores   {caps.get('arch', '?')} / {caps.get('cpu_count', 0)}",
        f"memory         {int(caps.get('memory_bytes', 0)) / 2**30:.1f} GiB",
        f"os             {caps.get('os', '?')}",
        f"accelerators   {', '.join(caps.get('accelerators', [])) or 'none'}",
        f"onnx providers {', '.join(caps.get('execution_providers', [])) or 'none (onnxruntime missing)'}",
        f"power          battery {power.get('battery_percent', 0):g}% "
        f"(present: {power.get('has_battery', False)}), on AC: {power.get('on_ac', False)}",
        f"models         {', '.join(m['name'] for m in report['models']) or 'none'}",
        f"network        {report['network']['interface'] or 'no default route'} "
        f"({report['network']['link_type']})",
        f"load           cpu {tel['cpu_percent']:.1f}%, memory {tel['memory_percent']:.1f}%, "
        f"temperature {tel['temperature_c']:.1f} C",
    ]
    for link in tel.get("links", []):
        lines.append(
            f"link {link['target']:<9} rtt {link['rtt_ms']:.1f} ms, loss {link['loss']:.0%}, "
            f"{link['link_type']}"
        )
    print("\n".join(lines))
