"""Edge sites (and the cloud) discovered from node labels (pure: wire objects in, frozen values out).

A node takes part when it carries `continuum.io/tier` (edge or cloud); `continuum.io/site` names its site
(nodes of a tier without a site label form the site named after the tier). The same labels are the Ray node
labels the chart sets on worker groups, so a site found here is a site Ray actors can be placed on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

TIER_LABEL = "continuum.io/tier"
SITE_LABEL = "continuum.io/site"
CLUSTER_TIERS = ("edge", "cloud")
"""Tiers that run on cluster nodes; devices are never Kubernetes (or Ray) nodes."""

_SUFFIXES: dict[str, Decimal] = {
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15),
    "E": Decimal(10**18),
}  # fmt: skip


def parse_quantity(text: str | int | float) -> Decimal:
    """A Kubernetes resource quantity ("500m", "16Gi", "2") as a Decimal in base units."""
    raw = str(text).strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if raw.endswith(suffix) and raw[: -len(suffix)]:
            number, factor = raw[: -len(suffix)], _SUFFIXES[suffix]
            break
    else:
        number, factor = raw, Decimal(1)
    try:
        return Decimal(number) * factor
    except InvalidOperation as exc:
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from exc


@dataclass(frozen=True)
class NodeInfo:
    """What discovery needs of one node."""

    name: str
    tier: str
    site: str
    ready: bool
    schedulable: bool
    cpu_millis: int
    memory_bytes: int

    @classmethod
    def from_wire(cls, node: Mapping[str, Any]) -> NodeInfo:
        """Parse a v1 Node JSON object (labels, Ready condition, unschedulable, allocatable)."""
        metadata = node.get("metadata") or {}
        labels = metadata.get("labels") or {}
        status = node.get("status") or {}
        conditions = status.get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        allocatable = status.get("allocatable") or {}
        tier = str(labels.get(TIER_LABEL, ""))
        return cls(
            name=str(metadata.get("name", "")),
            tier=tier,
            site=str(labels.get(SITE_LABEL) or tier),
            ready=ready,
            schedulable=not (node.get("spec") or {}).get("unschedulable", False),
            cpu_millis=int(parse_quantity(allocatable.get("cpu", "0")) * 1000),
            memory_bytes=int(parse_quantity(allocatable.get("memory", "0"))),
        )


@dataclass(frozen=True)
class Site:
    """A place work can run: one tier at one site, with its nodes and the capacity that is usable now."""

    tier: str
    name: str
    nodes: tuple[str, ...]
    ready_nodes: int
    cpu_millis: int
    """Allocatable CPU of the ready, schedulable nodes."""
    memory_bytes: int


@dataclass(frozen=True)
class Discovery:
    """The sites found, plus the labelled nodes that were ignored and why (for a log line, never silent)."""

    sites: tuple[Site, ...]
    ignored: tuple[tuple[str, str], ...]


def discover_sites(nodes: Iterable[NodeInfo]) -> Discovery:
    """Group nodes into sites by (tier, site label), sorted by tier then name; unknown tiers are ignored."""
    groups: dict[tuple[str, str], list[NodeInfo]] = {}
    ignored: list[tuple[str, str]] = []
    for node in nodes:
        if node.tier not in CLUSTER_TIERS:
            ignored.append(
                (node.name, f"{TIER_LABEL}={node.tier!r} is not one of {', '.join(CLUSTER_TIERS)}")
            )
            continue
        groups.setdefault((node.tier, node.site), []).append(node)
    sites = []
    for (tier, name), members in sorted(
        groups.items(), key=lambda kv: (CLUSTER_TIERS.index(kv[0][0]), kv[0][1])
    ):
        usable = [n for n in members if n.ready and n.schedulable]
        sites.append(
            Site(
                tier=tier,
                name=name,
                nodes=tuple(sorted(n.name for n in members)),
                ready_nodes=len(usable),
                cpu_millis=sum(n.cpu_millis for n in usable),
                memory_bytes=sum(n.memory_bytes for n in usable),
            )
        )
    return Discovery(sites=tuple(sites), ignored=tuple(ignored))


class NodeLister(Protocol):
    """The one call discovery makes (`KubeClient` provides it)."""

    def list_nodes(self, label_selector: str = "") -> list[dict[str, Any]]: ...


def discover_from_cluster(client: NodeLister) -> Discovery:
    """List the labelled nodes through `client.list_nodes` and group them into sites (blocking I/O)."""
    items = client.list_nodes(label_selector=TIER_LABEL)
    return discover_sites(NodeInfo.from_wire(item) for item in items)
