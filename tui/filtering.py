"""The fleet filter language of the `/` prompt. Pure.

Words are ANDed. `state:online`, `tier:cloud`, `link:wifi`, `site:edge-a`, `fleet:f1` and `id:cam` match one
field (substring, case-insensitive; `tier:` matches a tier any current plan uses); a bare word matches the id,
fleet, state, link type or site. `drained` alone keeps drained devices, `pinned` devices with a pinned plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.models import DeviceRow

__all__ = ["FIELDS", "FleetFilter", "parse_filter"]

FIELDS: tuple[str, ...] = ("id", "fleet", "state", "tier", "link", "site")
"""The field names a `field:value` word may use."""


@dataclass(frozen=True, slots=True)
class FleetFilter:
    """A parsed filter: (field, needle) terms, each of which must match; field "" means any field."""

    terms: tuple[tuple[str, str], ...] = ()
    text: str = ""

    @property
    def empty(self) -> bool:
        """True when the filter keeps every device."""
        return not self.terms

    def matches(self, row: DeviceRow) -> bool:
        """Whether the device passes every term."""
        return all(_match(row, field, needle) for field, needle in self.terms)


def _match(row: DeviceRow, field: str, needle: str) -> bool:
    if field == "id":
        return needle in row.id.lower()
    if field == "fleet":
        return needle in row.fleet.lower()
    if field == "state":
        return needle in row.state.lower()
    if field == "link":
        return needle in row.link_type.lower()
    if field == "site":
        return needle in row.site.lower()
    if field == "tier":
        return any(needle in tier for tier in row.tiers_used)
    if needle == "drained" and row.drained:
        return True
    if needle == "pinned" and any(plan.pinned for plan in row.plans):
        return True
    return any(needle in value.lower() for value in (row.id, row.fleet, row.state, row.link_type, row.site))


def parse_filter(text: str) -> FleetFilter:
    """Parse the prompt text; an unknown `field:` is treated as part of a bare word, never an error."""
    terms: list[tuple[str, str]] = []
    for word in text.lower().split():
        field, sep, needle = word.partition(":")
        if sep and field in FIELDS:
            if needle:
                terms.append((field, needle))
        else:
            terms.append(("", word))
    return FleetFilter(terms=tuple(terms), text=text.strip())
