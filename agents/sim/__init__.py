"""The simulated fleet: N virtual devices in one process, speaking the real protocol.

Public API (used by `continuum demo`, the benchmarks and the tests)::

    from agents.sim import SimulatedFleet

    fleet = SimulatedFleet(
        broker_host="127.0.0.1",
        broker_port=1883,
        fleet="demo",
        n_devices=100,
        traces=None,                  # Trace objects, trace file paths or shipped names; None = all shipped
        device_classes=None,          # e.g. ["rpi4", "jetson-gpu", "laptop"]; None = rpi4, jetson-cpu,
                                      # jetson-gpu, laptop (round-robin)
        telemetry_interval_s=1.0,
        state_dir=None,               # a folder for the shared store-and-forward buffer; None = no buffering
    )
    await fleet.start()               # creates the devices and starts connecting (returns quickly)
    await fleet.wait_online(30)       # optional: wait until every device has a session
    ...                               # fleet.devices, fleet.online_count, fleet.counters()
    await fleet.stop()                # every device publishes its death and disconnects

    await fleet.run()                 # start() and block until stop() is called from elsewhere

Devices are named `sim-000`, `sim-001`, ... (keyword `id_prefix`), attached to site `site-a` (keyword
`site`), each with its own MQTT connection and last will. A device's link estimate comes from its trace
(sampled at a random phase) through the real `BandwidthEstimator`; its class sets the birth's
`device_class` and `speed_factor` (see agents.device_classes for the measured figures and their source).

Traces: `load_trace(path, fmt="auto"|"two_column"|"mahimahi"|"csv", column=None) -> Trace`, and
`shipped_trace(name)` for the MIT-licensed samples in agents/sim/data (see its README).
"""

from __future__ import annotations

from agents.sim.fleet import SimulatedDevice, SimulatedFleet
from agents.sim.traces import SHIPPED_TRACES, Trace, TraceError, load_trace, shipped_trace

__all__ = [
    "SHIPPED_TRACES",
    "SimulatedDevice",
    "SimulatedFleet",
    "Trace",
    "TraceError",
    "load_trace",
    "shipped_trace",
]
