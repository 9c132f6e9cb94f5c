"""The orchestrator's own values: what devices report, what it commands, what operators see.

Decoding at the wire (`orchestrator.ingest`) produces these and encoding (`orchestrator.mqtt.encoding`,
`orchestrator.api.convert`) consumes them, so the fleet, the replanner and the lifecycle never touch
protobuf. All are frozen dataclasses with slots: they cross Ray actor boundaries by pickling.
"""

from orchestrator.domain.commands import Command, CommandBody, Drain, Rebirth
from orchestrator.domain.messages import (
    Birth,
    Capabilities,
    Death,
    DevicePlan,
    Inbound,
    LinkSample,
    Power,
    TelemetryReport,
)
from orchestrator.domain.views import (
    AlternativeView,
    DeviceDetail,
    DeviceSummary,
    PlanView,
    TierView,
)

__all__ = [
    "AlternativeView",
    "Birth",
    "Capabilities",
    "Command",
    "CommandBody",
    "Death",
    "DeviceDetail",
    "DevicePlan",
    "DeviceSummary",
    "Drain",
    "Inbound",
    "LinkSample",
    "PlanView",
    "Power",
    "Rebirth",
    "TelemetryReport",
    "TierView",
]
