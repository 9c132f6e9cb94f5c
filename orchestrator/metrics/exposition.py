"""Prometheus exposition: a custom Collector reading the orchestrator's state at scrape time.

Owns prometheus_client. Labels are bounded (state, outcome, reason, kind, phase); never a device id.
The registry is injected, so tests get a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from orchestrator.ingest.intake import Intake
from orchestrator.metrics.stats import Histogram, LoopStats

__all__ = ["MetricsServer", "OrchestratorCollector", "start_metrics_server"]


class _Source(Protocol):
    stats: LoopStats
    intake: Intake
    started_s: float

    @property
    def mqtt(self) -> Any: ...

    def state_counts(self) -> dict[str, int]: ...


def _histogram(
    name: str, doc: str, h: Histogram, labels: dict[str, str] | None = None
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), h.cumulative(), h.total)
    return family


class OrchestratorCollector(Collector):
    """Builds every continuum_ metric from the orchestrator's counters when scraped."""

    def __init__(self, source: _Source) -> None:
        self._source = source

    # Over 60 lines: one metric family after another, in exposition order: split, the list of metrics would
    # scatter.
    def collect(self) -> Iterator[Metric]:
        """The current values."""
        src = self._source
        stats, intake = src.stats, src.intake
        devices = GaugeMetricFamily("continuum_devices", "Devices by session state", labels=["state"])
        for state, n in sorted(src.state_counts().items()):
            devices.add_metric([state], n)
        yield devices
        telemetry = CounterMetricFamily(
            "continuum_telemetry_messages", "Control-plane messages handled, by outcome", labels=["outcome"]
        )
        for outcome, n in sorted(stats.outcomes.items()):
            telemetry.add_metric([outcome], n)
        for reason, n in sorted(intake.rejected.items()):
            telemetry.add_metric([f"rejected_{reason}"], n)
        telemetry.add_metric(["dropped_queue_full"], intake.dropped)
        yield telemetry
        received = CounterMetricFamily("continuum_mqtt_messages_received", "MQTT messages received")
        received.add_metric([], intake.received)
        yield received
        rejected = CounterMetricFamily(
            "continuum_ingest_rejected", "Inbound messages refused, by reason", labels=["reason"]
        )
        for reason in ("undecodable", "wrong_topic", "oversized", "unknown_version", "non_finite"):
            rejected.add_metric([reason], intake.rejected.get(reason, 0))
        yield rejected
        replans = CounterMetricFamily("continuum_replans", "(device, model) plans evaluated")
        replans.add_metric([], stats.replans)
        yield replans
        switches = CounterMetricFamily("continuum_plan_switches", "Plans replaced after hysteresis")
        switches.add_metric([], stats.switches)
        yield switches
        commands = CounterMetricFamily(
            "continuum_commands_published", "Commands sent to devices, by kind", labels=["kind"]
        )
        for kind, n in sorted(stats.commands.items()):
            commands.add_metric([kind], n)
        yield commands
        failures = CounterMetricFamily("continuum_publish_failures", "Commands that could not be published")
        failures.add_metric([], stats.publish_failures)
        yield failures
        errors = CounterMetricFamily("continuum_loop_errors", "Control-loop steps that failed")
        errors.add_metric([], stats.errors)
        yield errors
        yield _histogram(
            "continuum_decision_latency_seconds",
            "Time from telemetry arrival to the PlanUpdate it caused being published",
            stats.decision_latency,
        )
        phases = HistogramMetricFamily(
            "continuum_loop_phase_duration_seconds", "Duration of control-loop phases", labels=["phase"]
        )
        for phase, h in sorted(stats.phases.items()):
            phases.add_metric([phase], h.cumulative(), h.total)
        yield phases
        lag = GaugeMetricFamily(
            "continuum_ingest_lag_seconds", "Queueing delay of the last batch's oldest message"
        )
        lag.add_metric([], intake.last_lag_s)
        yield lag
        queued = GaugeMetricFamily("continuum_ingest_queue_messages", "Messages waiting for the control loop")
        queued.add_metric([], len(intake))
        yield queued
        sessions = [c for c in (src.mqtt, getattr(src, "telemetry_mqtt", None)) if c is not None]
        up = GaugeMetricFamily("continuum_broker_connected", "1 while every MQTT session is up")
        up.add_metric([], 1 if sessions and all(c.connected for c in sessions) else 0)
        yield up
        reconnects = CounterMetricFamily("continuum_broker_disconnects", "MQTT sessions lost")
        reconnects.add_metric([], sum(c.disconnects for c in sessions))
        yield reconnects
        uptime = GaugeMetricFamily("continuum_uptime_seconds", "Seconds since the orchestrator started")
        uptime.add_metric([], max(0.0, time.time() - src.started_s) if src.started_s else 0.0)
        yield uptime


class MetricsServer:
    """A running /metrics endpoint."""

    def __init__(self, server: Any, thread: threading.Thread, port: int) -> None:
        self._server, self._thread, self.port = server, thread, port

    def shutdown(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(
    source: _Source, host: str, port: int, registry: CollectorRegistry | None = None
) -> MetricsServer:
    """Serve /metrics for `source` on host:port (0 picks a free port) with its own registry."""
    registry = registry or CollectorRegistry()
    registry.register(OrchestratorCollector(source))
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(server, thread, server.server_address[1])
