"""Small pure formatters shared by the screens: sparklines, split bars, durations, figures.

Each returns plain strings or (text, style) pieces so it can be tested without a terminal and used both
by the Line-API fleet table and by ordinary widgets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

__all__ = [
    "STATE_STYLES",
    "TIER_GLYPHS",
    "TIER_STYLES",
    "Piece",
    "fmt_ago",
    "fmt_bytes",
    "fmt_cost",
    "fmt_ms",
    "sparkline",
    "split_bar",
    "split_label",
]

Piece = tuple[str, str]
"""A run of text and the Rich style it is drawn in."""

TIER_STYLES: dict[str, str] = {"device": "green", "edge": "yellow", "cloud": "dodger_blue1"}
"""The colour of each tier everywhere in the TUI (split bars, legends)."""

TIER_GLYPHS: dict[str, str] = {"device": "█", "edge": "▓", "cloud": "▒"}
"""The fill of each tier in split bars, so a bar reads without colour too."""

STATE_STYLES: dict[str, str] = {"online": "green", "stale": "yellow", "offline": "red"}
"""The colour of each device state."""

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values as block characters scaled between their min and max (blank when none)."""
    recent = list(values)[-width:]
    if not recent:
        return " " * width
    low, high = min(recent), max(recent)
    span = high - low
    chars = [
        _BLOCKS[int((v - low) / span * (len(_BLOCKS) - 1))] if span > 0 else _BLOCKS[len(_BLOCKS) // 2]
        for v in recent
    ]
    return "".join(chars).rjust(width)


def split_bar(tiers: Sequence[str], width: int) -> list[Piece]:
    """A bar `width` cells wide split device|edge|cloud in proportion to the layers each tier runs."""
    if not tiers:
        return [("·" * width, "dim")]
    counts = Counter(tiers)
    order = [t for t in ("device", "edge", "cloud") if counts[t]] + sorted(
        t for t in counts if t not in TIER_STYLES
    )
    cells: list[Piece] = []
    used = 0
    for index, tier in enumerate(order):
        share = width - used if index == len(order) - 1 else max(1, round(width * counts[tier] / len(tiers)))
        share = min(share, width - used - (len(order) - index - 1))
        cells.append((TIER_GLYPHS.get(tier, "?") * share, TIER_STYLES.get(tier, "magenta")))
        used += share
    return cells


def split_label(tiers: Sequence[str]) -> str:
    """A plan as `device×3 edge×5 cloud×2` in layer order of first appearance."""
    if not tiers:
        return "no plan"
    counts = Counter(tiers)
    return " ".join(f"{tier}×{counts[tier]}" for tier in dict.fromkeys(tiers))


def fmt_ago(now_ms: int, then_ms: int) -> str:
    """How long ago, compactly: `4s`, `12m`, `3h`, `2d`; `—` when never."""
    if then_ms <= 0:
        return "—"
    seconds = max(0, (now_ms - then_ms) // 1000)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def fmt_ms(value: float | None) -> str:
    """Milliseconds with sensible precision; `—` when unknown."""
    if value is None or value != value or value == float("inf"):
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def fmt_cost(usd: float) -> str:
    """Dollars per request, in micro-dollars when tiny."""
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd * 1e6:.1f}µ"
    return f"${usd:.3f}"


def fmt_bytes(value: int) -> str:
    """Bytes in binary units."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
