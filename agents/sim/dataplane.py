"""Split inference on a few simulated devices, following the plans they received over MQTT.

`FleetInference` picks `count` devices of a running `SimulatedFleet` (spread over the fleet, so over its
device classes), gives each one model (round-robin) and runs a real `request_loop` against the data
plane's gateways. Before every request the device reads the plan it holds (`session.plans`, filled by
PlanUpdates from the orchestrator), mapped onto the model's layer order and through `effective_tiers`;
with no plan yet it runs everything on the device. The EMULATED uplink follows the same trace (and phase)
as the device's telemetry, and the device is slowed by its class's speed factor, so what the orchestrator
plans for is what the device experiences. Every result goes to `on_result` (the data plane's metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from agents.dataplane import DeviceInference, InferenceResult, request_loop
from agents.dataplane.simulated import simulated_device
from agents.plans import effective_tiers
from agents.sim.fleet import SimulatedDevice, SimulatedFleet
from agents.sim.traces import Trace
from continuum_inference.runtime import example_inputs

__all__ = ["FleetInference", "InferringDevice", "pick_devices", "plan_tiers"]

log = logging.getLogger("continuum.agent.sim.inference")


def pick_devices(n_devices: int, count: int) -> list[int]:
    """Indices of `count` devices spread evenly over `n_devices` (so over the round-robin classes)."""
    count = max(0, min(count, n_devices))
    return sorted({(i * n_devices) // count for i in range(count)}) if count else []


def plan_tiers(
    layers: Sequence[str], plan_layers: Sequence[str], plan_tiers_: Sequence[str], reachable: Sequence[str]
) -> tuple[str, ...]:
    """The tier of each of `layers` under a held plan (given as parallel layers/tiers), with unreachable
    tiers walked down the fallback ladder. A plan that does not cover the model runs on the device."""
    by_layer = dict(zip(plan_layers, plan_tiers_, strict=False))
    if not by_layer or any(layer not in by_layer for layer in layers):
        return tuple("device" for _ in layers)
    return effective_tiers((by_layer[layer] for layer in layers), reachable)


def _follow(trace: Trace, origin_s: float) -> Callable[[float], float]:
    """Uplink rate `t` seconds after creation: the trace where the device's telemetry samples it."""

    def mbps(t: float) -> float:
        return trace.mbps_at(origin_s + t)

    return mbps


@dataclass
class InferringDevice:
    """One simulated device running requests for one model."""

    sim: SimulatedDevice
    inference: DeviceInference
    layers: list[str]
    reachable: tuple[str, ...]
    completed: int = 0

    def current_tiers(self) -> tuple[str, ...]:
        """The tiers of the plan this device holds for its model right now."""
        held = self.sim.session.plans.get(self.inference.model)
        if held is None:
            return tuple("device" for _ in self.layers)
        return plan_tiers(self.layers, held.layers, held.tiers, self.reachable)


@dataclass
class FleetInference:
    """Request loops on `count` devices of `fleet` against the gateways at `gateways` (tier -> host:port)."""

    fleet: SimulatedFleet
    gateways: Mapping[str, str]
    models: Sequence[str]
    count: int
    on_result: Callable[[InferenceResult], None]
    interval_s: float = 1.0
    deadline_s: float = 5.0
    devices: list[InferringDevice] = field(default_factory=list, init=False)
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter, init=False)
    """Requests by (model, placement, outcome), kept after stop() for a final summary."""
    _tasks: list[asyncio.Task[int]] = field(default_factory=list, init=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def start(self) -> None:
        """Build the devices (loading each model once) and start their request loops."""
        if not self.models:
            raise ValueError("FleetInference needs at least one model")
        loop = asyncio.get_running_loop()
        for n, index in enumerate(pick_devices(len(self.fleet.devices), self.count)):
            sim = self.fleet.devices[index]
            model = self.models[n % len(self.models)]
            trace, phase = sim.telemetry.trace, sim.telemetry.phase_s
            device = await asyncio.to_thread(
                simulated_device,
                model,
                self.gateways,
                _follow(trace, loop.time() + phase),
                sim.device_class.speed_factor,
                site=self.fleet.site,
            )
            layers = device.runner.cutter.graph.names()
            inferring = InferringDevice(sim, device, layers, tuple(self.gateways))
            self.devices.append(inferring)
            inputs = await asyncio.to_thread(example_inputs, device.runner.cutter.model)
            self._tasks.append(
                asyncio.create_task(self._run(inferring, inputs), name=f"infer-{sim.device_id}")
            )

    async def _run(self, device: InferringDevice, inputs: Mapping[str, np.ndarray]) -> int:
        def record(result: InferenceResult) -> None:
            device.completed += 1
            self.outcomes[(result.model, result.placement, result.outcome)] += 1
            self.on_result(result)

        return await request_loop(
            device.inference,
            device.current_tiers,
            inputs,
            on_result=record,
            interval_s=self.interval_s,
            deadline_s=self.deadline_s,
            stop=self._stop,
        )

    async def stop(self, timeout_s: float = 30.0) -> None:
        """Let every request in flight finish (none is `lost`), then close the gateway channels."""
        self._stop.set()
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
            for task in pending:  # only if a request hangs past the timeout: counted as lost
                task.cancel()
            for task in [*done, *pending]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._tasks.clear()
        for device in self.devices:
            await device.inference.close()
        self.devices.clear()

    def summary(self) -> str:
        """One line: requests by model, placement and outcome (e.g. for the demo's exit message)."""
        parts = [f"{m} {p} {o}: {n}" for (m, p, o), n in sorted(self.outcomes.items())]
        return "; ".join(parts) or "no requests"
