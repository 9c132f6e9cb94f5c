"""Lease records: the coordination.k8s.io/v1 Lease as a frozen value, and its JSON wire form (pure).

Times on the wire are `MicroTime`: RFC 3339 in UTC with exactly six fractional digits, which the API server
parses strictly (`2006-01-02T15:04:05.000000Z07:00`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_micro_time(moment: datetime) -> str:
    """A datetime as the API's MicroTime string (converted to UTC)."""
    return moment.astimezone(UTC).strftime(MICRO_TIME)


def parse_micro_time(text: str | None) -> datetime | None:
    """A MicroTime or Time string (RFC 3339, `Z` or an offset, fraction optional) as an aware datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class LeaseRecord:
    """Who holds a Lease and since when, plus the resourceVersion it was read at (for conditional writes)."""

    name: str
    holder: str
    """holderIdentity; "" when released."""
    duration_s: int
    """leaseDurationSeconds: how long others wait after the last observed change before taking over."""
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    transitions: int = 0
    """leaseTransitions: how many times the holder changed."""
    resource_version: str = ""
    """metadata.resourceVersion; "" for a record not yet stored."""

    @classmethod
    def from_wire(cls, obj: dict[str, Any]) -> LeaseRecord:
        """Parse a Lease JSON object as the API server returns it."""
        metadata = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        return cls(
            name=str(metadata.get("name", "")),
            holder=str(spec.get("holderIdentity") or ""),
            duration_s=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=parse_micro_time(spec.get("acquireTime")),
            renew_time=parse_micro_time(spec.get("renewTime")),
            transitions=int(spec.get("leaseTransitions") or 0),
            resource_version=str(metadata.get("resourceVersion") or ""),
        )

    def to_wire(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        """The Lease JSON object for a create (no resourceVersion) or a replace (with it)."""
        metadata: dict[str, Any] = {"name": self.name}
        if self.resource_version:
            metadata["resourceVersion"] = self.resource_version
        if labels:
            metadata["labels"] = dict(labels)
        spec: dict[str, Any] = {
            "holderIdentity": self.holder,
            "leaseDurationSeconds": self.duration_s,
            "leaseTransitions": self.transitions,
        }
        if self.acquire_time is not None:
            spec["acquireTime"] = format_micro_time(self.acquire_time)
        if self.renew_time is not None:
            spec["renewTime"] = format_micro_time(self.renew_time)
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}


def claimed(
    current: LeaseRecord | None, name: str, identity: str, duration_s: int, now: datetime
) -> LeaseRecord:
    """The record `identity` writes to take or renew the lease; a change of holder moves acquire time on."""
    if current is None:
        return LeaseRecord(name, identity, duration_s, acquire_time=now, renew_time=now, transitions=0)
    if current.holder == identity:
        return replace(current, duration_s=duration_s, renew_time=now)
    return replace(
        current,
        holder=identity,
        duration_s=duration_s,
        acquire_time=now,
        renew_time=now,
        transitions=current.transitions + 1,
    )


def released(current: LeaseRecord, now: datetime) -> LeaseRecord:
    """The record a leader writes on a clean shutdown so a standby takes over at once, not after a lapse."""
    return replace(current, holder="", duration_s=1, renew_time=now)
