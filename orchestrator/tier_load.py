"""The tiers' load: what the data plane last reported per (tier, site), else what is configured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.domain.views import TierView
from orchestrator.settings import TierSettings

__all__ = ["TierLoad", "TierLoads"]


@dataclass(frozen=True, slots=True)
class TierLoad:
    """A site's load as the data plane last reported it."""

    workers: int
    capacity: int
    queue_depth: int
    utilisation: float | None


class TierLoads:
    """The latest load of every configured tier site, and the edge sites an operator drained."""

    def __init__(self, tiers: Sequence[TierSettings]) -> None:
        self.configured = list(tiers)
        self.reported: dict[tuple[str, str], TierLoad] = {}
        self.drained_sites: set[str] = set()

    def knows(self, tier: str, site: str) -> bool:
        """Whether (tier, site) is configured."""
        return any((t.tier, t.site) == (tier, site) for t in self.configured)

    def edge_sites(self) -> list[str]:
        """The configured edge sites, in configuration order."""
        return [t.site for t in self.configured if t.tier == "edge"]

    def load(self, tier: str, site: str) -> TierLoad:
        """The site's reported load, else its configured one."""
        configured = next(t for t in self.configured if (t.tier, t.site) == (tier, site))
        return self.reported.get(
            (tier, site), TierLoad(configured.workers, configured.capacity, configured.queue_depth, None)
        )

    def report(self, tier: str, site: str, load: TierLoad) -> None:
        """Record what the data plane reports for a configured site (KeyError for another)."""
        if not self.knows(tier, site):
            raise KeyError(f"no configured {tier} site {site!r}; add it under `tiers`")
        self.reported[(tier, site)] = load

    def tiers(self) -> list[TierView]:
        """Tiers with their latest load (reported by the data plane, else configured) and drain state."""
        views = []
        for t in self.configured:
            load = self.load(t.tier, t.site)
            utilisation = load.utilisation
            if utilisation is None:
                utilisation = min(1.0, load.queue_depth / max(1, load.capacity))
            views.append(
                TierView(
                    tier=t.tier,
                    site=t.site,
                    workers=load.workers,
                    capacity=load.capacity,
                    queue_depth=load.queue_depth,
                    utilisation=utilisation,
                    cost_per_hour=t.cost_per_hour,
                    drained=t.site in self.drained_sites,
                )
            )
        return views
