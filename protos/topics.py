"""The MQTT topic scheme of the control plane, as pure parse/format functions.

continuum/v1/<fleet>/<device>/{birth,state,death,cmd} and continuum/v1/<fleet>/orchestrator.
Fleet and device ids become topic levels, so anything that would change the topic's shape
(`/`, the wildcards `+` and `#`, NUL) or make it ambiguous is refused here, at the boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEVICE_KINDS",
    "PREFIX",
    "DeviceKind",
    "DeviceTopic",
    "InvalidId",
    "InvalidTopic",
    "OrchestratorTopic",
    "device_topic",
    "device_wildcard",
    "orchestrator_topic",
    "parse_topic",
    "validate_id",
]

PREFIX = "continuum/v1"
DeviceKind = Literal["birth", "state", "death", "cmd"]
DEVICE_KINDS: tuple[DeviceKind, ...] = ("birth", "state", "death", "cmd")
MAX_ID_LENGTH = 128
# Letters, digits and a few separators: safe as a topic level, a file name and a metric-free label.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


class InvalidId(ValueError):
    """A fleet or device id that cannot be a topic level; the message says why."""


class InvalidTopic(ValueError):
    """A topic outside the scheme (wrong prefix, depth, kind or id)."""


def validate_id(value: str, what: str = "device id") -> str:
    """Return `value` unchanged if it is a valid id, else raise InvalidId naming the problem."""
    if not value:
        raise InvalidId(f"{what} is empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidId(f"{what} is {len(value)} characters long; at most {MAX_ID_LENGTH}")
    for bad, name in (("/", "'/'"), ("+", "'+'"), ("#", "'#'"), ("\x00", "NUL")):
        if bad in value:
            raise InvalidId(f"{what} {value!r} contains {name}, which MQTT topics reserve")
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidId(
            f"{what} {value!r} must start with a letter or digit and use only letters, "
            "digits, '.', '_', ':' and '-'"
        )
    return value


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A topic about one device: its birth, state, death or command channel."""

    fleet: str
    device: str
    kind: DeviceKind

    def __str__(self) -> str:
        return f"{PREFIX}/{self.fleet}/{self.device}/{self.kind}"


@dataclass(frozen=True, slots=True)
class OrchestratorTopic:
    """The retained primary-host state topic of one fleet."""

    fleet: str

    def __str__(self) -> str:
        return f"{PREFIX}/{self.fleet}/orchestrator"


def device_topic(fleet: str, device: str, kind: DeviceKind) -> str:
    """Format a device topic, validating both ids."""
    validate_id(fleet, "fleet")
    validate_id(device)
    if kind not in DEVICE_KINDS:
        raise InvalidTopic(f"unknown topic kind {kind!r}; expected one of {DEVICE_KINDS}")
    return str(DeviceTopic(fleet, device, kind))


def orchestrator_topic(fleet: str) -> str:
    """Format the orchestrator state topic of a fleet."""
    validate_id(fleet, "fleet")
    return str(OrchestratorTopic(fleet))


def device_wildcard(fleet: str | None, kind: DeviceKind | Literal["+"]) -> str:
    """A subscription filter for one kind of device topic in one fleet (or every fleet)."""
    fleet_level = "+" if fleet is None else validate_id(fleet, "fleet")
    return f"{PREFIX}/{fleet_level}/+/{kind}"


def parse_topic(topic: str) -> DeviceTopic | OrchestratorTopic:
    """Parse a received topic, raising InvalidTopic for anything outside the scheme."""
    parts = topic.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != PREFIX:
        raise InvalidTopic(f"topic {topic!r} is not under {PREFIX}/")
    try:
        if len(parts) == 4 and parts[3] == "orchestrator":
            return OrchestratorTopic(validate_id(parts[2], "fleet"))
        if len(parts) != 5:
            raise InvalidTopic(f"topic {topic!r} has {len(parts)} levels; expected 5")
        fleet, device, kind = parts[2], parts[3], parts[4]
        validate_id(fleet, "fleet")
        validate_id(device)
    except InvalidId as exc:
        raise InvalidTopic(f"topic {topic!r}: {exc}") from exc
    if kind not in DEVICE_KINDS:
        raise InvalidTopic(f"topic {topic!r} has unknown kind {kind!r}")
    return DeviceTopic(fleet, device, kind)
