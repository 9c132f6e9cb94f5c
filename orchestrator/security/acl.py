"""The broker's access-control model for one fleet, as data, a renderer and a pure evaluator.

Who may do what (username = device id, so `%u` in a Mosquitto `pattern` names the device itself):

- device `d` publishes continuum/v1/<fleet>/d/{birth,state,death} and receives continuum/v1/<fleet>/d/cmd
  and the retained continuum/v1/<fleet>/orchestrator;
- an orchestrator receives continuum/v1/<fleet>/# and publishes continuum/v1/<fleet>/+/cmd and
  continuum/v1/<fleet>/orchestrator;
- anonymous clients get nothing (the broker refuses them at connect).

`render_acl` writes it as a Mosquitto ACL file; `allows` evaluates the same rules in Python so the
model can be checked without a broker (and the Helm chart renders the same lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from protos.topics import PREFIX, validate_id

__all__ = ["Access", "AclModel", "AclRule", "render_acl", "topic_matches"]

Access = Literal["read", "write", "readwrite"]
DEVICE_PUBLISHES: tuple[str, ...] = ("birth", "state", "death")


@dataclass(frozen=True, slots=True)
class AclRule:
    """One ACL line: a `pattern` (for every user, `%u` = the user) or a `topic` for one named user."""

    access: Access
    topic: str
    user: str | None = None

    def line(self) -> str:
        """The rule as a Mosquitto ACL file line."""
        keyword = "pattern" if self.user is None else "topic"
        return f"{keyword} {self.access} {self.topic}"

    def grants(self, username: str, topic: str, access: Literal["read", "write"]) -> bool:
        """Whether this rule lets `username` read or write the concrete `topic`."""
        if self.access not in (access, "readwrite"):
            return False
        if self.user is None:
            return topic_matches(self.topic.replace("%u", username), topic)
        return self.user == username and topic_matches(self.topic, topic)


@dataclass(frozen=True, slots=True)
class AclModel:
    """The ACL of one fleet: which usernames are orchestrators; every other account is a device."""

    fleet: str
    orchestrators: tuple[str, ...]

    def __post_init__(self) -> None:
        validate_id(self.fleet, "fleet")
        for name in self.orchestrators:
            validate_id(name, "orchestrator name")

    def rules(self) -> tuple[AclRule, ...]:
        """Every rule, patterns first (they apply to all authenticated users)."""
        base = f"{PREFIX}/{self.fleet}"
        patterns = [AclRule("write", f"{base}/%u/{kind}") for kind in DEVICE_PUBLISHES]
        patterns += [AclRule("read", f"{base}/%u/cmd"), AclRule("read", f"{base}/orchestrator")]
        per_user: list[AclRule] = []
        for name in self.orchestrators:
            per_user += [
                AclRule("read", f"{base}/#", name),
                AclRule("write", f"{base}/+/cmd", name),
                AclRule("write", f"{base}/orchestrator", name),
            ]
        return (*patterns, *per_user)

    def allows(self, username: str | None, topic: str, access: Literal["read", "write"]) -> bool:
        """Whether the broker would let `username` (None: anonymous) read or write `topic`."""
        if username is None:
            return False
        return any(rule.grants(username, topic, access) for rule in self.rules())


def render_acl(model: AclModel) -> str:
    """The Mosquitto ACL file text for `model`."""
    lines = [
        f"# Continuum ACL for fleet {model.fleet!r}, written by `continuum broker config`.",
        "# Anonymous clients are refused at connect (allow_anonymous false), so no anonymous rules.",
        "# Every account: a device publishes only its own birth/state/death (%u = its username = its id)",
        "# and reads only its own commands and the fleet's orchestrator state.",
    ]
    rules = model.rules()
    lines += [rule.line() for rule in rules if rule.user is None]
    for name in model.orchestrators:
        lines += [
            "",
            "# The orchestrator: reads the whole fleet, writes commands and its own state.",
            f"user {name}",
        ]
        lines += [rule.line() for rule in rules if rule.user == name]
    return "\n".join(lines) + "\n"


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic-filter matching (`+` one level, `#` the rest, including the parent level)."""
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return index == len(filter_levels) - 1
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)
