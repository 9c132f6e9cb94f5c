"""One device's MQTT session: bdSeq, seq, birth, telemetry, commands, death (the same for real and sim)."""

from __future__ import annotations

from agents.session.device import BirthSource, DeviceIdentity, DeviceSession, TelemetrySource

__all__ = ["BirthSource", "DeviceIdentity", "DeviceSession", "TelemetrySource"]
