"""Host probes read from fake /proc, /sys and /dev trees."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agents.device_classes import DEVICE_CLASSES, detect_device_class
from agents.probes.capabilities import (
    detect_accelerators,
    memory_bytes,
    models_present,
    os_description,
    read_power,
)
from agents.probes.network import LinkMonitor, default_interface, link_type, parse_target, tcp_ping
from agents.probes.system import InferenceRecorder
from protos.v1 import control_pb2 as pb


def supply(root: Path, name: str, **files: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in files.items():
        (folder / key).write_text(value + "\n")


def test_battery_and_mains_are_read_from_power_supply(tmp_path: Path) -> None:
    supply(tmp_path, "BAT0", type="Battery", present="1", capacity="67")
    supply(tmp_path, "AC", type="Mains", online="0")
    power = read_power(tmp_path)
    assert power.has_battery
    assert power.battery_percent == 67.0
    assert not power.on_ac


def test_no_power_supplies_means_mains_powered(tmp_path: Path) -> None:
    power = read_power(tmp_path / "absent")
    assert not power.has_battery
    assert power.on_ac


def test_memory_comes_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       4000 kB\nMemFree: 1 kB\n")
    assert memory_bytes(meminfo) == 4000 * 1024
    assert memory_bytes(tmp_path / "none") == 0


def test_os_description_includes_the_distribution(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    assert "(Debian GNU/Linux 12 (bookworm))" in os_description(release)


def test_nvidia_device_nodes_become_accelerators(tmp_path: Path) -> None:
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).write_text("")
    assert detect_accelerators(tmp_path, nvidia_smi="/nonexistent") == ["nvidia:0", "nvidia:1"]


def test_models_are_listed_with_the_digest_of_their_profile(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "profiles").mkdir()
    (tmp_path / "models" / "resnet18.onnx").write_bytes(b"onnx")
    (tmp_path / "models" / "tiny.onnx").write_bytes(b"onnx")
    (tmp_path / "profiles" / "resnet18.json").write_text("{}")
    infos = {m.name: m.profile_digest for m in models_present(tmp_path / "models", tmp_path / "profiles")}
    assert infos["resnet18"] == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert infos["tiny"] == ""


@pytest.mark.parametrize(
    ("name", "files", "expected"),
    [
        ("wlan0", {"wireless": None, "uevent": "DEVTYPE=wlan"}, "wifi"),
        ("wwan0", {"uevent": "DEVTYPE=wwan"}, "cellular"),
        ("eth0", {"type": "1", "device": None, "uevent": ""}, "ethernet"),
        ("lo", {"type": "772", "uevent": ""}, "unknown"),
    ],
)
def test_link_type_comes_from_sysfs(
    tmp_path: Path, name: str, files: dict[str, str | None], expected: str
) -> None:
    folder = tmp_path / name
    folder.mkdir()
    for key, value in files.items():
        if value is None:
            (folder / key).mkdir()
        else:
            (folder / key).write_text(value)
    assert link_type(name, tmp_path) == expected


def test_default_interface_is_the_route_to_0_0_0_0(tmp_path: Path) -> None:
    route = tmp_path / "route"
    route.write_text("Iface\tDestination\tGateway\neth1\t0000A8C0\t00000000\nwlan0\t00000000\t0100A8C0\n")
    assert default_interface(route) == "wlan0"
    assert link_type(None) == "unknown"


def test_probe_targets_must_be_host_port() -> None:
    assert parse_target("edge.example:50051") == ("edge.example", 50051)
    assert parse_target("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError, match="host:port"):
        parse_target("edge.example")


async def test_tcp_ping_measures_a_real_listener_and_counts_a_closed_port_as_loss() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert (await tcp_ping("127.0.0.1", port, 2.0) or -1) >= 0
        monitor = LinkMonitor({"edge": f"127.0.0.1:{port}"}, timeout_s=2.0)
        await monitor.probe()
    finally:
        server.close()
        await server.wait_closed()
    await monitor.probe()  # now refused
    telemetry = pb.Telemetry()
    monitor.fill(telemetry, "ethernet")
    link = telemetry.links[0]
    assert link.target == "edge"
    assert link.loss == pytest.approx(0.5)
    assert link.rtt_ms > 0


def test_passive_transfers_feed_the_bandwidth_estimate_and_change_flag() -> None:
    monitor = LinkMonitor({"cloud": "127.0.0.1:9"})
    for second in range(10):
        monitor.observe_transfer("cloud", 1_250_000, 1.0, "up", float(second))  # 10 Mbps
    monitor.observe_transfer("cloud", 250_000, 1.0, "up", 10.0)  # 2 Mbps
    telemetry = pb.Telemetry()
    monitor.fill(telemetry, "wifi")
    assert telemetry.links[0].changed
    assert telemetry.links[0].uplink_mbps < 5.0
    again = pb.Telemetry()
    monitor.fill(again, "wifi")
    assert not again.links[0].changed  # reported once per interval


def test_inference_stats_are_reported_and_reset() -> None:
    recorder = InferenceRecorder()
    for latency in (10.0, 20.0, 30.0):
        recorder.record("resnet18", latency)
    recorder.record("resnet18", 0.0, error=True)
    recorder.record("resnet18", 50.0, fallback=True)
    telemetry = pb.Telemetry()
    recorder.fill(telemetry)
    stats = telemetry.inference["resnet18"]
    assert (stats.count, stats.errors, stats.fallbacks) == (5, 1, 1)
    assert stats.p50_ms == 20.0
    empty = pb.Telemetry()
    recorder.fill(empty)
    assert "resnet18" not in empty.inference


def test_device_class_detection_reads_the_device_tree(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_text("Raspberry Pi 4 Model B Rev 1.4\x00")
    assert detect_device_class(model).name == "rpi4"
    model.write_text("NVIDIA Jetson Xavier NX Developer Kit\x00")
    assert detect_device_class(model).name == "jetson-gpu"


def test_device_class_speed_factors_keep_the_measured_order() -> None:
    speed = {name: c.speed_factor for name, c in DEVICE_CLASSES.items()}
    assert speed["rpi4-noneon"] > speed["rpi4"] > speed["jetson-cpu"] > speed["laptop"] > speed["x86"]
    assert speed["jetson-gpu"] < speed["laptop"]


def test_a_finished_request_is_counted_and_its_device_transfer_becomes_an_uplink_sample() -> None:
    from dataclasses import dataclass

    from agents.probes.passive import observe_inference

    @dataclass(frozen=True)
    class Segment:
        tier: str
        transfer_ms: float
        bytes_out: int

    @dataclass(frozen=True)
    class Result:
        model: str
        outcome: str
        latency_ms: float
        segments: tuple[Segment, ...]

    monitor, recorder = LinkMonitor({}), InferenceRecorder()
    result = Result(
        "resnet18", "fallback", 42.0, (Segment("device", 100.0, 125_000), Segment("edge", 0.0, 4000))
    )
    observe_inference(result, monitor, recorder, 5.0)
    assert monitor.links["edge"].uplink.estimate == pytest.approx(10.0)  # 125 kB in 100 ms
    telemetry = pb.Telemetry()
    recorder.fill(telemetry)
    assert telemetry.inference["resnet18"].fallbacks == 1
    assert telemetry.inference["resnet18"].p50_ms == 42.0
